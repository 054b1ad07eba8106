"""`python -m metrics`: kpis, scorecard, economy, capability and validate, as specified in kpis.md;
pack (issue 8: the economy meeting's pack written to --out) and `audit verify`.

JSON on stdout. Exit 0 on success; 2 when the extract is refused (a message naming
file and column on stderr); 1 with a one-line message for anything else. Never a traceback.
`audit verify [--db URL] [--checkpoint FILE]` checks the audit log's hash chain (and the
newest checkpoint in FILE, default STYRING_AUDIT_CHECKPOINT): exit 0 intact, 1 broken (the
first broken row named on stderr), 2 when the database or the checkpoint file cannot be read.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

from metrics.capability import MEASURES, capability
from metrics.economy import economy_table
from metrics.extract import Extract
from metrics.loader import ExtractRefused, load_extract, validation_json
from metrics.org import org_tree
from metrics.registry import compute_all
from metrics.scope import Scope

EXIT_FAILURE = 1
EXIT_REFUSED = 2
CLI_GROUPINGS = ("account", "kind_id", "category", "unit")


class CliError(Exception):
    """A failure reported as one line on stderr with exit code 1."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise CliError(message)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _parser() -> _Parser:
    p = _Parser(prog="python -m metrics", description="Figures of the Styringsoverblik dashboard as JSON.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def common(sp: argparse.ArgumentParser, *, scoped: bool = True) -> None:
        sp.add_argument("--extract", required=True, type=Path, help="an extract folder (…/YYYY-MM-DD)")
        if scoped:
            sp.add_argument("--as-of", type=_date, help="reporting date, default the extract's as_of")
            sp.add_argument("--unit", help="unit_id of the subtree, default the root")
        sp.add_argument("--format", choices=["json"], default="json")

    common(sub.add_parser("kpis", help="every KPI for one unit"))
    sc = sub.add_parser("scorecard", help="the scorecard KPIs with target and status")
    common(sc)
    sc.add_argument("--scorecard", type=Path, help="scorecard TOML file, default config/scorecard.toml")
    sc.add_argument("--children", action="store_true", help="the cascade: every child unit of --unit instead")
    ec = sub.add_parser("economy", help="budget, actual, committed, expected, deviation per group")
    common(ec)
    ec.add_argument("--by", required=True, choices=CLI_GROUPINGS)
    cap = sub.add_parser("capability", help="mean, natural process limits, p05/p95 and signals of a measure")
    common(cap)
    cap.add_argument("--measure", required=True, choices=list(MEASURES))
    cap.add_argument(
        "--from", dest="start", type=_date, help="first day of the window, default as_of − 364 days"
    )
    common(sub.add_parser("validate", help="check an extract against the data contract"), scoped=False)
    pk = sub.add_parser("pack", help="write the economy meeting's pack (Excel + PDF) to --out")
    common(pk)
    pk.add_argument(
        "--previous", type=Path, help="the earlier extract, default the one just before in the same folder"
    )
    pk.add_argument("--out", required=True, type=Path, help="folder to write the two files to")
    pk.add_argument(
        "--as",
        dest="as_email",
        metavar="EMAIL",
        help="that person's pack (their scope and case rows), resolved like a login against the "
        "newest extract in the extracts folder; without it, aggregates only",
    )
    pk.add_argument("--scorecard", type=Path, help="scorecard TOML file, default config/scorecard.toml")
    au = sub.add_parser("audit", help="the audit log")
    au_sub = au.add_subparsers(dest="audit_command", required=True, parser_class=_Parser)
    ve = au_sub.add_parser("verify", help="check the audit log's hash chain and checkpoint")
    ve.add_argument("--db", help="SQLAlchemy URL or SQLite file, default STYRING_DB_URL")
    ve.add_argument(
        "--checkpoint", type=Path, help="checkpoint file or server log, default STYRING_AUDIT_CHECKPOINT"
    )
    return p


def _audit_verify(args: argparse.Namespace) -> tuple[Any, int]:
    from metrics import audit, storage

    url = storage.db_url(args.db)
    cp_file = args.checkpoint or (
        Path(os.environ[audit.CHECKPOINT_ENV]) if os.environ.get(audit.CHECKPOINT_ENV) else None
    )
    try:
        result = audit.verify(url)
        if cp_file is not None:
            cp = audit.read_checkpoint(cp_file, storage.display_url(url))
            if cp is None and result.rows:
                return {
                    **result.as_json(),
                    "ok": False,
                    "message": f"no checkpoint for this database in {cp_file}",
                }, 1
            result = audit.verify(url, cp)
    except OSError as e:
        raise AuditUnreadableError(f"checkpoint file {cp_file}: {e.strerror or e}") from None
    except audit.AuditUnreadable as e:
        raise AuditUnreadableError(str(e)) from None
    return result.as_json(), 0 if result.ok else 1


class AuditUnreadableError(Exception):
    """The audit log (or its checkpoint file) cannot be read: exit 2."""


def _resolve(ex: Extract, args: argparse.Namespace) -> tuple[str, date]:
    as_of = args.as_of or ex.as_of
    if as_of > ex.as_of:
        raise CliError(f"--as-of {as_of.isoformat()} is after the extract's as_of {ex.as_of.isoformat()}")
    tree = org_tree(ex)
    unit = args.unit or tree.root
    if unit not in tree:
        raise CliError(f"unknown unit: {unit!r} is not in org_units of the extract")
    return unit, as_of


def _run(args: argparse.Namespace) -> tuple[Any, int]:
    if args.command == "audit":
        return _audit_verify(args)
    if args.command == "validate":
        return validation_json(args.extract)
    if args.command == "pack":
        from metrics.pack_cli import run_pack

        try:
            return run_pack(args), 0
        except ValueError as e:  # ScorecardError, CompareError, bad --as: one line, exit 1
            raise CliError(str(e)) from None
        except PermissionError as e:  # AccessDenied, MeetingRefused
            raise CliError(str(e)) from None
    ex = load_extract(args.extract)
    unit, as_of = _resolve(ex, args)
    if args.command == "kpis":
        return {k: v.value for k, v in compute_all(ex, Scope.unit(unit), as_of).items()}, 0
    if args.command == "economy":
        table = economy_table(ex, Scope.unit(unit), as_of, args.by)
        return table.to_dicts(), 0
    if args.command == "capability":
        if args.start is not None and args.start > as_of:
            raise CliError(f"--from {args.start.isoformat()} is after as_of {as_of.isoformat()}")
        result = capability(ex, args.measure, Scope.unit(unit), as_of, args.start)
        return result.figures.as_json(args.measure), 0
    if args.command == "scorecard":
        from metrics.scorecard import ScorecardError, children_rows, evaluate_scorecard, load_scorecard

        try:
            card = load_scorecard(args.scorecard)
            if args.children:
                return [row.as_json() for _, rows in children_rows(ex, card, unit, as_of) for row in rows], 0
            return [row.as_json() for row in evaluate_scorecard(ex, card, unit, as_of)], 0
        except ScorecardError as e:
            raise CliError(str(e)) from None
    raise CliError(f"unknown command {args.command!r}")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        payload, code = _run(args)
        text = json.dumps(payload, ensure_ascii=False, allow_nan=False)
    except CliError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_FAILURE
    except ExtractRefused as e:
        print(f"extract refused: {e}", file=sys.stderr)
        return EXIT_REFUSED
    except AuditUnreadableError as e:
        print(f"audit log cannot be read: {' '.join(str(e).split())}", file=sys.stderr)
        return EXIT_REFUSED
    except Exception as e:  # the contract is one line, never a traceback
        print(f"error: {type(e).__name__}: {' '.join(str(e).split())}", file=sys.stderr)
        return EXIT_FAILURE
    print(text)
    if args.command == "audit":
        if code:
            print(f"audit log broken: {payload['message']}", file=sys.stderr)
        return code
    if code == EXIT_REFUSED:
        print("extract refused: " + "; ".join(_error_lines(payload)), file=sys.stderr)
    return code


def _error_lines(payload: dict[str, Any]) -> list[str]:
    return [
        f"{e['file']}" + (f", column {e['column']}" if e["column"] else "") + f": {e['message']}"
        for e in payload["errors"]
    ]
