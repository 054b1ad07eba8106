"""Rows with a link to Sag in the row itself: the rows behind a number (drill-through),
the cases behind an economy row, the most expensive cases, Sag's search results.

An AgGrid cannot hold a link without JavaScript (which the project never sends), so these
tables are st.dataframe with a LinkColumn: the link is relative to the app and carries the
view in force (extract, date, unit), so Sag opens on the same view. Values are shown as
Danish text; the downloads (named with unit and extract date) hold the numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

import polars as pl
import streamlit as st

from metrics.export import TOTAL_LABEL
from ui.auth import audit_view, download_audit
from ui.context import P_AS_OF, P_EXTRACT, P_UNIT, PageContext
from ui.export import (
    ColumnSpec,
    cell_text,
    export_file_name,
    or_refusal,
    refusal_csv,
    refusal_xlsx,
    to_csv,
    to_xlsx,
)
from ui.fmt import md_escape

P_CASE = "sag"
LINK = "_link"
TOTAL = " "
_LINK_TEXT = r"[?&]sag=([^&]*)"  # the case id, shown as the link's text


def case_url(ctx: PageContext, case_id: str) -> str:
    """Sag on this view, relative to the app: `sag?sag=…&udtraek=…&dato=…&enhed=…`."""
    params = {
        P_CASE: case_id,
        P_EXTRACT: ctx.ex.as_of.isoformat(),
        P_AS_OF: ctx.as_of.isoformat(),
        P_UNIT: ctx.unit_id,
    }
    return "sag?" + urlencode(params)


def display_frame(
    ctx: PageContext, df: pl.DataFrame, columns: dict[str, ColumnSpec], case_col: str | None
) -> pl.DataFrame:
    """What the table shows: a link column first (when the rows have cases), then the listed
    columns as Danish text under their headers."""
    out: dict[str, list[str | None]] = {}
    total = df["is_total"].to_list() if "is_total" in df.columns else [False] * df.height
    if case_col is not None:
        out[LINK] = [
            None if c is None or t else case_url(ctx, str(c))
            for c, t in zip(df[case_col].to_list(), total, strict=True)
        ]
        if any(total):  # the "I alt" row has no case: its label stands beside the empty link
            out[TOTAL] = [TOTAL_LABEL if t else "" for t in total]
    for name, spec in columns.items():
        if name == case_col:
            continue
        out[spec.header] = [cell_text(v, spec) for v in df[name].to_list()]
    return pl.DataFrame(out, schema=dict.fromkeys(out, pl.String))


def show_rows(
    ctx: PageContext,
    df: pl.DataFrame,
    columns: dict[str, ColumnSpec],
    *,
    key: str,
    title: str,
    page: str,
    case_col: str | None = "case_id",
    target: str | None = None,
    widths: Sequence[str] = (),
) -> None:
    """Log the view (the case ids shown, or `target` for rows without cases), then show the rows
    with each case linking to Sag, and Excel/CSV downloads (logged too). `widths`: headers kept
    narrow so they fit a phone."""
    ids = [str(c) for c in df[case_col].drop_nulls().to_list()] if case_col else []
    audit_view(ctx, page, ids, target)
    st.markdown(f"##### {md_escape(title)}")
    config: dict[str, object] = {
        spec.header: st.column_config.TextColumn(
            spec.header, width="small" if spec.header in widths else None
        )
        for name, spec in columns.items()
        if name != case_col
    }
    if "is_total" in df.columns:
        config[TOTAL] = st.column_config.TextColumn("", width="small")
    if case_col is not None:
        config[LINK] = st.column_config.LinkColumn(
            columns[case_col].header, display_text=_LINK_TEXT, width="small", pinned=True, help="Åbn sagen"
        )
    st.dataframe(
        display_frame(ctx, df, columns, case_col), hide_index=True, column_config=config, key=f"rows_{key}"
    )
    audit = download_audit(ctx, page, ids, target)
    buttons = st.container(horizontal=True, gap="small")
    buttons.download_button(
        "Excel",
        data=or_refusal(audit(lambda: to_xlsx(df, columns, title, ctx.filters())), refusal_xlsx),
        file_name=export_file_name(title, ctx.unit_name, ctx.ex.as_of, "xlsx"),
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=f"rows_xlsx_{key}",
        icon=":material/download:",
        on_click="ignore",
    )
    buttons.download_button(
        "CSV",
        data=or_refusal(audit(lambda: to_csv(df, columns)), refusal_csv),
        file_name=export_file_name(title, ctx.unit_name, ctx.ex.as_of, "csv"),
        mime="text/csv",
        key=f"rows_csv_{key}",
        icon=":material/download:",
        on_click="ignore",
    )
