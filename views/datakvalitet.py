"""Datakvalitet: what validation set aside from the extract, and why."""

from __future__ import annotations

import streamlit as st

from metrics import quality
from metrics.access import AccessDenied
from metrics.contract import TABLE_LABELS
from ui.context import page_context
from ui.fmt import fmt_num
from ui.tables import ColumnSpec, show_table

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
        from metrics.audit import rows_without_case
        from ui.auth import audit_view, download_audit

        case_ids = rows["case_id"].drop_nulls().to_list() if "case_id" in rows.columns else []
        loose = rows_without_case(rows)
        audit_view(ctx, "datakvalitet", case_ids, loose)
        show_table(
            rows,
            {c: ColumnSpec(c) for c in rows.columns},
            key=f"dq_rows_{table}",
            title=f"Afviste rækker: {table}",
            filters=ctx.filters(),
            audit=download_audit(ctx, "datakvalitet", case_ids, loose),
        )
