"""ui.export (Excel/CSV bytes read back) and ui.tables' grid options (no JS functions)."""

from __future__ import annotations

import io
import json
from datetime import date, datetime

import openpyxl
import polars as pl
import pytest

from ui.export import ColumnSpec, excel_format, to_csv, to_xlsx
from ui.tables import grid_frame, grid_options, value_formatter

FRAME = pl.DataFrame(
    {
        "name": ["Team A", '=HYPERLINK("x")', "Team B"],
        "amount": [1234567.891, None, -2500.0],
        "share": [87.5, 12.25, None],
        "n": [3, None, 1200],
        "day": [date(2024, 6, 14), None, date(2023, 1, 2)],
        "at": [datetime(2024, 6, 14, 9, 30), None, datetime(2024, 1, 1, 23, 59)],
        "ignored": [1, 2, 3],
    }
)
COLUMNS = {
    "name": ColumnSpec("Navn"),
    "amount": ColumnSpec("Beløb", "dkk"),
    "share": ColumnSpec("Andel", "pct"),
    "n": ColumnSpec("Antal", "int"),
    "day": ColumnSpec("Dato", "date"),
    "at": ColumnSpec("Modtaget", "datetime"),
}
FILTERS = {"Enhed": "Team A", "Opgørelsesdato": "14. jun. 2024"}


def _sheet() -> openpyxl.worksheet.worksheet.Worksheet:
    wb = openpyxl.load_workbook(io.BytesIO(to_xlsx(FRAME, COLUMNS, "Økonomi pr. konto", FILTERS)))
    return wb.active


def test_xlsx_title_and_filters_above_table() -> None:
    ws = _sheet()
    assert ws["A1"].value == "Økonomi pr. konto"
    # one line per filter, in order, then an empty row, then the header on row 5
    assert (ws["A2"].value, ws["B2"].value) == ("Enhed:", "Team A")
    assert (ws["A3"].value, ws["B3"].value) == ("Opgørelsesdato:", "14. jun. 2024")
    assert ws["A4"].value is None
    assert [c.value for c in ws[5]] == ["Navn", "Beløb", "Andel", "Antal", "Dato", "Modtaget"]


def test_xlsx_values_unrounded_with_danish_formats() -> None:
    ws = _sheet()
    row = [c for c in ws[6]]
    assert row[0].value == "Team A"
    assert row[1].value == pytest.approx(1234567.891)  # unrounded: the format rounds on screen
    assert row[1].number_format == '#,##0 "kr."'
    assert row[2].value == 87.5 and row[2].number_format == '0.0 "%"'
    assert row[3].value == 3 and row[3].number_format == "#,##0"
    assert row[4].value == datetime(2024, 6, 14)  # Excel stores dates as datetimes
    assert row[4].number_format == "[$-406]d. mmm yyyy"
    assert row[5].value == datetime(2024, 6, 14, 9, 30)
    assert ws.max_row == 8  # 3 data rows after the header on row 5
    # nulls stay empty cells, not 0
    assert ws["B7"].value is None and ws["C8"].value is None
    assert ws["B8"].value == -2500.0


def test_xlsx_text_from_data_is_never_a_formula() -> None:
    ws = _sheet()
    cell = ws["A7"]
    assert cell.data_type == "s"
    # prefixed like the CSV's: a user who edits the cell in Excel does not turn it into a formula
    assert cell.value == '\'=HYPERLINK("x")'


@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_xlsx_formula_starts_are_prefixed_in_cells_and_filters(start: str) -> None:
    frame = pl.DataFrame({"name": [f"{start}1+1", "ok"]})
    raw = to_xlsx(frame, {"name": ColumnSpec("Navn")}, "T", {"Enhed": f"{start}SUM(A1)"})
    ws = openpyxl.load_workbook(io.BytesIO(raw)).active
    # A1 title, A2/B2 the filter, row 3 empty, row 4 header, rows 5-6 data
    assert ws["B2"].value == f"'{start}SUM(A1)"
    assert (ws["A5"].value, ws["A6"].value) == (f"'{start}1+1", "ok")


def test_csv_for_danish_excel() -> None:
    raw = to_csv(FRAME, COLUMNS)
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM
    lines = raw[3:].decode("utf-8").split("\r\n")
    assert lines[0] == "Navn;Beløb;Andel;Antal;Dato;Modtaget"
    # decimal comma, no thousands separator, ISO dates, the extra column left out
    assert lines[1] == "Team A;1234567,891;87,5;3;2024-06-14;2024-06-14 09:30"
    # a leading "=" is neutralised with an apostrophe (then quoted: it holds quotes); nulls are empty
    assert lines[2] == '"\'=HYPERLINK(""x"")";;12,25;;;'
    assert lines[3] == "Team B;-2500;;1200;2023-01-02;2024-01-01 23:59"


def test_excel_formats_follow_decimals() -> None:
    assert excel_format(ColumnSpec("x", "dkk", decimals=2)) == '#,##0.00 "kr."'
    assert excel_format(ColumnSpec("x", "pct", decimals=0)) == '0 "%"'
    assert excel_format(ColumnSpec("x", "num")) == "#,##0.0"
    assert excel_format(ColumnSpec("x")) is None
    assert excel_format(ColumnSpec("x", "month")) == "[$-406]mmm yyyy"


def test_month_column_is_a_date_in_excel_and_iso_in_csv() -> None:
    df = pl.DataFrame({"m": [date(2024, 3, 1)]})
    ws = openpyxl.load_workbook(io.BytesIO(to_xlsx(df, {"m": ColumnSpec("Måned", "month")}, "T", {}))).active
    # no filters: title, empty row, header on row 3
    assert ws["A3"].value == "Måned"
    assert ws["A4"].value == datetime(2024, 3, 1) and ws["A4"].number_format == "[$-406]mmm yyyy"
    assert (
        to_csv(df, {"m": ColumnSpec("Måned", "month")}).decode("utf-8-sig").split("\r\n")[1] == "2024-03-01"
    )


def test_missing_column_is_an_error() -> None:
    with pytest.raises(KeyError, match="nope"):
        to_csv(FRAME, {"nope": ColumnSpec("Nej")})


def test_grid_options_are_plain_json_without_js_functions() -> None:
    opts = grid_options(COLUMNS, selectable=True)
    text = json.dumps(opts)  # fails on anything that is not plain data
    assert "::JSCODE::" not in text and "function" not in text
    defs = {d["field"]: d for d in opts["columnDefs"]}
    assert defs["amount"]["filter"] == "agNumberColumnFilter"
    assert defs["day"]["cellDataType"] == "dateString"
    assert "valueFormatter" not in defs["name"]  # text is shown as is
    assert opts["rowSelection"]["mode"] == "singleRow"
    assert "rowSelection" not in grid_options(COLUMNS)


def test_value_formatter_keeps_raw_value_and_formats_in_danish() -> None:
    fmt = value_formatter(ColumnSpec("Beløb", "dkk"))
    assert fmt is not None and "toLocaleString('da-DK'" in fmt and "' kr.'" in fmt


def test_grid_frame_keeps_numbers_and_iso_dates() -> None:
    g = grid_frame(FRAME, COLUMNS)
    assert g.columns == list(COLUMNS)
    assert g.schema["amount"] == pl.Float64  # numeric, so the grid sorts numerically
    assert g["day"].to_list() == ["2024-06-14", None, "2023-01-02"]
    assert g["at"][0] == "2024-06-14T09:30:00"
