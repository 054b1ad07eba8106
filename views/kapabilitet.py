"""Kapabilitet: what the system predictably delivers, seen from the family (a check
analysis). Per end-to-end measure every item in time order with its mean, natural process
limits, p05–p95 and signals, and the sentence a leader can repeat in a meeting; then
demand: value vs failure demand, the reasons and the channels (with `contacts`).

Thin: every figure comes from metrics (capability, demand, registry); charts from ui.charts.
Aggregates only: no item ids, so every role sees the same page for the units it may see.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from metrics import registry
from metrics.capability import MEASURES, capability, default_start, limits_wide, signal_rows
from metrics.contract import TABLES
from metrics.demand import demand_by_channel, demand_by_month, reasons_pareto
from ui.charts import capability_chart, channel_chart, demand_month_chart, pareto_chart, show_chart
from ui.context import page_context, url_date
from ui.fmt import fmt_date, fmt_num, fmt_pct
from ui.tables import ColumnSpec, Figure, show_figures, show_table

P_FROM = "fra"  # URL parameter of the window start
DEMAND_COUNT_COLUMNS = {  # per month and per channel
    "vaerdi": ColumnSpec("Værdiefterspørgsel", "int"),
    "fejl": ColumnSpec("Fejlefterspørgsel", "int"),
    "total": ColumnSpec("I alt", "int"),
    "fejl_pct": ColumnSpec("Fejlefterspørgsel, andel", "pct"),
}

st.title("Kapabilitet")
ctx = page_context()
if ctx is None:
    st.stop()
filters = ctx.filters()


def _pick_start() -> date | None:
    raw = st.query_params.get(P_FROM)
    if raw is not None:
        parsed = url_date(raw)
        if parsed is None:
            return None
        if parsed > ctx.as_of:
            st.error(
                f"Vinduets start {fmt_date(parsed)} ligger efter opgørelsesdatoen {fmt_date(ctx.as_of)}."
            )
            return None
    return st.date_input(
        "Vindue fra",
        value=default_start(ctx.as_of),
        max_value=ctx.as_of,
        key=P_FROM,
        bind="query-params",
        format="DD.MM.YYYY",
        help="Standard er de 365 dage til og med opgørelsesdatoen. Har I ændret praksis, så vælg dagen "
        "for ændringen: gennemsnit og grænser beregnes da kun på forløbene derefter.",
    )


def _n(x: float | None, unit: str) -> str:
    if x is None:
        return "–"
    return f"{fmt_num(x, 1 if abs(x) < 10 else 0)} {unit}"


st.caption(
    "Hvad leverer systemet forudsigeligt, set fra familien? Hvert punkt er ét forløb, i den rækkefølge "
    "det skete. Den stiplede midterlinje er gennemsnittet; de røde linjer er de naturlige grænser, som "
    "det næste forløb med stor sandsynlighed lander inden for, så længe intet ændrer sig. Det blå bånd "
    "viser, hvor 90 % af forløbene lå (fra 5 %- til 95 %-fraktilen)."
)
start = _pick_start()
if start is None:
    st.stop()
st.caption(f"Vindue: {fmt_date(start)} – {fmt_date(ctx.as_of)}")

for measure in MEASURES.values():
    result = capability(ctx.ex, measure.id, ctx.scope, ctx.as_of, start)
    f = result.figures
    st.subheader(measure.label)
    st.caption(measure.description)
    show_figures(
        [
            Figure("Forløb", fmt_num(f.n)),
            Figure("Gennemsnit", _n(f.mean, measure.unit)),
            Figure(
                "Nedre grænse",
                _n(f.lower, measure.unit),
                "Gennemsnit − 2,66 × gennemsnitligt spring (mR̄), dog mindst 0.",
            ),
            Figure(
                "Øvre grænse", _n(f.upper, measure.unit), "Gennemsnit + 2,66 × gennemsnitligt spring (mR̄)."
            ),
            Figure("5 %-fraktil", _n(f.p05, measure.unit)),
            Figure("95 %-fraktil", _n(f.p95, measure.unit)),
        ],
        key=measure.id,
    )
    if f.n < 2:
        st.info(
            f"For få forløb i vinduet ({fmt_num(f.n)}) til at beregne gennemsnit og grænser. "
            "Vælg en tidligere start eller en større enhed.",
            icon="ℹ️",
        )
        continue
    statement = measure.statement.format(
        mean=fmt_num(f.mean, 1 if (f.mean or 0) < 10 else 0),
        p05=fmt_num(f.p05, 1 if (f.p05 or 0) < 10 else 0),
        p95=fmt_num(f.p95, 1 if (f.p95 or 0) < 10 else 0),
    )
    st.markdown(f"**{statement}**")
    show_chart(capability_chart(result))
    if limits_wide(f):
        st.warning(
            "Grænserne er meget brede: den øvre grænse er mindst det dobbelte af gennemsnittet. Processen er "
            "uforudsigelig – en familie kan ikke regne med et bestemt forløb, og et gennemsnit alene siger "
            "lidt om det næste. Find årsagerne til de lange forløb, før I sætter et mål.",
            icon="⚠️",
        )
    signals = signal_rows(result)
    if signals.height:
        st.info(
            f"{fmt_num(signals.height)} signaler (orange punkter). Et signal betyder, at noget har ændret sig i "
            "processen: et forløb uden for de naturlige grænser (regel 1), eller 8 eller flere forløb i træk på "
            "samme side af gennemsnittet (regel 2). Find ud af hvad – og er ændringen ønsket, så start vinduet "
            "dér. Et enkelt dårligt forløb eller en dårlig måned inden for grænserne er ikke et signal, men "
            "almindelig variation: den forklares af systemet, ikke af den enkelte sag.",
            icon="⚡",
        )
        show_table(
            signals,
            {
                "position": ColumnSpec("Forløb nr.", "int"),
                "on": ColumnSpec("Dato", "date"),
                "value": ColumnSpec(measure.unit.capitalize(), "num"),
                "rule": ColumnSpec("Regel", "int"),
            },
            key=f"kap_signals_{measure.id}",
            summary=True,
            export_as=(ctx.unit_name, ctx.ex.as_of),
            title=f"Signaler – {measure.label.lower()}",
            filters=filters,
        )
    else:
        st.caption(
            "Ingen signaler: variationen er almindelig støj i en stabil proces. Et enkelt langt forløb eller en "
            "dårlig måned inden for grænserne er ikke et tegn på, at noget har ændret sig."
        )

# --- demand ---------------------------------------------------------------------------------

st.header("Efterspørgsel: hvorfor henvender familierne sig?")
if not ctx.ex.present("contacts"):
    st.info(
        "Udtrækket har ingen tabel med henvendelser (contacts.parquet). Med den kan siden vise, hvor stor en "
        "del af henvendelserne der er fejlefterspørgsel – henvendelser, der skyldes, at noget ikke blev gjort "
        "eller ikke blev gjort rigtigt (fx »Har ikke hørt fra rådgiver«) – og hvorfor familier og "
        "samarbejdspartnere henvender sig. Registrér hver henvendelse i modtagelsen og på telefonen med "
        "kanal, type og årsag i familiens egne ord, og læg tabellen i udtrækket som contacts.parquet med "
        "kolonnerne nedenfor. Tabellen er valgfri: uden den er alt andet uændret.",
        icon="ℹ️",
    )
    st.markdown(
        "\n".join(f"- `{c.name}`{' (kan være tom)' if c.nullable else ''}" for c in TABLES["contacts"])
        + "\n\n`channel` er en af telefon, mail, digital_post, personligt, andet; `demand_type` er "
        "`vaerdi` (det, familien kom for) eller `fejl` (fejlefterspørgsel)."
    )
    st.stop()

count = registry.compute(ctx.ex, "henvendelser_antal", ctx.scope, ctx.as_of)
share = registry.compute(ctx.ex, "fejlefterspoergsel_pct", ctx.scope, ctx.as_of)
show_figures(
    [
        Figure("Henvendelser i år", fmt_num(count.value), registry.get("henvendelser_antal").description),
        Figure(
            "Fejlefterspørgsel i år", fmt_pct(share.value), registry.get("fejlefterspoergsel_pct").description
        ),
    ]
)
monthly = demand_by_month(ctx.ex, ctx.scope, ctx.as_of, start)
st.markdown("##### Værdi- og fejlefterspørgsel pr. måned")
show_chart(demand_month_chart(monthly))
show_table(
    monthly,
    {
        "month": ColumnSpec("Måned", "month"),
        **DEMAND_COUNT_COLUMNS,
    },
    key="kap_demand_month",
    summary=True,
    export_as=(ctx.unit_name, ctx.ex.as_of),
    title="Henvendelser pr. måned (månedens egne henvendelser)",
    filters=filters,
)
pareto = reasons_pareto(ctx.ex, ctx.scope, ctx.as_of, start)
st.markdown("##### Årsager (Pareto)")
if pareto.height:
    show_chart(pareto_chart(pareto))
show_table(
    pareto,
    {
        "reason": ColumnSpec("Årsag"),
        "demand_type": ColumnSpec("Type"),
        "count": ColumnSpec("Antal", "int"),
        "share_pct": ColumnSpec("Andel", "pct"),
        "cumulative_pct": ColumnSpec("Akkumuleret andel", "pct"),
    },
    key="kap_pareto",
    summary=True,
    export_as=(ctx.unit_name, ctx.ex.as_of),
    title="Årsager til henvendelser",
    filters=filters,
)
channels = demand_by_channel(ctx.ex, ctx.scope, ctx.as_of, start)
st.markdown("##### Kanaler")
show_chart(channel_chart(channels))
show_table(
    channels,
    {
        "channel": ColumnSpec("Kanal"),
        **DEMAND_COUNT_COLUMNS,
    },
    key="kap_channels",
    summary=True,
    export_as=(ctx.unit_name, ctx.ex.as_of),
    title="Henvendelser pr. kanal",
    filters=filters,
)
