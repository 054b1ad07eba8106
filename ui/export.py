"""Table downloads: Excel (.xlsx, Danish number formats, the filters in force above the
table) and CSV for Danish Excel (semicolon, decimal comma, UTF-8 with BOM).

Pure functions on a Polars frame and the column specs of ui.tables; no Streamlit here.
Values are written unrounded; the formats do the rounding on screen.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import polars as pl
import xlsxwriter

Kind = Literal["text", "dkk", "pct", "int", "num", "date", "datetime", "month"]
NUMERIC_KINDS: tuple[Kind, ...] = ("dkk", "pct", "int", "num")


@dataclass(frozen=True)
class ColumnSpec:
    header: str  # Danish header
    kind: Kind = "text"
    decimals: int | None = None  # None: the kind's default (kr. 0, % 1, num 1)


DEFAULT_DECIMALS: dict[str, int] = {"dkk": 0, "pct": 1, "int": 0, "num": 1}

# [$-406] = Danish locale for the month names whatever language Excel runs in.
_DATE_FORMAT = "[$-406]d. mmm yyyy"
_DATETIME_FORMAT = "[$-406]d. mmm yyyy hh:mm"
_MONTH_FORMAT = "[$-406]mmm yyyy"
SHEET_NAME = "Data"
# A text cell starting with one of these is a formula to a spreadsheet (CSV injection).
_FORMULA_START = r"^[=+\-@\t\r]"


def decimals_of(spec: ColumnSpec) -> int:
    return DEFAULT_DECIMALS.get(spec.kind, 0) if spec.decimals is None else spec.decimals


def excel_format(spec: ColumnSpec) -> str | None:
    """The Excel number format of a column (None for text)."""
    dec = decimals_of(spec)
    num = "#,##0" + ("." + "0" * dec if dec else "")
    if spec.kind == "dkk":
        return f'{num} "kr."'
    if spec.kind == "pct":
        return ("0." + "0" * dec if dec else "0") + ' "%"'
    if spec.kind in ("int", "num"):
        return num
    if spec.kind == "date":
        return _DATE_FORMAT
    if spec.kind == "datetime":
        return _DATETIME_FORMAT
    if spec.kind == "month":
        return _MONTH_FORMAT
    return None


def _check_columns(df: pl.DataFrame, columns: Mapping[str, ColumnSpec]) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise KeyError(f"columns not in frame: {', '.join(missing)}")
    headers = [s.header for s in columns.values()]
    if len(set(headers)) != len(headers):
        raise ValueError("column headers must be unique")


def typed(name: str, spec: ColumnSpec) -> pl.Expr:
    """Column `name` cast to the dtype its kind stands for."""
    col = pl.col(name)
    if spec.kind in ("dkk", "pct", "num"):
        return col.cast(pl.Float64)
    if spec.kind == "int":
        return col.cast(pl.Int64)
    if spec.kind in ("date", "month"):
        return col.cast(pl.Date)
    if spec.kind == "datetime":
        return col.cast(pl.Datetime("us"))
    return col.cast(pl.String)


def _export_frame(df: pl.DataFrame, columns: Mapping[str, ColumnSpec]) -> pl.DataFrame:
    """The listed columns in order, typed by kind, renamed to their Danish headers."""
    _check_columns(df, columns)
    return df.select(typed(name, spec).alias(spec.header) for name, spec in columns.items())


def _defused(out: pl.DataFrame, columns: Mapping[str, ColumnSpec]) -> pl.DataFrame:
    """Text cells that a spreadsheet would read as a formula get a leading apostrophe."""
    text_cols = [s.header for s in columns.values() if s.kind == "text"]
    return out.with_columns(
        pl.when(pl.col(c).str.contains(_FORMULA_START))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c in text_cols
    )


def _defused_text(value: str) -> str:
    return "'" + value if re.match(_FORMULA_START, value) else value


def to_xlsx(
    df: pl.DataFrame,
    columns: Mapping[str, ColumnSpec],
    title: str,
    filters: Mapping[str, str],
) -> bytes:
    """An Excel workbook: the title in A1, one "Filter: value" line per filter, an empty
    row, then the table with Danish headers, autofilter and the kinds' number formats."""
    out = _defused(_export_frame(df, columns), columns)
    buf = io.BytesIO()
    # Names and notes come from data: never let a text cell become a formula or a link.
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    ws = wb.add_worksheet(SHEET_NAME)
    ws.write_string(0, 0, _defused_text(title), wb.add_format({"bold": True, "font_size": 14}))
    label = wb.add_format({"bold": True})
    for i, (key, value) in enumerate(filters.items(), start=1):
        ws.write_string(i, 0, f"{key}:", label)
        ws.write_string(i, 1, _defused_text(value))
    first_row = len(filters) + 2
    formats = {spec.header: fmt for spec in columns.values() if (fmt := excel_format(spec)) is not None}
    out.write_excel(
        workbook=wb,
        worksheet=ws,
        position=(first_row, 0),
        table_style="Table Style Light 9",
        column_formats=formats,  # type: ignore[arg-type]
        header_format={"bold": True},
        autofit=True,
        freeze_panes=(first_row + 1, 0),
    )
    wb.close()
    return buf.getvalue()


def to_csv(df: pl.DataFrame, columns: Mapping[str, ColumnSpec]) -> bytes:
    """CSV that Danish Excel opens right: `;` separator, decimal comma, UTF-8 with BOM,
    ISO dates, empty cells for nulls, unrounded numbers."""
    out = _defused(_export_frame(df, columns), columns)
    buf = io.BytesIO()
    out.write_csv(
        buf,
        include_bom=True,
        separator=";",
        decimal_comma=True,
        line_terminator="\r\n",
        date_format="%Y-%m-%d",
        datetime_format="%Y-%m-%d %H:%M",
        float_scientific=False,
    )
    return buf.getvalue()


# --- a download whose audit row could not be written ----------------------------------------

REFUSED_TEXT = (
    "Download afvist: revisionsloggen kunne ikke skrives, så filen med sagsdata er ikke udleveret. "
    "Prøv igen senere, eller kontakt IT-support."
)


class DownloadRefused(RuntimeError):
    """Raised by a deferred download's data function when its audit row cannot be written."""


def refusal_xlsx() -> bytes:
    """An Excel file that says the download was refused (and holds nothing else)."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    wb.add_worksheet(SHEET_NAME).write_string(0, 0, REFUSED_TEXT)
    wb.close()
    return buf.getvalue()


def refusal_csv() -> bytes:
    return ("\ufeff" + REFUSED_TEXT + "\r\n").encode("utf-8")


def or_refusal(make: Callable[[], bytes | str], refusal: Callable[[], bytes]) -> Callable[[], bytes | str]:
    """`make`, or the refusal file if making it was refused (the user is told, not left waiting)."""

    def data() -> bytes | str:
        try:
            return make()
        except DownloadRefused:
            return refusal()

    return data
