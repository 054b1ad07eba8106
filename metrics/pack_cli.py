"""`python -m metrics pack`: the economy meeting's pack written to a folder.

Without --as the pack is made for nobody in particular: aggregates only, never case
rows (metrics.access's administration rules). With --as EMAIL it is that person's pack:
the email is resolved like a login against the newest extract in the extracts folder
(metrics.access.viewer_for_email), then looked up again in the chosen extract by
employee id; their scope and case rows apply, and writing a pack with case rows is
logged in the audit log as made by the command line ("cli:pack") on their behalf.
The pack carries the notes of the extract's meeting and the open decisions of earlier ones
(metrics.notes.pack_notes) that the person may read; without --as only KPI and account notes.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import Any

import polars as pl

from metrics.access import Viewer, aggregate_root, viewer_for_email, viewer_for_employee
from metrics.audit import AuditEvent, append
from metrics.extract import Extract
from metrics.loader import list_extracts, load_extract
from metrics.meeting import agenda
from metrics.notes import pack_notes
from metrics.org import org_tree
from metrics.pack import build_pack, comments_from_notes
from metrics.scorecard import load_scorecard

AUDIT_PAGE = "cli:pack"
# Nobody's login: the administration rules give aggregate figures and no case rows.
AGGREGATES_ONLY = Viewer(None, "kommandolinjen", "administration", None)


class PackError(ValueError):
    """A pack that can't be made; the message is one line for stderr."""


def _previous(extract: Path, now: Extract) -> Extract | None:
    older = [p for d, p in list_extracts(extract.resolve().parent) if d < now.as_of]  # newest first
    return load_extract(older[0]) if older else None


def resolve_viewer(extract: Path, now: Extract, email: str) -> Viewer:
    """The person with this login email in the newest extract of the folder, as the chosen
    extract knows them (their role and unit may have changed)."""
    found = list_extracts(extract.resolve().parent)  # newest first
    newest = load_extract(found[0][1]) if found and found[0][1].resolve() != extract.resolve() else now
    person = viewer_for_email(newest, email)
    if person is None:
        raise PackError(
            f"--as {email!r}: no employee with that login email is employed in the newest extract "
            f"({newest.as_of.isoformat()})"
        )
    assert person.employee_id is not None
    known = viewer_for_employee(now, person.employee_id)
    if known is None:
        raise PackError(
            f"--as {email!r}: {person.name} is not employed in the extract {now.as_of.isoformat()}"
        )
    return replace(known, email=person.email)


def run_pack(args: argparse.Namespace) -> dict[str, Any]:
    now = load_extract(args.extract)
    as_of = args.as_of or now.as_of
    if as_of > now.as_of:
        raise PackError(f"--as-of {as_of.isoformat()} is after the extract's as_of {now.as_of.isoformat()}")
    viewer = AGGREGATES_ONLY if args.as_email is None else resolve_viewer(args.extract, now, args.as_email)
    tree = org_tree(now)
    unit = args.unit or aggregate_root(now, viewer)
    if unit not in tree:
        raise PackError(f"unknown unit: {unit!r} is not in org_units of the extract")
    prev = load_extract(args.previous) if args.previous else _previous(args.extract, now)
    a = agenda(now, prev, unit, viewer, load_scorecard(args.scorecard), as_of)
    notes = pack_notes(now, viewer, unit, now.as_of, page=AUDIT_PAGE)
    if args.as_email is None:  # nobody's pack: KPI and account notes, never case notes
        notes = notes.filter(pl.col("subject_kind") != "case")
    pack = build_pack(a, comments_from_notes(notes))
    if args.as_email is not None and pack.case_ids:
        # logged before the files exist: no case rows leave without their audit row
        append(
            replace(
                AuditEvent.by(viewer, AUDIT_PAGE, "download", pack.case_ids, extract_as_of=now.as_of),
                target=f"mødepakke {pack.xlsx_name} og {pack.pdf_name}, dannet af kommandolinjen "
                f"på vegne af {viewer.email or viewer.name}",
            )
        )
    args.out.mkdir(parents=True, exist_ok=True)
    xlsx, pdf = args.out / pack.xlsx_name, args.out / pack.pdf_name
    xlsx.write_bytes(pack.xlsx)
    pdf.write_bytes(pack.pdf)
    return {
        "xlsx": str(xlsx),
        "pdf": str(pdf),
        "unit": unit,
        "as_of": as_of.isoformat(),
        "previous": None if prev is None else prev.as_of.isoformat(),
        "as": viewer.email,
        "case_rows": len(pack.case_ids),
    }
