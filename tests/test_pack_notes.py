"""The meeting pack carries what leaders wrote (metrics.notes.pack_notes through
metrics.pack.comments_from_notes): this meeting's notes on the unit and its child units and
the open decisions of earlier meetings, in the Excel sheet "Kommentarer og beslutninger",
in the PDF's comments part, and from `python -m metrics pack` (case notes only with --as).
On the tiny extracts of tests/test_meeting.py: tl is team leader of A (cases c1, c3)."""

from __future__ import annotations

import io
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl

from metrics import notes
from metrics.access import Viewer, viewer_for_employee
from metrics.extract import Extract
from metrics.meeting import agenda
from metrics.notes import Subject
from metrics.pack import COMMENT_COLUMNS, build_pack, comments_from_notes
from metrics.scorecard import Scorecard
from tests.test_cli_pack import root, run  # noqa: F401 - fixture
from tests.test_meeting import BEFORE, NOW, before, card, now  # noqa: F401 - fixtures
from tests.test_pack import pdf_pages, table


def tove(ex: Extract) -> Viewer:
    v = viewer_for_employee(ex, "tl")
    assert v is not None
    return v


def write_notes(ex: Extract, db: str | None = None) -> dict[str, str]:
    """A KPI explanation and an account decision of this meeting, a case review note, an
    open decision and a done one from the meeting before; returns their ids."""
    tl = tove(ex)
    kpi = notes.add_note(
        ex, tl, Subject.kpi("frister", "A"), NOW, "explanation", "=SUM(A1) to sager ventede", path=db
    )
    acc = notes.add_note(
        ex, tl, Subject.account("5.28.21", "A"), NOW, "decision", "Gennemgå plejefamilier",
        owner="Ole", due=date(2024, 7, 1), status="i_gang", path=db,
    )  # fmt: skip
    case = notes.add_note(ex, tl, Subject.case(ex, "c1"), NOW, "case_review", "Sagsnote om c1", path=db)
    old = notes.add_note(
        ex, tl, Subject.kpi("sager", "A"), BEFORE, "decision", "Ansæt vikar", owner="Tove",
        due=date(2024, 6, 30), path=db,
    )  # fmt: skip
    done = notes.add_note(
        ex, tl, Subject.kpi("sager", "A"), BEFORE, "decision", "Allerede gjort", owner="Tove",
        due=date(2024, 6, 1), status="gennemfoert", path=db,
    )  # fmt: skip
    return {
        "kpi": kpi.note_id,
        "account": acc.note_id,
        "case": case.note_id,
        "old": old.note_id,
        "done": done.note_id,
    }


def test_comments_from_notes_maps_every_column(now: Extract) -> None:  # noqa: F811
    write_notes(now)
    c = comments_from_notes(notes.pack_notes(now, tove(now), "A", NOW))
    assert dict(c.schema) == COMMENT_COLUMNS
    by_text = {r["text"]: r for r in c.iter_rows(named=True)}
    # this meeting's three notes and the open decision; the done one is not carried
    assert set(by_text) == {
        "=SUM(A1) to sager ventede",
        "Gennemgå plejefamilier",
        "Sagsnote om c1",
        "Ansæt vikar",
    }
    d = by_text["Gennemgå plejefamilier"]
    assert (d["subject_kind"], d["subject_id"], d["unit_id"], d["kind"]) == (
        "account",
        "5.28.21",
        "A",
        "decision",
    )
    assert (d["author_name"], d["owner"], d["due_on"], d["status"], d["version"], d["period"]) == (
        "Tove Leder", "Ole", date(2024, 7, 1), "I gang", 1, NOW,
    )  # fmt: skip
    assert abs((datetime.now(UTC) - d["at_utc"]).total_seconds()) < 120
    o = by_text["Ansæt vikar"]
    assert (o["status"], o["period"]) == ("Ikke startet", BEFORE)
    assert by_text["=SUM(A1) to sager ventede"]["status"] is None


def test_the_pack_shows_the_notes_and_open_decisions(
    now: Extract,  # noqa: F811
    before: Extract,  # noqa: F811
    card: Scorecard,  # noqa: F811
) -> None:
    write_notes(now)
    tl = tove(now)
    a = agenda(now, before, "A", tl, card)
    pack = build_pack(a, comments_from_notes(notes.pack_notes(now, tl, "A", NOW)))
    assert "c1" in pack.case_ids  # the case note's case is in the files: its download is audited
    ws = openpyxl.load_workbook(io.BytesIO(pack.xlsx))["Kommentarer og beslutninger"]
    _, headers, rows = table(ws, "Emne")
    assert headers[4] == "Tekst" and headers[-1] == "Møde (udtræk)"
    # text that starts like a formula is written formula-safe (metrics.export's leading ')
    texts = [r[4].value.removeprefix("'") for r in rows]
    assert sorted(texts) == sorted(
        ["=SUM(A1) to sager ventede", "Gennemgå plejefamilier", "Sagsnote om c1", "Ansæt vikar"]
    )
    formula = next(r for r in rows if "=SUM" in r[4].value)
    assert formula[4].data_type == "s" and formula[4].value == "'=SUM(A1) to sager ventede"
    old = next(r for r in rows if r[4].value == "Ansæt vikar")
    assert (old[3].value, old[7].value, old[9].value) == ("Beslutning", "Tove", "Ikke startet")
    assert old[-1].value.date() == BEFORE
    pages = pdf_pages(pack.pdf)
    part = " ".join(p for p in pages if "Kommentarer og beslutninger" in p)
    for text in ("=SUM(A1) to sager ventede", "Gennemgå plejefamilier", "Sagsnote om c1", "Ansæt vikar"):
        assert text in part, text
    assert "Beslutning fra mødet 31. maj 2024" in part  # the open decision names its meeting
    assert "Allerede gjort" not in part
    assert "Ole · 1. jul. 2024" in part and "I gang" in part


def test_the_command_line_pack_carries_the_notes_case_notes_only_with_as(
    root: Path,  # noqa: F811
    tmp_path: Path,
    now: Extract,  # noqa: F811
) -> None:
    db = f"sqlite:///{tmp_path / 'audit.sqlite'}"  # the database run() points the command at
    write_notes(now, db)
    p = run(root, tmp_path)
    assert p.returncode == 0, p.stderr
    wb = openpyxl.load_workbook(tmp_path / "out" / "moedepakke_kommune_2024-06-14.xlsx")
    _, _, rows = table(wb["Kommentarer og beslutninger"], "Emne")
    assert sorted(r[4].value.removeprefix("'") for r in rows) == sorted(
        ["=SUM(A1) to sager ventede", "Gennemgå plejefamilier", "Ansæt vikar"]
    )
    p = run(root, tmp_path, "--as", "tl@x.dk")
    assert p.returncode == 0, p.stderr
    wb = openpyxl.load_workbook(tmp_path / "out" / "moedepakke_team-a_2024-06-14.xlsx")
    _, _, rows = table(wb["Kommentarer og beslutninger"], "Emne")
    assert "Sagsnote om c1" in [r[4].value for r in rows]
    with sqlite3.connect(tmp_path / "audit.sqlite") as conn:
        pages = conn.execute(
            "SELECT e.page, e.action FROM audit_event e JOIN audit_case c ON c.event_id = e.event_id "
            "WHERE c.case_id = 'c1'"
        ).fetchall()
    assert ("cli:pack", "view") in pages  # reading the case note for the pack
    assert ("cli:pack", "download") in pages


def test_a_comment_frame_without_period_still_makes_the_sheet(
    now: Extract,  # noqa: F811
    before: Extract,  # noqa: F811
    card: Scorecard,  # noqa: F811
) -> None:
    """Frames made before the period column existed (COMMENT_COLUMNS without it) still work."""
    ids = write_notes(now)
    tl = tove(now)
    frame = notes.notes_frame([notes.note_history(now, tl, ids["kpi"])[-1]])
    c = comments_from_notes(frame).drop("period")
    ws = openpyxl.load_workbook(io.BytesIO(build_pack(agenda(now, before, "A", tl, card), c).xlsx))[
        "Kommentarer og beslutninger"
    ]
    _, _, rows = table(ws, "Emne")
    assert [(r[4].value, r[-1].value) for r in rows] == [("'=SUM(A1) to sager ventede", None)]
