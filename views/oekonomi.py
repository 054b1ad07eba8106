"""Økonomi: budget, forbrug, disponeret, forventet regnskab and afvigelse for the chosen
unit; the same per account, intervention kind, category or child unit; the year's
cumulative path against the budget; the ten most expensive active cases.

Thin: every figure comes from metrics.reports; this file formats and lays out.
"""

from __future__ import annotations

import streamlit as st

from metrics import drill, reports
from metrics.export import economy_columns, with_total_row
from ui.charts import budget_expected_bars, expected_path, show_chart
from ui.context import page_context
from ui.fmt import fmt_date, fmt_dkk, fmt_pct, md_escape, url_echo
from ui.rows import show_rows
from ui.tables import ColumnSpec, Figure, show_figures, show_table

PAGE = "oekonomi"
P_GROUPING = "gruppering"

ctx = page_context()
if ctx is None:
    st.stop()
st.title("Økonomi")
filters = ctx.filters()
figures, expected_pct = reports.economy_headline(ctx.ex, ctx.scope, ctx.as_of)
st.caption(
    f"{md_escape(ctx.unit_name)} · budgetår {ctx.as_of.year} · opgjort {fmt_date(ctx.as_of)}. "
    "Forventet regnskab = forbrug år til dato + disponeret resten af året."
)

show_figures(
    [
        Figure(
            "Budget",
            fmt_dkk(figures.budget),
            f"Årets budget for {md_escape(ctx.unit_name)} og enhederne under den.",
        ),
        Figure("Forbrug", fmt_dkk(figures.actual), "Bogførte betalinger for årets måneder."),
        Figure(
            "Disponeret",
            fmt_dkk(figures.committed),
            "Bevilgede indsatser × månedlig udgift resten af året, fratrukket det, der allerede er betalt forud.",
        ),
        Figure("Forventet regnskab", fmt_dkk(figures.expected), "Forbrug + disponeret."),
        Figure(
            "Afvigelse", fmt_dkk(figures.deviation), "Budget − forventet regnskab. Positiv: under budget."
        ),
    ]
)
st.markdown(f"Forventet regnskab er **{fmt_pct(expected_pct.value)}** af budgettet.")

# --- per group ---------------------------------------------------------------------------

raw_grouping = st.query_params.get(P_GROUPING)
if raw_grouping in reports.ECONOMY_GROUPINGS and P_GROUPING not in st.session_state:  # a link may use the key
    st.session_state[P_GROUPING] = raw_grouping
elif raw_grouping is not None and raw_grouping not in reports.ECONOMY_GROUPINGS.values():
    st.error(
        f"Fordelingen {url_echo(raw_grouping)} i linket findes ikke; viser fordeling på konto. "
        f"Mulige: {', '.join(reports.ECONOMY_GROUPINGS.values())}."
    )
by = st.segmented_control(
    "Fordel på",
    list(reports.ECONOMY_GROUPINGS),
    default=None if P_GROUPING in st.session_state else "account",
    format_func=reports.ECONOMY_GROUPINGS.__getitem__,
    key=P_GROUPING,
    bind="query-params",
    required=True,
)
by = by or "account"
group_name = reports.ECONOMY_GROUPINGS[by]
table = reports.economy_by_with_total(ctx.ex, ctx.scope, ctx.as_of, by)

selected = show_table(
    table,
    {
        "label": ColumnSpec(group_name),
        **economy_columns("deviation"),
        "budget_status": ColumnSpec("Budgetstatus"),
        **economy_columns("budget", "actual", "committed"),
        "expected": ColumnSpec("Forventet", "dkk"),  # this page's shorter header
        **economy_columns("expected_pct"),
    },
    key=f"oek_{by}",
    export_as=(ctx.unit_name, ctx.ex.as_of),
    title=f"Økonomi pr. {group_name.lower()}",
    filters=filters,
    selectable=ctx.viewer.sees_case_rows,
    pin_total=True,
    phone=("label", "deviation", "budget_status"),
)
st.caption(
    "Afvigelse = budget − forventet; ⚠️ Over budget, når det forventede er større end budgettet. "
    + ("Vælg en række for at se sagerne bag den." if ctx.viewer.sees_case_rows else "")
)
if selected is not None:
    group = selected["group"]
    behind = drill.economy_group_rows(ctx.ex, ctx.viewer, ctx.scope, ctx.as_of, by, group)
    if behind.height:
        show_rows(
            ctx,
            with_total_row(behind, "case_id", ["actual", "committed", "expected"]),
            {
                "case_id": ColumnSpec("Sag"),
                **economy_columns("expected", "actual", "committed", per_case=True),
                "unit_name": ColumnSpec("Enhed"),
                "caseworker_name": ColumnSpec("Rådgiver"),
            },
            key="oek_group_cases",
            title=f"Sagerne bag {selected['label']}",
            page=PAGE,
        )
    else:
        st.info(f"Ingen sager, du har adgang til, bag {md_escape(selected['label'])}.")
if by in ("kind_id", "category"):
    st.caption("Budgettet lægges pr. konto og enhed, så det kan ikke fordeles på indsatstyper og kategorier.")
# one under the other: side by side, the account names and the legends were cut
show_chart(budget_expected_bars(table, group_name))
show_chart(expected_path(reports.economy_monthly(ctx.ex, ctx.scope, ctx.as_of), ctx.as_of))
st.caption(
    f"Fyldte punkter: bogført forbrug til og med {fmt_date(ctx.as_of)}. Åbne punkter: derefter lægges de "
    "disponerede beløb til måned for måned. December-punktet er det forventede regnskab."
)

# --- the most expensive cases ---------------------------------------------------------------

TOP_TITLE = "De 10 dyreste aktive sager i år"
if not ctx.viewer.sees_case_rows:
    st.markdown(f"##### {TOP_TITLE}")
    st.info("Din rolle giver adgang til samlede tal, men ikke til de enkelte sager.", icon="🔒")
    st.stop()
top = reports.top_cases(ctx.ex, ctx.viewer, ctx.scope, ctx.as_of)
if top.height == 0:
    st.markdown(f"##### {TOP_TITLE}")
    st.info("Der er ingen aktive sager, du har adgang til, i den valgte enhed.")
    st.stop()
show_rows(
    ctx,
    with_total_row(top, "case_id", ["actual", "committed", "expected"]),
    {
        "case_id": ColumnSpec("Sag"),
        **economy_columns("expected", per_case=True),
        "unit_name": ColumnSpec("Enhed"),
        "caseworker_name": ColumnSpec("Rådgiver"),
        "interventions": ColumnSpec("Indsatser"),
        **economy_columns("actual", "committed", per_case=True),
    },
    key="oek_top",
    title=TOP_TITLE,
    page=PAGE,
)
