"""Files out of the app: Excel (.xlsx, Danish number formats, the filters in force above
the table, one or many sheets) and CSV for Danish Excel (semicolon, decimal comma, UTF-8
with BOM); file names with unit and extract date; "I alt" rows; over budget as a word
and an icon.

The export layer shared by the pages (through ui.export and ui.tables) and the command
line (metrics.pack): pure functions on Polars frames, no Streamlit here. Values are
written unrounded and as numbers; the formats do the rounding on screen.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

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

# The economy's amounts as the pages, the exports and the meeting pack head them: one place.
ECONOMY_COLUMNS: dict[str, ColumnSpec] = {
    "budget": ColumnSpec("Budget", "dkk"),
    "actual": ColumnSpec("Forbrug", "dkk"),
    "committed": ColumnSpec("Disponeret", "dkk"),
    "expected": ColumnSpec("Forventet regnskab", "dkk"),
    "deviation": ColumnSpec("Afvigelse", "dkk"),
    "deviation_pct": ColumnSpec("Afvigelse i % af budget", "pct"),
    "expected_pct": ColumnSpec("Forventet i % af budget", "pct"),
}
# per case: this year's amounts
CASE_ECONOMY_COLUMNS: dict[str, ColumnSpec] = {
    "actual": ColumnSpec("Forbrug i år", "dkk"),
    "committed": ColumnSpec("Disponeret", "dkk"),
    "expected": ColumnSpec("Forventet i år", "dkk"),
}


def economy_columns(*names: str, per_case: bool = False) -> dict[str, ColumnSpec]:
    """The economy columns `names`, in that order (per case: this year's amounts)."""
    specs = CASE_ECONOMY_COLUMNS if per_case else ECONOMY_COLUMNS
    return {n: specs[n] for n in names}


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


Block = tuple[str, "pl.DataFrame | None", Mapping[str, ColumnSpec], str]  # title, table, columns, empty


@dataclass(frozen=True)
class Sheet:
    """One sheet of a workbook: a title and "Key: value" lines above a table (or, when the
    table is None or empty, the `empty` sentence in its place), then optionally `more`
    tables, each under its own bold title.

    `row_formats` maps a column to the name of a column of df whose value picks that row's
    number format from `kind_specs` (e.g. a KPI's value in %, kr. or antal); the header
    row of the first table is frozen."""

    name: str  # ≤ 31 characters, no []:*?/\\
    title: str
    header: Mapping[str, str]
    df: pl.DataFrame | None
    columns: Mapping[str, ColumnSpec]
    empty: str = "Ingen rækker."
    row_formats: Mapping[str, str] = field(default_factory=dict)
    kind_specs: Mapping[str, ColumnSpec] = field(default_factory=dict)
    more: tuple[Block, ...] = ()


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


def defused_text(value: str) -> str:
    """One text cell, prefixed like the table cells when it would read as a formula."""
    return "'" + value if re.match(_FORMULA_START, value) else value


def _workbook(buf: io.BytesIO) -> xlsxwriter.Workbook:
    # Names and notes come from data: never let a text cell become a formula or a link.
    return xlsxwriter.Workbook(
        buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )


def _write_table(
    wb: xlsxwriter.Workbook,
    ws: Any,
    row: int,
    df: pl.DataFrame | None,
    columns: Mapping[str, ColumnSpec],
    empty: str,
    *,
    freeze: bool,
    row_formats: Mapping[str, str] = {},
    kind_specs: Mapping[str, ColumnSpec] = {},
) -> int:
    """Write one table from `row`; return the first row after it."""
    if df is None or df.height == 0:
        ws.write_string(row, 0, empty)
        return row + 1
    out = _defused(_export_frame(df, columns), columns)
    formats = {spec.header: fmt for spec in columns.values() if (fmt := excel_format(spec)) is not None}
    out.write_excel(
        workbook=wb,
        worksheet=ws,
        position=(row, 0),
        table_style="Table Style Light 9",
        column_formats=formats,  # type: ignore[arg-type]
        header_format={"bold": True},
        autofit=True,
        freeze_panes=(row + 1, 0) if freeze else None,
    )
    names = list(columns)
    cache: dict[str, Any] = {}
    for col, key_col in row_formats.items():
        j = names.index(col)
        for i, (value, key) in enumerate(zip(df[col].to_list(), df[key_col].to_list(), strict=True)):
            spec = kind_specs.get(key)
            if value is None or spec is None or (fmt := excel_format(spec)) is None:
                continue
            if fmt not in cache:
                cache[fmt] = wb.add_format({"num_format": fmt})
            ws.write_number(row + 1 + i, j, float(value), cache[fmt])
    return row + 1 + df.height


def _write_sheet(wb: xlsxwriter.Workbook, sheet: Sheet) -> None:
    ws = wb.add_worksheet(sheet.name)
    bold = wb.add_format({"bold": True})
    ws.write_string(0, 0, defused_text(sheet.title), wb.add_format({"bold": True, "font_size": 14}))
    for i, (key, value) in enumerate(sheet.header.items(), start=1):
        ws.write_string(i, 0, f"{key}:", bold)
        ws.write_string(i, 1, defused_text(value))
    ws.set_column(0, 1, 24)
    row = _write_table(
        wb,
        ws,
        len(sheet.header) + 2,
        sheet.df,
        sheet.columns,
        sheet.empty,
        freeze=True,
        row_formats=sheet.row_formats,
        kind_specs=sheet.kind_specs,
    )
    for title, df, columns, empty in sheet.more:
        ws.write_string(row + 1, 0, defused_text(title), bold)
        row = _write_table(wb, ws, row + 2, df, columns, empty, freeze=False)


def to_xlsx_sheets(sheets: Sequence[Sheet]) -> bytes:
    """One workbook, one sheet per part, in order."""
    buf = io.BytesIO()
    wb = _workbook(buf)
    for sheet in sheets:
        _write_sheet(wb, sheet)
    wb.close()
    return buf.getvalue()


def to_xlsx(
    df: pl.DataFrame,
    columns: Mapping[str, ColumnSpec],
    title: str,
    filters: Mapping[str, str],
) -> bytes:
    """An Excel workbook: the title in A1, one "Filter: value" line per filter, an empty
    row, then the table with Danish headers, autofilter and the kinds' number formats."""
    return to_xlsx_sheets([Sheet(SHEET_NAME, title, filters, df, columns)])


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


# --- file names ------------------------------------------------------------------------


def slugify(text: str) -> str:
    """ "Familierådgivningen 0-13 år" → "familieraadgivningen-0-13-aar": lower case, Danish
    letters spelled out (æ ae, ø oe, å aa), other accents dropped, anything else a hyphen."""
    t = text.lower().replace("æ", "ae").replace("ø", "oe").replace("å", "aa")
    t = unicodedata.normalize("NFKD", t).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", t).strip("-")


def export_file_name(what: str, unit_name: str, extract_as_of: date, ext: str) -> str:
    """`moedepakke_familieraadgivningen-0-13-aar_2026-11-27.xlsx`: what, unit, extract date."""
    parts = [slugify(what) or "tabel", slugify(unit_name) or "enhed", extract_as_of.isoformat()]
    return "_".join(p.replace("-", "_") if i == 0 else p for i, p in enumerate(parts)) + "." + ext


# --- over budget and totals -------------------------------------------------------------

TOTAL_LABEL = "I alt"
# over budget (expected > budget) → icon + word: never a minus sign or colour alone
BUDGET_STATUS_TEXT: dict[bool | None, str] = {
    True: "⚠️ Over budget",
    False: "✅ Inden for budget",
    None: "⚪ Intet budget",
}


def budget_status_text(over_budget: pl.Expr) -> pl.Expr:
    """The word and icon of an over_budget flag (null: no budget to compare with)."""
    return (
        pl.when(over_budget.is_null())
        .then(pl.lit(BUDGET_STATUS_TEXT[None]))
        .when(over_budget)
        .then(pl.lit(BUDGET_STATUS_TEXT[True]))
        .otherwise(pl.lit(BUDGET_STATUS_TEXT[False]))
    )


def with_total_row(
    df: pl.DataFrame,
    label_col: str,
    sums: Sequence[str],
    ratios: Mapping[str, tuple[str, str]] = {},
    *,
    label: str = TOTAL_LABEL,
    flags: Mapping[str, pl.Expr] = {},
) -> pl.DataFrame:
    """df with an "I alt" row appended: `sums` summed over the rows; each ratio column
    recomputed from the summed numerator and denominator (num ÷ den × 100, null when the
    denominator is 0), never averaged; `flags` recomputed on the total row by their
    expressions; every other column null. An `is_total` column marks the row."""
    total: dict[str, object] = {c: None for c in df.columns}
    total[label_col] = label
    for c in sums:
        total[c] = df[c].sum()
    row = pl.DataFrame([total], schema=df.schema, orient="row")
    if ratios:
        row = row.with_columns(
            pl.when(pl.col(den) != 0).then(pl.col(num) / pl.col(den) * 100).otherwise(None).alias(c)
            for c, (num, den) in ratios.items()
        )
    if flags:
        row = row.with_columns(e.alias(c) for c, e in flags.items())
    return pl.concat(
        [df.with_columns(pl.lit(False).alias("is_total")), row.with_columns(pl.lit(True).alias("is_total"))],
        how="vertical_relaxed",
    )
