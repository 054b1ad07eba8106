"""The shared table: an AgGrid (sorting, filtering, resizable columns, Danish display)
with Excel and CSV downloads under it; or, for a short summary (`summary=True`), Streamlit's own
table with the same Danish display and downloads.

Why two: every AgGrid is a component in an iframe of its own, which costs the browser about a
quarter of a second to start on every page it is on (bench/browser_timing.py). A summary of a
dozen rows (months, sources, measures) needs neither filters nor a pinned row, so it is an
st.dataframe: no iframe. Its cells keep their numbers (sorting is numeric) and show the Danish
text through a pandas Styler's display values, which the table shows as plain text (never
markup).

No JsCode, never `allow_unsafe_jscode`. Danish display with numeric sorting comes from
AG Grid's own *expressions*: a colDef `valueFormatter` given as a string is compiled by
AG Grid's Expression module (part of AllCommunityModule in the bundled AG Grid 34.3) with
the cell value as the argument `value`. The strings are constants in this module; the
data only ever arrives as that argument, so no text from an extract can become code.
The cell keeps its raw number (or ISO date string), so sorting and the number/date
filters work on values while the cell shows `1.234.567 kr.`, `87,5 %`, `14. jun. 2024`.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl
import streamlit as st

from ui.export import (
    NUMERIC_KINDS,
    ColumnSpec,
    cell_text,
    decimals_of,
    export_file_name,
    or_refusal,
    refusal_csv,
    refusal_xlsx,
    to_csv,
    to_xlsx,
    typed,
)
from ui.fmt import md_escape

__all__ = ["ColumnSpec", "Figure", "grid_frame", "grid_options", "show_figures", "show_table"]

_DASH = "'–'"
_MISSING = "(value == null || (typeof value === 'number' && isNaN(value)))"
_MONTHS = "['jan.','feb.','mar.','apr.','maj','jun.','jul.','aug.','sep.','okt.','nov.','dec.']"
_DATE_BODY = (
    "if (value == null || value === '') return '–'; "
    "var p = String(value).slice(0, 10).split('-'); "
    f"var m = {_MONTHS}; "
    "var out = Number(p[2]) + '. ' + m[Number(p[1]) - 1] + ' ' + p[0]; "
)
_GRID_HEIGHT = 420
_HEADER_PX, _ROW_PX, _PAD_PX = 36, 29, 12

DANISH_LOCALE_TEXT: dict[str, str] = {
    "noRowsToShow": "Ingen rækker",
    "loadingOoo": "Indlæser …",
    "filterOoo": "Filtrer …",
    "searchOoo": "Søg …",
    "equals": "Lig med",
    "notEqual": "Forskellig fra",
    "blank": "Tom",
    "notBlank": "Ikke tom",
    "empty": "Vælg …",
    "lessThan": "Mindre end",
    "greaterThan": "Større end",
    "lessThanOrEqual": "Mindre end eller lig med",
    "greaterThanOrEqual": "Større end eller lig med",
    "inRange": "Mellem",
    "inRangeStart": "Fra",
    "inRangeEnd": "Til",
    "contains": "Indeholder",
    "notContains": "Indeholder ikke",
    "startsWith": "Begynder med",
    "endsWith": "Slutter med",
    "before": "Før",
    "after": "Efter",
    "andCondition": "OG",
    "orCondition": "ELLER",
    "applyFilter": "Anvend",
    "resetFilter": "Nulstil",
    "clearFilter": "Ryd",
    "cancelFilter": "Annuller",
    "dateFormatOoo": "dd-mm-åååå",
    "sortAscending": "Sorter stigende",
    "sortDescending": "Sorter faldende",
    "sortUnSort": "Fjern sortering",
    "columnFilter": "Kolonnefilter",
    "ariaFilterInput": "Filterfelt",
}


def _number_formatter(decimals: int, suffix: str) -> str:
    opts = f"{{minimumFractionDigits: {decimals}, maximumFractionDigits: {decimals}}}"
    return f"{_MISSING} ? {_DASH} : value.toLocaleString('da-DK', {opts}).replace('-', '\u2212') + {suffix!r}"


def value_formatter(spec: ColumnSpec) -> str | None:
    """The AG Grid expression that shows a cell in Danish (None for text)."""
    dec = decimals_of(spec)
    if spec.kind == "dkk":
        return _number_formatter(dec, " kr.")
    if spec.kind == "pct":
        return _number_formatter(dec, " %")
    if spec.kind in ("int", "num"):
        return _number_formatter(dec, "")
    if spec.kind == "date":
        return _DATE_BODY + "return out;"
    if spec.kind == "datetime":
        return _DATE_BODY + "return out + ' kl. ' + String(value).slice(11, 16);"
    if spec.kind == "month":
        return _DATE_BODY + "return m[Number(p[1]) - 1] + ' ' + p[0];"
    return None


# A column a phone must show without sideways scrolling (issue 12 §4): narrow enough that
# three of them fit a 390 px screen, pinned to the left so they stay in view.
_PHONE_MIN_WIDTH = 100


def _column_def(name: str, spec: ColumnSpec, phone: bool = False) -> dict[str, Any]:
    col: dict[str, Any] = {"field": name, "headerName": spec.header, "headerTooltip": spec.header}
    fmt = value_formatter(spec)
    if fmt is not None:
        col["valueFormatter"] = fmt
    if spec.kind in ("dkk", "pct", "int", "num"):
        col |= {
            "cellDataType": "number",
            "filter": "agNumberColumnFilter",
            "type": "rightAligned",
            "flex": 1,
            "minWidth": 110,
        }
    elif spec.kind in ("date", "month"):
        col |= {"cellDataType": "dateString", "filter": "agDateColumnFilter", "flex": 1, "minWidth": 120}
    elif spec.kind == "datetime":
        col |= {"cellDataType": "dateTimeString", "filter": "agDateColumnFilter", "flex": 1, "minWidth": 170}
    else:
        col |= {"cellDataType": "text", "filter": "agTextColumnFilter", "flex": 2, "minWidth": 140}
    if phone:
        col |= {"minWidth": _PHONE_MIN_WIDTH, "flex": 1, "wrapHeaderText": True, "autoHeaderHeight": True}
        if spec.kind not in NUMERIC_KINDS:  # a long name wraps instead of being cut off
            col |= {"wrapText": True, "autoHeight": True}
    return col


def grid_options(
    columns: dict[str, ColumnSpec],
    *,
    selectable: bool = False,
    phone: Sequence[str] = (),
    pinned_bottom: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Plain-JSON grid options (no functions anywhere). `phone`: the columns a phone must
    show (put them first); `pinned_bottom`: rows pinned under the grid (an "I alt" row)."""
    options: dict[str, Any] = {
        "columnDefs": [_column_def(name, spec, name in phone) for name, spec in columns.items()],
        "defaultColDef": {"sortable": True, "resizable": True, "filter": True, "minWidth": 90},
        "localeText": DANISH_LOCALE_TEXT,
        "suppressFieldDotNotation": True,
        "enableCellTextSelection": True,
        "ensureDomOrder": True,
    }
    if pinned_bottom:
        options["pinnedBottomRowData"] = pinned_bottom
    if selectable:
        options["rowSelection"] = {"mode": "singleRow", "checkboxes": False, "enableClickSelection": True}
    return options


def grid_frame(df: pl.DataFrame, columns: dict[str, ColumnSpec]) -> pl.DataFrame:
    """What the grid receives: the listed columns, numbers as Float64/Int64, dates and
    timestamps as ISO strings (which sort and filter correctly as dateString)."""
    exprs: list[pl.Expr] = []
    for name, spec in columns.items():
        col = typed(name, spec)
        if spec.kind in ("date", "month"):
            col = col.dt.strftime("%Y-%m-%d")
        elif spec.kind == "datetime":
            col = col.dt.strftime("%Y-%m-%dT%H:%M:%S")
        exprs.append(col)
    return df.select(exprs)


_SUMMARY_HEADER_PX, _SUMMARY_ROW_PX = 38, 35
# A "summary" longer than this (signals at a national root can be thousands) is shown as a grid:
# it has filters, and no pandas Styler limit on cells (262,144 by default).
SUMMARY_MAX_ROWS = 500


def _show_summary(frame: pl.DataFrame, columns: dict[str, ColumnSpec], key: str, phone: Sequence[str]) -> None:
    """A short table without an iframe: the grid's values (numbers, ISO dates), shown in Danish."""
    data = grid_frame(frame, columns).to_pandas()
    # the uuid names the table in the page's data (tests find it by its key; a user never sees it)
    shown = data.style.set_uuid(f"grid_{key}").format(
        {name: (lambda v, spec=spec: cell_text(v, spec)) for name, spec in columns.items()}, na_rep="–"
    )
    config = {
        name: st.column_config.Column(spec.header, help=spec.header, pinned=True if name in phone else None)
        for name, spec in columns.items()
    }
    st.dataframe(
        shown,
        hide_index=True,
        column_config=config,
        height=min(_GRID_HEIGHT, _SUMMARY_HEADER_PX + max(frame.height, 1) * _SUMMARY_ROW_PX),
    )


def _show_grid(
    df: pl.DataFrame,
    columns: dict[str, ColumnSpec],
    key: str,
    selectable: bool,
    height: int | None,
    phone: Sequence[str],
    pin_total: bool,
) -> tuple[Any, pl.DataFrame]:
    """The AgGrid and the rows in its body (without the pinned "I alt" rows)."""
    from st_aggrid import AgGrid  # imported when a grid is drawn: the first page (no grid) is 0.09 s sooner

    body, pinned = df, None
    if pin_total:
        body = df.filter(~pl.col("is_total"))
        pinned = grid_frame(df.filter(pl.col("is_total")), columns).to_dicts()
    if height is None:
        rows = body.height + (len(pinned) if pinned else 0)
        height = min(_GRID_HEIGHT, _HEADER_PX + max(rows, 1) * _ROW_PX + _PAD_PX)
    response = AgGrid(
        grid_frame(body, columns),
        gridOptions=grid_options(columns, selectable=selectable, phone=phone, pinned_bottom=pinned),
        height=height,
        key=f"grid_{key}",
        update_on=["selectionChanged"] if selectable else [],
        theme="streamlit",
        show_toolbar=False,
        show_download_button=False,
        allow_unsafe_jscode=False,
        enable_enterprise_modules=False,
        use_json_serialization=False,
    )
    return response, body


def _file_stem(title: str) -> str:
    stem = re.sub(r"[^\w\-]+", "_", title.lower(), flags=re.UNICODE).strip("_")
    return stem or "tabel"


DownloadWrapper = Callable[[Callable[[], bytes]], Callable[[], bytes]]


def _selected_index(response: Any) -> int | None:
    rows = getattr(response, "selected_rows", None)
    if rows is None or len(rows) == 0:
        return None
    try:
        return int(rows.index[0])
    except (TypeError, ValueError):
        return None


def show_table(
    df: pl.DataFrame,
    columns: dict[str, ColumnSpec],
    *,
    key: str,
    title: str,
    filters: dict[str, str],
    selectable: bool = False,
    height: int | None = None,
    audit: DownloadWrapper | None = None,
    export_as: tuple[str, date] | None = None,
    phone: Sequence[str] = (),
    export: tuple[pl.DataFrame, dict[str, ColumnSpec]] | None = None,
    pin_total: bool = False,
    summary: bool = False,
) -> dict[str, Any] | None:
    """Render `df` (only the `columns`, in their order) with downloads under it.

    Returns the selected row of `df` with its original values when `selectable`
    (single-row selection), else None. Tables of case-level rows pass `audit`
    (ui.auth.download_audit) so that every download is logged when it happens.
    `export_as` = (unit name, extract date) names the files (metrics.export.export_file_name).
    `pin_total`: the rows marked by the frame's `is_total` column (metrics.export.with_total_row)
    are pinned at the bottom of the grid; the downloads hold them as their last rows. `export` =
    (frame, columns) downloads another form of the table than the grid shows (numbers as
    numbers where the grid shows text). `summary`: a short table shown without AgGrid (no filters,
    no selection; an "I alt" row stands last instead of pinned); over SUMMARY_MAX_ROWS rows it is
    a grid after all.
    """
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise KeyError(f"show_table {key!r}: columns not in frame: {', '.join(missing)}")
    if summary and selectable:
        raise ValueError(f"show_table {key!r}: a summary table has no selection")
    st.markdown(f"##### {md_escape(title)}")
    response, body = None, df
    if summary and df.height <= SUMMARY_MAX_ROWS:
        _show_summary(df, columns, key, phone)
    else:
        response, body = _show_grid(df, columns, key, selectable, height, phone, pin_total)
    stem = _file_stem(title)

    def file_name(ext: str) -> str:
        return f"{stem}.{ext}" if export_as is None else export_file_name(title, *export_as, ext)

    wrap = audit or (lambda make: make)
    out_df, out_cols = export if export is not None else (df, columns)
    buttons = st.container(horizontal=True, gap="small")
    # Built only when clicked (deferred download), so reruns don't pay for it.
    buttons.download_button(
        "Excel",
        data=or_refusal(wrap(lambda: to_xlsx(out_df, out_cols, title, filters)), refusal_xlsx),
        file_name=file_name("xlsx"),
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=f"xlsx_{key}",
        icon=":material/download:",
        on_click="ignore",
        help="Hent tabellen som Excel-fil med de valgte filtre øverst.",
    )
    buttons.download_button(
        "CSV",
        data=or_refusal(wrap(lambda: to_csv(out_df, out_cols)), refusal_csv),
        file_name=file_name("csv"),
        mime="text/csv",
        key=f"csv_{key}",
        icon=":material/download:",
        on_click="ignore",
        help="Semikolonsepareret, decimalkomma, UTF-8 – åbner direkte i dansk Excel.",
    )
    if not selectable:
        return None
    idx = _selected_index(response)
    if idx is None or not 0 <= idx < body.height:
        return None
    return body.row(idx, named=True)


@dataclass(frozen=True)
class Figure:
    """One headline figure: a label, the value already formatted, an optional explanation."""

    label: str
    value: str
    help: str | None = None


def show_figures(figures: list[Figure], key: str = "") -> None:
    """A compact row of headline figures (smaller type than st.metric, so full Danish
    amounts like 14.399.000 kr. fit five across). `key` tells apart rows that show the same
    labels on one page (e.g. one row per measure)."""
    row = key + "-" + "-".join(f.label for f in figures)
    for i, (col, fig) in enumerate(zip(st.columns(len(figures), gap="small"), figures, strict=True)):
        # the key gives the box the class st-key-headline-…: ui.context's style keeps the value on
        # one line and shrinks it to the box (no "kr" / "." split)
        box = col.container(border=True, key=f"headline-{zlib.crc32(row.encode())}-{i}")
        box.caption(fig.label, help=fig.help)
        box.markdown("#### " + fig.value.replace(" ", "\u00a0"))
