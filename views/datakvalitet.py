"""Datakvalitet: what validation set aside from the extract, and why."""

from __future__ import annotations

import polars as pl
import streamlit as st

from metrics import quality
from metrics.access import AccessDenied
from metrics.audit import rows_without_case
from metrics.contract import TABLE_LABELS
from ui.auth import audit_view, audited_download_data, download_audit
from ui.context import page_context
from ui.export import export_file_name, or_refusal, refusal_csv, to_csv
from ui.fmt import fmt_num
from ui.tables import ColumnSpec, show_table

MAX_LOGGED_IDS = 1000  # a download of more case rows is logged by its query, not by every id

PAGE = "datakvalitet"


def _rejected_rows(rows: pl.DataFrame, table: str) -> None:
    """At most one page of rows goes to the browser: search, sorting and paging run on the
    server (metrics.quality); all matching rows are a download. The audit row of a view names
    the ids shown on the page, nothing more."""
    assert ctx is not None
    c1, c2, c3, c4 = st.columns([3, 2, 1, 1], vertical_alignment="bottom")
    search = c1.text_input("Søg i rækkerne", key=f"dq_search_{table}", max_chars=200)
    sort_by = c2.selectbox("Sortér efter", rows.columns, key=f"dq_sort_{table}")
    descending = c3.toggle("Faldende", key=f"dq_desc_{table}")
    page_key = f"dq_page_{table}"
    # one pass over the rows: the page asked for (clamped), then the widget with the page count
    asked = int(st.session_state.get(page_key) or 1)
    shown = quality.page_of_rows(rows, search=search, sort_by=sort_by, descending=descending, page=asked)
    if asked != shown.page:
        st.session_state[page_key] = shown.page
    c4.number_input("Side", min_value=1, max_value=shown.pages, step=1, key=page_key)
    case_ids = quality.case_ids(shown.rows)
    loose = rows_without_case(shown.rows)
    audit_view(ctx, PAGE, case_ids, loose)
    show_table(
        shown.rows,
        {c: ColumnSpec(c) for c in rows.columns},
        key=f"dq_rows_{table}",
        export_as=(ctx.unit_name, ctx.ex.as_of),
        title=f"Afviste rækker: {table}",
        filters=ctx.filters(),
        audit=download_audit(ctx, PAGE, case_ids, loose),
    )
    st.caption(
        f"Række {fmt_num(shown.first)}–{fmt_num(shown.last)} af {fmt_num(shown.matching)}"
        + (f" (af {fmt_num(rows.height)} i alt)" if shown.matching != rows.height else "")
        + f" · side {fmt_num(shown.page)} af {fmt_num(shown.pages)}."
    )
    if shown.matching > shown.rows.height:
        # a bounded audit row: the query that reproduces the file, and its case ids when they are
        # few (the rows are searched again only when the file is actually downloaded)
        few = shown.matching <= MAX_LOGGED_IDS
        every_ids = quality.case_ids(quality.matching_rows(rows, search)) if few else []
        target = (
            f"afviste rækker {table}: {shown.matching} rækker, søgning {search.strip()[:200]!r}, "
            f"sorteret efter {sort_by}{' faldende' if descending else ''}"
        )
        columns = {c: ColumnSpec(c) for c in rows.columns}
        st.download_button(
            f"Hent alle {fmt_num(shown.matching)} rækker (CSV)",
            data=or_refusal(
                audited_download_data(
                    ctx,
                    PAGE,
                    every_ids,
                    lambda: to_csv(quality.matching_rows(rows, search, sort_by, descending), columns),
                    target=target,
                ),
                refusal_csv,
            ),
            file_name=export_file_name(f"afviste rækker {table}", ctx.unit_name, ctx.ex.as_of, "csv"),
            mime="text/csv",
            key=f"dq_all_{table}",
            icon=":material/download:",
            on_click="ignore",
        )

ctx = page_context()
if ctx is None:
    st.stop()
st.title("Datakvalitet")

totals = quality.table_totals(ctx.ex)
st.caption(
    "Rækker, der bryder datakontrakten, sættes til side og indgår ikke i nogen tal. "
    "Intet i udtrækket ændres eller slettes."
)
n = ctx.ex.rejected_total
if n == 0:
    st.success("Alle rækker i udtrækket overholder datakontrakten.", icon="✅")
else:
    st.warning(f"{fmt_num(n)} rækker er sat til side. Alle tal i dashboardet er uden dem.", icon="⚠️")

show_table(
    totals,
    {
        "table_label": ColumnSpec("Tabel"),
        "accepted": ColumnSpec("Godkendte rækker", "int"),
        "rejected": ColumnSpec("Sat til side", "int"),
    },
    key="dq_totals",
    summary=True,
    export_as=(ctx.unit_name, ctx.ex.as_of),
    title="Rækker pr. tabel",
    filters=ctx.filters(),
)
reasons = quality.summary(ctx.ex)
if reasons.height:
    show_table(
        reasons,
        {
            "table_label": ColumnSpec("Tabel"),
            "rule": ColumnSpec("Regel"),
            "explanation": ColumnSpec("Forklaring"),
            "rows": ColumnSpec("Rækker", "int"),
        },
        key="dq_reasons",
        summary=True,
        export_as=(ctx.unit_name, ctx.ex.as_of),
        title="Årsager",
        filters=ctx.filters(),
    )
    tables = [t for t in totals["table"].to_list() if ctx.ex.report[t].rejected]
    table = st.selectbox(
        "Se de afviste rækker i tabellen",
        tables,
        key="dq_table",
        format_func=lambda t: TABLE_LABELS.get(t, t),
    )
    try:
        rows = quality.rejected_rows(ctx.ex, ctx.viewer, table)
    except AccessDenied:
        st.info("Kun ledere kan se de afviste rækker selv; antallet og årsagerne ses ovenfor.")
    else:
        _rejected_rows(rows, table)
