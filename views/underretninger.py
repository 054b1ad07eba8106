"""Underretninger: how many notifications came in, from where, how many were assessed
within 24 hours (per month and year to date), and which are past 24 hours now.

Thin: every figure comes from metrics (registry and reports); this file lays out.
"""

from __future__ import annotations

import altair as alt
import streamlit as st

from metrics import registry, reports
from metrics.audit import rows_without_case
from metrics.charts import danish
from ui.auth import audit_view, download_audit
from ui.charts import show_chart
from ui.context import page_context
from ui.fmt import fmt_date, fmt_num, fmt_pct, md_escape
from ui.tables import ColumnSpec, Figure, show_figures, show_table

BAR, LINE, TARGET = "#1c7ed6", "#e8590c", "#2b8a3e"
PAGE = "underretninger"

ctx = page_context()
if ctx is None:
    st.stop()
st.title("Underretninger")
filters = ctx.filters()
count = registry.compute(ctx.ex, "underretninger_antal", ctx.scope, ctx.as_of)
share = registry.compute(ctx.ex, "underretninger_24t_pct", ctx.scope, ctx.as_of)
waiting = reports.overdue_unassessed_count(ctx.ex, ctx.scope, ctx.as_of)
target = reports.scorecard_target("underretninger_24t_pct")
st.caption(f"{md_escape(ctx.unit_name)} · år til dato · opgjort {fmt_date(ctx.as_of)}")

show_figures(
    [
        Figure("Underretninger i år", fmt_num(count.value)),
        Figure(
            "Vurderet inden for 24 timer",
            fmt_pct(share.value),
            registry.get("underretninger_24t_pct").description,
        ),
        Figure(
            "Over 24 timer uden vurdering nu",
            fmt_num(waiting),
            "Modtaget for mere end 24 timer siden og endnu ikke vurderet på opgørelsesdatoen.",
        ),
    ]
)
if target is not None:
    st.caption(f"Mål i scorecardet: {fmt_pct(target.value)} vurderet inden for 24 timer.")

# --- per month -------------------------------------------------------------------------------

monthly = reports.notifications_monthly(ctx.ex, ctx.scope, ctx.as_of)
x = alt.X("month:T", title=None, axis=alt.Axis(format="%b", tickCount="month"))
left, right = st.columns(2, gap="medium")
with left:
    bars = (
        alt.Chart(monthly, title="Modtaget pr. måned")
        .mark_bar(color=BAR)
        .encode(
            x=x,
            y=alt.Y("received:Q", title="Antal"),
            tooltip=[
                alt.Tooltip("month:T", title="Måned", format="%B %Y"),
                alt.Tooltip("received:Q", title="Modtaget", format=",.0f"),
            ],
        )
        .properties(height=260)
    )
    show_chart(danish(bars))
with right:
    tooltip = [
        alt.Tooltip("month:T", title="Måned", format="%B %Y"),
        alt.Tooltip("pct_24h:Q", title="Månedens andel, %", format=",.1f"),
        alt.Tooltip("on_time:Q", title="Inden for 24 timer", format=",.0f"),
        alt.Tooltip("eligible:Q", title="Tæller med", format=",.0f"),
        alt.Tooltip("ytd_pct_24h:Q", title="År til dato, %", format=",.1f"),
    ]
    base = alt.Chart(monthly, title="Vurderet inden for 24 timer, % pr. måned")
    month_line = base.mark_line(point=True, color=LINE).encode(
        x=x, y=alt.Y("pct_24h:Q", title="%", scale=alt.Scale(zero=False)), tooltip=tooltip
    )
    layers = [month_line]
    if target is not None:
        layers.append(
            alt.Chart({"values": [{"t": target.value}]})
            .mark_rule(color=TARGET, strokeDash=[5, 4])
            .encode(y="t:Q")
        )
    show_chart(danish(alt.layer(*layers).properties(height=260)))
    st.caption("Hver måned opgjort ved månedens udgang (den valgte dato for indeværende måned).")

show_table(
    monthly,
    {
        "month": ColumnSpec("Måned", "month"),
        "received": ColumnSpec("Modtaget", "int"),
        "eligible": ColumnSpec("Tæller med i 24-timersmålingen", "int"),
        "on_time": ColumnSpec("Vurderet inden for 24 timer", "int"),
        "pct_24h": ColumnSpec("Andel i måneden", "pct"),
        "ytd_pct_24h": ColumnSpec("Andel år til dato", "pct"),
    },
    key="und_month",
    summary=True,
    export_as=(ctx.unit_name, ctx.ex.as_of),
    title="Underretninger pr. måned",
    filters=filters,
)

# --- by source -------------------------------------------------------------------------------

sources = reports.notifications_by_source(ctx.ex, ctx.scope, ctx.as_of)
left, right = st.columns([2, 3], gap="medium")
with left:
    src_chart = (
        alt.Chart(sources, title="Modtaget i år pr. kilde")
        .mark_bar(color=BAR)
        .encode(
            y=alt.Y("label:N", title=None, sort="-x"),
            x=alt.X("received:Q", title="Antal"),
            tooltip=[
                alt.Tooltip("label:N", title="Kilde"),
                alt.Tooltip("received:Q", title="Modtaget", format=",.0f"),
                alt.Tooltip("share_pct:Q", title="Andel af alle, %", format=",.1f"),
            ],
        )
        .properties(height=alt.Step(26))
    )
    show_chart(danish(src_chart))
with right:
    show_table(
        sources,
        {
            "label": ColumnSpec("Kilde"),
            "received": ColumnSpec("Modtaget", "int"),
            "share_pct": ColumnSpec("Andel af alle", "pct"),
            "eligible": ColumnSpec("Tæller med", "int"),
            "on_time": ColumnSpec("Inden for 24 timer", "int"),
            "pct_24h": ColumnSpec("Vurderet inden for 24 timer", "pct"),
        },
        key="und_source",
        summary=True,
        export_as=(ctx.unit_name, ctx.ex.as_of),
        title="Underretninger pr. kilde",
        filters=filters,
    )

# --- waiting now -----------------------------------------------------------------------------

WAITING_TITLE = "Underretninger over 24 timer uden vurdering"
if not ctx.viewer.sees_case_rows:
    st.markdown(f"##### {WAITING_TITLE}")
    st.info(
        f"{fmt_num(waiting)} underretninger venter. Din rolle giver ikke adgang til de enkelte underretninger.",
        icon="🔒",
    )
    st.stop()
rows = reports.overdue_unassessed_rows(ctx.ex, ctx.viewer, ctx.scope, ctx.as_of)
if rows.height == 0:
    st.markdown(f"##### {WAITING_TITLE}")
    st.success("Ingen underretninger har ventet mere end 24 timer på vurdering.", icon="✅")
else:
    case_ids = rows["case_id"].drop_nulls().to_list()
    loose = rows_without_case(rows)
    audit_view(ctx, PAGE, case_ids, loose)
    show_table(
        rows,
        {
            "notification_id": ColumnSpec("Underretning"),
            "received_at": ColumnSpec("Modtaget", "datetime"),
            "hours_waiting": ColumnSpec("Timer uden vurdering", "num", decimals=0),
            "source_label": ColumnSpec("Kilde"),
            "unit_name": ColumnSpec("Enhed"),
            "case_id": ColumnSpec("Sag"),
            "child_id": ColumnSpec("Barn (pseudonym)"),
        },
        key="und_waiting",
        export_as=(ctx.unit_name, ctx.ex.as_of),
        title=WAITING_TITLE,
        filters=filters,
        audit=download_audit(ctx, PAGE, case_ids, loose),
    )
