"""metrics.pack on the tiny extracts of tests/test_meeting.py: every figure in the Excel
(read back with openpyxl) equals metrics.meeting's; the PDF's text (pypdf, page by page)
holds the scorecard's values and status words, the economy totals and the comments on
their pages; text from data is never a formula or Typst markup."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from typing import Any

import openpyxl
import polars as pl
import pytest
from pypdf import PdfReader

from metrics.export import export_file_name, slugify
from metrics.extract import Extract
from metrics.fmt import fmt_dkk, fmt_pct, fmt_value
from metrics.meeting import STATUS_WORDS, Agenda, agenda
from metrics.pack import COMMENT_COLUMNS, NO_COMMENTS, build_pack, build_scorecard_xlsx
from metrics.scorecard import Scorecard
from tests.test_meeting import ADMIN, SYSTEM, before, card, now  # noqa: F401 - fixtures

HEADER_KEYS = ["Kommune:", "Enhed:", "Udtræk:", "Opgørelsesdato:", "Sammenlignet med:"]


def comments(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=COMMENT_COLUMNS, orient="row")


COMMENTS = comments(
    [
        {"subject_kind": "kpi", "subject_id": "frister", "unit_id": "K", "kind": "explanation",
         "text": "#set text(red) *to* sager $x$ ventede på handleplan", "author_name": "Tove Leder",
         "at_utc": datetime(2024, 6, 14, 9, tzinfo=UTC), "owner": None, "due_on": None, "status": None, "version": 1},
        {"subject_kind": "account", "subject_id": "5.28.22", "unit_id": "K", "kind": "decision",
         "text": "=HYPERLINK(\"http://x\") gennemgå plejefamilier", "author_name": "Tove Leder",
         "at_utc": datetime(2024, 6, 14, 10, tzinfo=UTC), "owner": "Ole", "due_on": date(2024, 7, 1),
         "status": "i gang", "version": 2},
        {"subject_kind": "case", "subject_id": "c2", "unit_id": "B", "kind": "review_note",
         "text": "Sagsnote om c2", "author_name": "Tove Leder",
         "at_utc": datetime(2024, 6, 14, 11, tzinfo=UTC), "owner": None, "due_on": None, "status": None, "version": 1},
    ]
)  # fmt: skip


@pytest.fixture(scope="module")
def agenda_k(now: Extract, before: Extract, card: Scorecard) -> Agenda:  # noqa: F811
    return agenda(now, before, "K", SYSTEM, card)


def table(ws: Any, first_header: str) -> tuple[int, list[str], list[list[Any]]]:
    """(header row number, headers, rows) of the table whose first header cell is given."""
    for row in ws.iter_rows(min_row=1, max_row=ws.max_row):
        if row[0].value == first_header:
            r = row[0].row
            headers = [c.value for c in row if c.value is not None]
            rows = []
            for body in ws.iter_rows(min_row=r + 1, max_row=ws.max_row):
                if body[0].value is None:
                    break
                rows.append([c for c in body[: len(headers)]])
            return r, headers, rows
    raise AssertionError(f"no table starting with {first_header!r} in {ws.title}")


def test_file_names_carry_unit_and_extract_date(agenda_k: Agenda) -> None:
    assert slugify("Familierådgivningen 0-13 år") == "familieraadgivningen-0-13-aar"
    assert export_file_name("moedepakke", "Familierådgivningen 0-13 år", date(2026, 11, 27), "xlsx") == (
        "moedepakke_familieraadgivningen-0-13-aar_2026-11-27.xlsx"
    )
    pack = build_pack(agenda_k)
    assert (pack.xlsx_name, pack.pdf_name) == (
        "moedepakke_kommune_2024-06-14.xlsx",
        "moedepakke_kommune_2024-06-14.pdf",
    )


def test_excel_figures_equal_metrics(agenda_k: Agenda) -> None:
    wb = openpyxl.load_workbook(io.BytesIO(build_pack(agenda_k, COMMENTS).xlsx))
    assert wb.sheetnames == [
        "Dagsorden", "Scorecard", "Økonomi pr. konto", "Enhed × konto", "Ændringer", "Dyreste sager",
        "Kommentarer og beslutninger",
    ]  # fmt: skip
    for ws in wb.worksheets:
        # title, then who/what/when above every table
        assert ws["A1"].value and [ws.cell(i, 1).value for i in range(2, 7)] == HEADER_KEYS
        assert ws.cell(3, 2).value == "Kommune" and ws.cell(4, 2).value == "14. jun. 2024"
        assert ws.cell(6, 2).value == "31. maj 2024"
        assert ws.freeze_panes == "A9"  # header row 8 frozen

    _, headers, rows = table(wb["Økonomi pr. konto"], "Konto")
    assert headers[:7] == [
        "Konto",
        "Budget",
        "Forbrug",
        "Disponeret",
        "Forventet regnskab",
        "Afvigelse",
        "Afvigelse i % af budget",
    ]
    assert [row[0].value for row in rows] == agenda_k.accounts["label"].to_list()
    for row, want in zip(rows, agenda_k.accounts.iter_rows(named=True), strict=True):
        assert [row[i].value for i in range(1, 6)] == [
            want[c] for c in ("budget", "actual", "committed", "expected", "deviation")
        ]
        assert row[6].value == want["deviation_pct"]
        assert row[1].number_format == '#,##0 "kr."' and row[6].number_format == '0.0 "%"'
    i_alt = rows[-1]
    assert (i_alt[0].value, i_alt[4].value, i_alt[5].value, i_alt[6].value) == (
        "I alt",
        30_000,
        -15_000,
        -100,
    )
    assert i_alt[7].value == "⚠️ Over budget"  # word and icon, not only the sign

    _, headers, rows = table(wb["Enhed × konto"], "Enhed")
    assert len(rows) == agenda_k.matrix.height
    for row, want in zip(rows, agenda_k.matrix.iter_rows(named=True), strict=True):
        assert [row[0].value, row[1].value] == [want["row_label"], want["account_label"]]
        assert [row[2].value, row[3].value, row[4].value, row[5].value] == [
            want["budget"], want["expected"], want["deviation"], want["deviation_pct"],
        ]  # fmt: skip

    _, _, rows = table(wb["Scorecard"], "Perspektiv")
    for row, want in zip(rows, agenda_k.scorecard.iter_rows(named=True), strict=True):
        assert row[1].value == want["name"]
        assert row[2].value.endswith(STATUS_WORDS[want["status"]])
        assert (row[3].value, row[4].value, row[5].value) == (want["value"], want["target"], want["before"])
    # each KPI keeps its own number format: a count, then a %
    assert rows[0][3].number_format == "#,##0" and rows[2][3].number_format == '0.0 "%"'

    _, _, rows = table(wb["Dyreste sager"], "Sag")
    assert [(row[0].value, row[6].value) for row in rows] == agenda_k.top_cases.select(
        "case_id", "expected"
    ).rows()  # type: ignore[union-attr]

    ws = wb["Kommentarer og beslutninger"]
    _, _, rows = table(ws, "Emne")
    # a text that would read as a formula gets metrics.export's leading apostrophe
    texts = COMMENTS["text"].to_list()
    assert [row[4].value for row in rows] == [texts[0], "'" + texts[1], texts[2]]
    formula_like = rows[1][4]
    assert formula_like.data_type == "s" and formula_like.value.startswith("'=HYPERLINK")


def test_excel_without_case_rows_and_without_comments(now: Extract, before: Extract, card: Scorecard) -> None:  # noqa: F811
    a = agenda(now, before, "K", ADMIN, card)
    pack = build_pack(a, COMMENTS)
    assert pack.case_ids == ()
    wb = openpyxl.load_workbook(io.BytesIO(pack.xlsx))
    assert "Dyreste sager" not in wb.sheetnames
    _, _, rows = table(wb["Kommentarer og beslutninger"], "Emne")
    assert "Sagsnote om c2" not in [row[4].value for row in rows]  # a case note is case-level data
    _, _, summary = table(wb["Ændringer"], "Nyt")
    # counts for the whole unit: 1 intervention (3.000 × 12), 2 late notifications, 1 overdue deadline
    assert [(r[0].value, r[1].value, r[2].value) for r in summary] == [
        ("Nye indsatser (årlig udgift = månedlig × 12)", 1, 36_000),
        ("Underretninger ikke vurderet inden for 24 timer", 2, None),
        ("Frister overskredet", 1, None),
    ]
    empty = openpyxl.load_workbook(io.BytesIO(build_pack(a).xlsx))["Kommentarer og beslutninger"]
    assert empty["A8"].value == NO_COMMENTS


def pdf_pages(data: bytes) -> list[str]:
    """Each page's text with runs of whitespace as one space (table cells wrap lines)."""
    return [" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(data)).pages]


def page_with(pages: list[str], heading: str) -> str:
    hits = [p for p in pages if heading in p]
    assert hits, heading
    return hits[0]


def test_pdf_holds_the_figures_on_their_pages(agenda_k: Agenda) -> None:
    pack = build_pack(agenda_k, COMMENTS)
    assert pack.pdf.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(pack.pdf))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    pages = pdf_pages(pack.pdf)
    assert "Mødepakke" in pages[0] and "Kommune" in pages[0] and "14. jun. 2024" in pages[0]
    score = page_with(pages, "Scorecard Kommune")
    for r in agenda_k.scorecard.iter_rows(named=True):
        assert r["name"] in score
        assert fmt_value(r["value"], r["format"]) in score
        assert STATUS_WORDS[r["status"]] in score
    econ = page_with(pages, "Økonomi pr. konto")
    # I alt: budget 15.000, expected 30.000, deviation −15.000, −100,0 %
    for text in (fmt_dkk(15_000), fmt_dkk(30_000), fmt_dkk(-15_000), fmt_pct(-100.0), "Over budget"):
        assert text in econ, text
    assert "I alt" in page_with(pages, "Underenhed × konto")
    notes = page_with(pages, "Kommentarer og beslutninger Kommune")
    # Typst markup in a comment is printed as written, not interpreted
    assert "#set text(red) *to* sager $x$ ventede på handleplan" in notes
    assert "Sagsnote om c2" in notes


def test_pdf_without_comments_says_so(agenda_k: Agenda) -> None:
    pages = pdf_pages(build_pack(agenda_k).pdf)
    assert NO_COMMENTS in pages[-1]


def test_scorecard_download(now: Extract, card: Scorecard) -> None:  # noqa: F811
    data = build_scorecard_xlsx(now, card, "K", now.as_of, {"Enhed": "Kommune"})
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    assert ws is not None
    _, headers, rows = table(ws, "Perspektiv")
    assert headers == ["Perspektiv", "Nøgletal", "Status", "Værdi", "Mål", "Enhed for tallet"]
    # frister 2 (red), aktive sager 3 (green), expected 200 % (red)
    assert [(r[1].value, r[2].value, r[3].value, r[4].value) for r in rows] == [
        ("Overskredne frister", "🔴 Rød – ikke på mål", 2, 0),
        ("Aktive sager", "🟢 Grøn – på mål", 3, 1),
        ("Forventet i % af budget", "🔴 Rød – ikke på mål", 200, 100),
    ]
