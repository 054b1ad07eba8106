"""Sygefravær: sick leave % per unit and month against the scorecard target, the
year-to-date trend, and absences longer than 14 days.

Thin: every figure comes from metrics (registry and reports); this file lays out.
"""

from __future__ import annotations

import altair as alt
import streamlit as st

from metrics import registry, reports
from metrics.charts import danish
from ui.auth import audit_view, download_audit
from ui.charts import show_chart
from ui.context import page_context
from ui.fmt import fmt_date, fmt_num, fmt_pct, md_escape
from ui.tables import ColumnSpec, Figure, show_figures, show_table

TARGET_COLOUR, LINE = "#c92a2a", "#1c7ed6"
LONG_DAYS = 14

PAGE = "sygefravaer"
ctx = page_context()
if ctx is None:
    st.stop()
st.title("Sygefravær")
filters = ctx.filters()
value = registry.compute(ctx.ex, "sygefravaer_pct", ctx.scope, ctx.as_of)
target = reports.scorecard_target("sygefravaer_pct")
spells = reports.long_sick_spells(ctx.ex, ctx.viewer, ctx.scope, ctx.as_of, LONG_DAYS)
st.caption(f"{md_escape(ctx.unit_name)} · egen sygdom · år til dato · opgjort {fmt_date(ctx.as_of)}")

sign = "" if target is None else ("≤ " if target.direction == "lower" else "≥ ")
figures = [
    Figure("Sygefravær i år", fmt_pct(value.value), registry.get("sygefravaer_pct").description),
    Figure(
        "Mål",
        "–" if target is None else sign + fmt_pct(target.value),
        "Fra scorecardet (config/scorecard.toml).",
    ),
]
OWN = ctx.viewer.sees_only_own_rows  # a caseworker sees her own absences only, not her team's
if ctx.viewer.sees_case_rows:
    figures.append(
        Figure(f"{'Dit fravær' if OWN else 'Fravær'} over {LONG_DAYS} dage i år", fmt_num(spells.height))
    )
show_figures(figures)
if target is None:
    st.warning("Scorecardet har intet mål for sygefravær, eller filen kan ikke læses.", icon="⚠️")


def target_rule() -> list[alt.Chart]:
    if target is None:
        return []
    return [
        alt.Chart({"values": [{"t": target.value}]})
        .mark_rule(color=TARGET_COLOUR, strokeDash=[5, 4])
        .encode(y="t:Q", tooltip=[alt.Tooltip("t:Q", title="Mål, %", format=",.1f")])
    ]


# --- per unit and month ----------------------------------------------------------------------

monthly = reports.sick_leave_monthly(ctx.ex, ctx.scope, ctx.as_of)
x = alt.X("month:T", title=None, axis=alt.Axis(format="%b", tickCount="month"))
tooltip = [
    alt.Tooltip("unit_name:N", title="Enhed"),
    alt.Tooltip("month:T", title="Måned", format="%B %Y"),
    alt.Tooltip("pct:Q", title="Sygefravær, %", format=",.1f"),
    alt.Tooltip("sick:Q", title="Sygedage (årsværk)", format=",.1f"),
    alt.Tooltip("scheduled:Q", title="Arbejdsdage (årsværk)", format=",.1f"),
]
left, right = st.columns([2, 3], gap="medium")
with left:
    # The whole unit: each month on its own (bars) and the year to date (line), against the target.
    whole = alt.Chart(monthly, title="Hele enheden pr. måned og år til dato, %").transform_filter(
        "datum.is_total"
    )
    month_bars = whole.mark_bar(color="#a5d8ff").encode(x=x, y=alt.Y("pct:Q", title="%"), tooltip=tooltip)
    ytd_line = whole.mark_line(point=True, color=LINE).encode(
        x=x,
        y="ytd_pct:Q",
        tooltip=[
            alt.Tooltip("as_of:T", title="Opgjort", format="%d. %b %Y"),
            alt.Tooltip("ytd_pct:Q", title="Sygefravær år til dato, %", format=",.1f"),
        ],
    )
    show_chart(danish(alt.layer(month_bars, ytd_line, *target_rule()).properties(height=320)))
    st.caption(
        "Søjler: månedens sygefravær. Linje: år til dato ved hver månedsudgang (nøgletallet). Stiplet: målet."
    )
with right:
    # Orange above the target, blue below it, pale at the target: a diverging scale that
    # colour-blind readers can tell apart (no red–green), centred on the target.
    colour = alt.Scale(scheme="blueorange")
    if target is not None:
        colour = alt.Scale(scheme="blueorange", domainMid=target.value)
    heat = (
        alt.Chart(monthly, title="Sygefravær pr. enhed og måned, %")
        .mark_rect()
        .encode(
            x=alt.X("month(month):O", title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("unit_name:N", title=None, sort=None, axis=alt.Axis(labelLimit=220)),
            color=alt.Color("pct:Q", title="%", scale=colour),
            tooltip=tooltip,
        )
    )
    # white on the dark ends of the scale, black on the pale middle
    far = 2.0 if target is None else max(2.0, target.value * 0.6)
    mid = 0.0 if target is None else target.value
    labels = heat.mark_text(fontSize=11).encode(
        text=alt.Text("pct:Q", format=",.1f"),
        color=alt.condition(f"abs(datum.pct - {mid}) > {far}", alt.value("white"), alt.value("black")),
    )
    show_chart(danish(alt.layer(heat, labels).properties(height=alt.Step(30))))
    st.caption(
        "Hver måned for sig: sygedage ÷ planlagte arbejdsdage i måneden. Orange: over målet, blå: under. "
        "Første række er hele enheden. »(direkte)«: de medarbejdere, der hører direkte til enheden "
        "selv (fx ledelse og stab) og ikke til en af enhederne under den."
    )

show_table(
    monthly,
    {
        "unit_name": ColumnSpec("Enhed"),
        "month": ColumnSpec("Måned", "month"),
        "pct": ColumnSpec("Sygefravær", "pct"),
        "sick": ColumnSpec("Sygedage (årsværk)", "num"),
        "scheduled": ColumnSpec("Arbejdsdage (årsværk)", "num"),
    },
    key="syg_month",
    summary=True,
    export_as=(ctx.unit_name, ctx.ex.as_of),
    title="Sygefravær pr. enhed og måned",
    filters=filters,
)

# --- long absences ---------------------------------------------------------------------------

SPELLS_TITLE = f"{'Dit sygefravær' if OWN else 'Sygefravær'} over {LONG_DAYS} dage i år"
if not ctx.viewer.sees_case_rows:
    st.markdown(f"##### {SPELLS_TITLE}")
    st.info(
        "Din rolle giver adgang til samlede tal, men ikke til den enkelte medarbejders fravær.", icon="🔒"
    )
    st.stop()
if spells.height == 0:
    st.markdown(f"##### {SPELLS_TITLE}")
    if OWN:
        st.success(
            f"Du har ikke haft sammenhængende sygefravær over {LONG_DAYS} dage i år. Som rådgiver ser du "
            "kun dine egne fraværsperioder; tallene for enheden ovenfor dækker alle.",
            icon="✅",
        )
    else:
        st.success(
            f"Ingen medarbejdere i {md_escape(ctx.unit_name)} har haft sammenhængende sygefravær over "
            f"{LONG_DAYS} dage i år.",
            icon="✅",
        )
else:
    # named staff health data: who opened the list is logged, with the employees shown
    shown_staff = (
        f"langt sygefravær: employee_id: {', '.join(dict.fromkeys(spells['employee_id'].to_list()))}"
    )
    audit_view(ctx, PAGE, [], shown_staff)
    show_table(
        spells,
        {
            "name": ColumnSpec("Medarbejder"),
            "unit_name": ColumnSpec("Enhed"),
            "start_on": ColumnSpec("Fra", "date"),
            "end_on": ColumnSpec("Til", "date"),
            "days": ColumnSpec("Kalenderdage", "int"),
            "ongoing_label": ColumnSpec("Status"),
        },
        key="syg_spells",
        export_as=(ctx.unit_name, ctx.ex.as_of),
        title=SPELLS_TITLE,
        filters=filters,
        audit=download_audit(ctx, PAGE, [], shown_staff),
    )
    st.caption(
        ("Dine egne sammenhængende perioder" if OWN else "Sammenhængende perioder")
        + " med egen sygdom. Igangværende fravær tælles til og med opgørelsesdatoen."
    )
