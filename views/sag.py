"""Sag: one case's facts, interventions on a timeline, monthly actual against planned cost,
payments, totals and deadlines."""

from __future__ import annotations

from typing import Any

import altair as alt
import polars as pl
import streamlit as st

from metrics.casework import (
    AccessDenied,
    CaseDetail,
    CaseNotKnownYet,
    case_detail,
    require_known_case,
)
from metrics.charts import danish
from metrics.drill import search_cases
from ui.auth import audit_denied, audit_view, download_audit
from ui.context import PageContext, page_context
from ui.fmt import fmt_date, fmt_dkk, fmt_month, fmt_num, md_escape
from ui.rows import show_rows
from ui.tables import ColumnSpec, show_table

P_CASE = "sag"
PAGE = "sag"
NO_ACCESS = "Sagen findes ikke eller du har ikke adgang."

CATEGORY_LABELS = {"anbringelse": "Anbringelse", "forebyggende": "Forebyggende", "andet": "Andet"}
STATUS_ICONS = {  # symbols the default fonts have: the word carries the meaning, not a colour
    "met_on_time": "✓ Overholdt",
    "met_late": "! Afsluttet for sent",
    "open": "○ Åben",
    "overdue": "⚠ Overskredet",
}

INTERVENTION_COLUMNS: dict[str, ColumnSpec] = {
    "kind_name": ColumnSpec("Indsats"),
    "category_label": ColumnSpec("Kategori"),
    "provider": ColumnSpec("Leverandør"),
    "decided_on": ColumnSpec("Bevilget", "date"),
    "start_on": ColumnSpec("Start", "date"),
    "end_on": ColumnSpec("Slut", "date"),
    "open_text": ColumnSpec("Åben slut"),
    "monthly_cost": ColumnSpec("Månedlig udgift", "dkk"),
}
PAYMENT_COLUMNS: dict[str, ColumnSpec] = {  # period and amount first: what a phone shows
    "period": ColumnSpec("Periode (måned)", "month"),
    "amount": ColumnSpec("Beløb", "dkk"),
    "kind_name": ColumnSpec("Indsats"),
    "posted_on": ColumnSpec("Bogført", "date"),
    "payment_id": ColumnSpec("Betaling"),
}
DEADLINE_COLUMNS: dict[str, ColumnSpec] = {
    "kind_label": ColumnSpec("Frist"),
    "started_on": ColumnSpec("Startet", "date"),
    "due_on": ColumnSpec("Fristdato", "date"),
    "done_on": ColumnSpec("Afsluttet", "date"),
    "status_text": ColumnSpec("Status"),
}


def refuse(ctx: PageContext, case_id: str) -> bool:
    """Say why a case can't be opened (and log a refusal); False if it can."""
    try:
        require_known_case(ctx.ex, ctx.viewer, case_id, ctx.as_of)
    except AccessDenied as e:
        audit_denied(ctx.ex, ctx.viewer, PAGE, e)
        st.error(NO_ACCESS)
        return True
    except CaseNotKnownYet as e:
        st.error(
            f"Sag {md_escape(case_id)} er oprettet {fmt_date(e.opened_on)}, efter opgørelsesdatoen "
            f"{fmt_date(ctx.as_of)}."
        )
        return True
    return False


SEARCH_KEY, PAGE_KEY = "sag_soeg", "sag_side"
PAGE_SIZE = 50
SEARCH_COLUMNS: dict[str, ColumnSpec] = {
    "case_id": ColumnSpec("Sag"),
    "status": ColumnSpec("Status"),
    "last_activity": ColumnSpec("Seneste aktivitet", "date"),
    "child_id": ColumnSpec("Barn (pseudonym)"),
    "caseworker_name": ColumnSpec("Rådgiver"),
    "unit_name": ColumnSpec("Enhed"),
}


def _first_page() -> None:
    st.session_state[PAGE_KEY] = 0


def _turn(step: int) -> None:
    st.session_state[PAGE_KEY] = max(0, st.session_state.get(PAGE_KEY, 0) + step)


def find_cases(ctx: PageContext) -> list[str]:
    """The case finder: a search over the cases the viewer may open in the chosen unit (partial
    case id, child pseudonym or caseworker name; metrics.drill.search_cases), newest activity
    first, a page at a time, each case linking to Sag. Returns the page's case ids."""
    query = st.text_input(
        "Find en sag",
        key=SEARCH_KEY,
        placeholder="Sagsnummer, barnets pseudonym eller rådgiverens navn – også en del af det",
        on_change=_first_page,
    )
    found = search_cases(
        ctx.ex, ctx.viewer, ctx.as_of, ctx.unit_id, query,
        offset=st.session_state.get(PAGE_KEY, 0) * PAGE_SIZE, limit=PAGE_SIZE,
    )  # fmt: skip
    if found.total == 0:
        st.info(
            "Ingen sager matcher søgningen."
            if query.strip()
            else "Der er ingen sager i enheden, du har adgang til."
        )
        return []
    first, last = found.offset + 1, found.offset + found.rows.height
    st.caption(
        f"{fmt_num(found.total)} sager i {md_escape(ctx.unit_name)}"
        + (f" matcher {md_escape(query.strip())!s}" if query.strip() else "")
        + f" · viser {fmt_num(first)}–{fmt_num(last)}, nyeste aktivitet først."
    )
    show_rows(ctx, found.rows, SEARCH_COLUMNS, key="sag_soeg", title="Sager", page=PAGE)
    if found.total > PAGE_SIZE:
        nav = st.container(horizontal=True, gap="small")
        nav.button("← Forrige", key="sag_forrige", on_click=_turn, args=(-1,), disabled=found.offset == 0)
        nav.button("Næste →", key="sag_naeste", on_click=_turn, args=(1,), disabled=last >= found.total)
    return [str(c) for c in found.rows["case_id"].to_list()]


def pick_case(ctx: PageContext) -> str | None:
    """The case finder (while no case is open, or when asked for) and the case selectbox,
    bound to the URL, holding the finder's page of cases; any id, from the URL or typed, is
    checked in the data layer before anything is shown."""
    raw = st.query_params.get(P_CASE)
    if raw is not None and refuse(ctx, raw):
        return None
    options: list[str] = []
    if raw is None or st.toggle("Find en anden sag", key="sag_find_igen"):
        options = find_cases(ctx)
    if raw is not None and raw not in options:  # e.g. a link to a case in another unit
        options.insert(0, raw)
    chosen = st.selectbox(
        "Sag",
        options,
        index=None,
        key=P_CASE,
        bind="query-params",
        accept_new_options=True,
        placeholder="Vælg en sag fra listen eller skriv sagsnummeret",
        help="Sagerne på listen ovenfor. Du kan også skrive et sagsnummer.",
    )
    if chosen is not None and chosen != raw and refuse(ctx, chosen):
        return None
    return chosen


def facts(d: CaseDetail) -> None:
    f = d.facts
    status = f"Lukket {fmt_date(f.closed_on)}" if f.closed_on else "Aktiv"
    items = {
        "Barn (pseudonym)": md_escape(f.child_id),
        "Fødselsår": str(f.birth_year),
        "Alder i år": str(f.age),
        "Enhed": md_escape(f.unit_name),
        "Rådgiver": md_escape(f.caseworker_name or "ingen"),
        "Oprettet": fmt_date(f.opened_on),
        "Status": status,
    }
    st.markdown(" · ".join(f"**{k}:** {v}" for k, v in items.items()))
    st.caption("Alder i år = opgørelsesårets årstal − fødselsår.")


def totals(d: CaseDetail) -> None:
    c = st.columns(4)
    c[0].metric(
        "Udbetalt siden sagen blev oprettet",
        fmt_dkk(d.total_since_opened),
        help="Alle betalinger bogført senest på opgørelsesdatoen.",
    )
    c[1].metric("Forbrug i år", fmt_dkk(d.economy.actual))
    c[2].metric("Disponeret resten af året", fmt_dkk(d.economy.committed))
    c[3].metric(
        "Forventet i år",
        fmt_dkk(d.economy.expected),
        help="Forbrug i år + disponeret for månederne efter opgørelsesmåneden.",
    )


def _template(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """A layered chart's spec without data: Altair names a placeholder dataset in every layer,
    which would hide the data passed to st.vega_lite_chart; without it the layers inherit it."""
    spec = chart.to_dict()
    spec.pop("datasets", None)
    for layer in spec.get("layer", []):
        layer.pop("data", None)
    return spec


# Building and validating an Altair chart costs ~100 ms, which a rerun should not pay for a
# constant spec: the charts are Vega-Lite templates, cached (st.cache_data survives the page
# file being re-executed on every run; functools.cache would not), and the data comes per run.
@st.cache_data(show_spinner=False)
def _timeline_spec() -> dict[str, Any]:
    # one row per intervention (a renewal of the same kind overlaps its predecessor)
    y = alt.Y(
        "row_label:N",
        title=None,
        sort=alt.EncodingSortField("start_on", op="min"),
        axis=alt.Axis(labelLimit=320),
    )
    base = alt.Chart()
    bars = base.mark_bar(cornerRadius=3, height={"band": 0.6}).encode(
        x=alt.X("start_on:T", title=None, axis=alt.Axis(format="%b %Y")),
        x2="bar_end:T",
        y=y,
        color=alt.Color(
            "category_label:N",
            title="Kategori",
            scale=alt.Scale(domain=list(CATEGORY_LABELS.values())),
            legend=alt.Legend(orient="top"),
        ),
        # an ongoing intervention keeps its category's full colour (a lighter bar would read as
        # another category); it is marked by a dark dashed outline and »løbende ▶«
        stroke=alt.condition("datum.open_ended", alt.value("#1B1F24"), alt.value(None)),
        strokeDash=alt.condition("datum.open_ended", alt.value([5, 3]), alt.value([1, 0])),
        strokeWidth=alt.condition("datum.open_ended", alt.value(1.5), alt.value(0)),
        tooltip=[
            alt.Tooltip("kind_name:N", title="Indsats"),
            alt.Tooltip("intervention_id:N", title="Indsats-id"),
            alt.Tooltip("provider:N", title="Leverandør"),
            alt.Tooltip("start_on:T", title="Start", format="%d. %b %Y"),
            alt.Tooltip("end_label:N", title="Slut"),
            alt.Tooltip("monthly_cost:Q", title="Månedlig udgift (kr.)", format=",.0f"),
        ],
    )
    open_ends = (
        base.transform_filter("datum.open_ended")
        .mark_text(align="right", dx=-4, fontWeight="bold")
        .encode(x="bar_end:T", y=y, text=alt.value("løbende ▶"))
    )
    today = base.mark_rule(strokeDash=[4, 3], color="gray").encode(
        x="as_of:T", tooltip=[alt.Tooltip("as_of:T", title="Opgørelsesdato", format="%d. %b %Y")]
    )
    return _template(danish(alt.layer(bars, open_ends, today)))


ACTUAL_LABEL, PLANNED_LABEL = "Forbrug (bogført)", "Planlagt (indsatsernes pris)"


@st.cache_data(show_spinner=False)
def _monthly_spec() -> dict[str, Any]:
    # twelve discrete months: a temporal axis would add a 13th tick ("jan") after December
    x = alt.X("month:O", title=None, timeUnit="month", axis=alt.Axis(format="%b", labelAngle=0))
    y_title = "kr. pr. måned"
    tooltip = [
        alt.Tooltip("month:T", title="Måned", timeUnit="yearmonth", format="%B %Y"),
        alt.Tooltip("actual:Q", title="Forbrug (kr.)", format=",.0f"),
        alt.Tooltip("planned:Q", title="Planlagt (kr.)", format=",.0f"),
    ]
    colour = alt.Scale(domain=[ACTUAL_LABEL, PLANNED_LABEL], range=["#9CC3E0", "#C4531A"])
    bars = (
        alt.Chart()
        .transform_calculate(series=f"'{ACTUAL_LABEL}'")
        .mark_bar(width={"band": 0.7})
        .encode(
            x=x,
            y=alt.Y("actual:Q", title=y_title, axis=alt.Axis(format=",.0f")),
            color=alt.Color("series:N", scale=colour, legend=alt.Legend(title=None)),
            tooltip=tooltip,
        )
    )
    # on top of the bars, dark and with a white halo, so it shows where it runs along their tops
    halo = (
        alt.Chart().mark_line(strokeWidth=5, color="white").encode(x=x, y=alt.Y("planned:Q", title=y_title))
    )
    line = (
        alt.Chart()
        .transform_calculate(series=f"'{PLANNED_LABEL}'")
        .mark_line(point=alt.OverlayMarkDef(size=45, filled=True), strokeWidth=2.5)
        .encode(
            x=x,
            y=alt.Y("planned:Q", title=y_title),
            color=alt.Color("series:N", scale=colour),
            tooltip=tooltip,
        )
    )
    chart = danish(alt.layer(bars, halo, line).properties(height=260))
    return _template(chart.configure_legend(orient="top", title=None, labelLimit=0))


def timeline_frame(d: CaseDetail, ctx: PageContext) -> pl.DataFrame:
    return d.interventions.with_columns(
        pl.col("category")
        .replace_strict(CATEGORY_LABELS, default=pl.col("category"))
        .alias("category_label"),
        pl.when(pl.col("open_ended"))
        .then(pl.lit("løbende"))
        .otherwise(pl.col("end_on").map_elements(fmt_date, return_dtype=pl.String))
        .alias("end_label"),
        pl.when(pl.col("open_ended"))
        .then(pl.lit("Ja – løbende"))
        .otherwise(pl.lit("Nej"))
        .alias("open_text"),
        pl.lit(ctx.as_of).alias("as_of"),
        pl.Series("row_label", row_labels(d.interventions), dtype=pl.String),
    )


def row_labels(interventions: pl.DataFrame) -> list[str]:
    """Timeline row labels a reader can tell apart: kind and period ("Opholdssted · mar. 2024 –
    løbende"); two rows alike in that get their intervention id too."""
    labels = [
        f"{kind} · {fmt_month(start)} – {'løbende' if end is None else fmt_month(end)}"
        for kind, start, end in interventions.select("kind_name", "start_on", "end_on").iter_rows()
    ]
    ids = interventions["intervention_id"].to_list()
    return [f"{lbl} ({iid})" if labels.count(lbl) > 1 else lbl for lbl, iid in zip(labels, ids, strict=True)]


def timeline(d: CaseDetail, frame: pl.DataFrame) -> None:
    spec = _timeline_spec()  # a fresh copy per call
    # the height holds the legend and the axis too (autosize "fit")
    spec["height"] = 110 + 36 * d.interventions.height
    st.vega_lite_chart(frame, spec, width="stretch")


def payments(d: CaseDetail, ctx: PageContext, case_id: str, filters: dict[str, str]) -> None:
    """Newest first: this year's payments open, earlier years folded away."""
    this_year = d.payments.filter(pl.col("this_year"))
    earlier = d.payments.filter(~pl.col("this_year"))

    def table(rows: pl.DataFrame, key: str, title: str) -> None:
        show_table(
            rows,
            PAYMENT_COLUMNS,
            key=key,
            export_as=(ctx.unit_name, ctx.ex.as_of),
            title=f"{title} – sag {case_id}",
            filters=filters,
            phone=("period", "amount"),
            audit=download_audit(ctx, PAGE, [case_id]),
        )

    if this_year.height:
        table(this_year, "sag_betalinger", f"Betalinger {ctx.as_of.year}")
    else:
        st.markdown(f"##### Betalinger {ctx.as_of.year}")
        st.caption(f"Ingen betalinger for måneder i {ctx.as_of.year}.")
    # a toggle, not an expander: a folded expander still loads its grid (a component iframe that
    # costs the browser ~0.5 s), a toggle that is off draws nothing
    if earlier.height and st.toggle(
        f"Vis betalinger for tidligere år ({fmt_num(earlier.height)})", key=f"sag_tidligere_{case_id}"
    ):
        with st.container():
            table(earlier, "sag_betalinger_tidligere", f"Betalinger før {ctx.as_of.year}")


def main() -> None:
    ctx = page_context()
    if ctx is None:
        return
    st.title("Sag")
    if not ctx.viewer.sees_case_rows:
        if (raw := st.query_params.get(P_CASE)) is not None:  # a link asked for one: a denied attempt
            audit_denied(ctx.ex, ctx.viewer, PAGE, f"sag {raw}", case_ids=[raw])
        st.info("Din rolle giver ikke adgang til oplysninger om enkelte sager.")
        return
    case_id = pick_case(ctx)
    if case_id is None:
        if P_CASE not in st.query_params:
            st.info("Vælg en sag ovenfor, eller åbn den fra Rådgiveroverblik.")
        return
    try:
        d = case_detail(ctx.ex, ctx.viewer, case_id, ctx.as_of)
    except AccessDenied as e:  # the options are the visible cases; this is a second line
        audit_denied(ctx.ex, ctx.viewer, PAGE, e)
        st.error(NO_ACCESS)
        return
    audit_view(ctx, page=PAGE, case_ids=[case_id])

    facts(d)
    totals(d)
    filters = ctx.filters() | {"Sag": case_id}

    st.markdown("##### Indsatser")
    if d.interventions.height:
        frame = timeline_frame(d, ctx)
        timeline(d, frame)
        st.caption("Stiplet kant og »løbende ▶«: indsatsen har ingen slutdato.")
        show_table(
            frame,
            INTERVENTION_COLUMNS,
            key="sag_indsatser",
            summary=True,
            export_as=(ctx.unit_name, ctx.ex.as_of),
            title=f"Indsatser – sag {case_id}",
            filters=filters,
            audit=download_audit(ctx, PAGE, [case_id]),
        )
    else:
        st.info("Sagen har ingen bevilgede indsatser på datoen.")

    st.markdown(f"##### Forbrug og planlagt udgift pr. måned {ctx.as_of.year}")
    st.vega_lite_chart(d.monthly, _monthly_spec(), width="stretch")
    st.caption(
        "Forbrug: betalinger for måneden bogført senest på opgørelsesdatoen. Planlagt: indsatsernes "
        "månedlige pris × den andel af månedens dage, indsatsen løber."
    )

    payments(d, ctx, case_id, filters)
    if d.deadlines.height:
        show_table(
            d.deadlines.with_columns(pl.col("status").replace_strict(STATUS_ICONS).alias("status_text")),
            DEADLINE_COLUMNS,
            key="sag_frister",
            summary=True,
            export_as=(ctx.unit_name, ctx.ex.as_of),
            title=f"Frister – sag {case_id}",
            filters=filters,
            audit=download_audit(ctx, PAGE, [case_id]),
        )
    else:
        st.markdown("##### Frister")
        st.caption("Ingen frister på sagen.")


main()
