"""Scorecard (målekort): KPI tiles by perspective with status, change, trend and definition,
then the cascade of the chosen unit's child units × KPIs. Choosing a child drills down.

Thin: every figure comes from metrics.scorecard; this file formats and lays out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import streamlit as st

from metrics import drill, reports
from metrics.access import LEADER_ROLES, can_see_unit
from metrics.audit import rows_without_case
from metrics.contract import TABLE_LABELS
from metrics.export import export_file_name
from metrics.notes import Subject
from metrics.pack import build_scorecard_xlsx
from metrics.scorecard import (
    Action,
    CascadeRow,
    KpiDetail,
    KpiSpec,
    Scorecard,
    ScorecardError,
    cascade,
    check_metrics,
    default_scorecard_path,
    for_extract,
    load_scorecard,
    owner_of,
    previous_month_end,
    scorecard_details,
    status_counts,
)
from ui.context import (
    P_AS_OF,
    P_EXTRACT,
    P_UNIT,
    PHONE_ONLY,
    TILE_MORE,
    PageContext,
    load_cached,
    page_context,
)
from ui.fmt import fmt_date, fmt_delta, fmt_num, fmt_value, md_escape
from ui.notes import action_status_panel, notes_panel
from ui.rows import show_rows
from ui.sparkline import sparkline_spec
from ui.tables import ColumnSpec

# status → (icon, word, badge colour, cell background, line colour): never colour alone
STATUS = {
    "green": ("🟢", "Grøn – på mål", "green", "#d3f9d8", "#2b8a3e"),
    "yellow": ("🟡", "Gul – tæt på målet", "yellow", "#fff3bf", "#e67700"),
    "red": ("🔴", "Rød – ikke på mål", "red", "#ffe3e3", "#c92a2a"),
    "none": ("⚪", "Ingen data", "gray", "#f1f3f5", "#868e96"),
}
SUMMARY_WORD = {"green": "på mål", "yellow": "tæt på", "red": "ikke på mål", "none": "uden data"}
DELTA_COLOUR = {True: "green", False: "red", None: "gray"}
PAGE = "scorecard"
P_KPI = "kpi"  # a link (e.g. from Økonomimøde) to one KPI's tile
P_BEHIND = "bag"  # the KPI whose rows are shown under its tile (drill-through)
PAGE = "scorecard"
EVERY_UNIT = {
    "kommune": "kommunen",
    "forvaltning": "hver forvaltning",
    "afdeling": "hver afdeling",
    "team": "hvert team",
}


# Figures per unit and date, cached on plain values (paths, modification times, ids, dates):
# the tiles and the cascade separately, so the tiles show while the cascade is computed.
Key = tuple[str, float, str, float]  # extract path, its mtime, scorecard path, its mtime
Within = tuple[str, ...] | None  # PageContext.within as a plain, sorted value


def _within(ctx: PageContext) -> Within:
    return None if ctx.within is None else tuple(sorted(ctx.within))


@st.cache_data(max_entries=64, show_spinner="Beregner nøgletal …")
def _details(key: Key, unit_id: str, as_of: date, within: Within = None) -> list[KpiDetail]:
    ex = load_cached(Path(key[0]))
    units = None if within is None else frozenset(within)
    return scorecard_details(ex, load_scorecard(Path(key[2])), unit_id, as_of, units)


@st.cache_data(max_entries=64, show_spinner="Beregner underenhedernes nøgletal …")
def _cascade_rows(key: Key, unit_id: str, as_of: date, within: Within = None) -> list[CascadeRow]:
    ex = load_cached(Path(key[0]))
    units = None if within is None else frozenset(within)
    return cascade(ex, load_scorecard(Path(key[2])), unit_id, as_of, units)


@dataclass(frozen=True)
class Figures:
    card: Scorecard
    key: Key | None  # None: an extract not loaded from files, computed without the cache

    def details(self, ctx: PageContext) -> list[KpiDetail]:
        if self.key is None:
            return scorecard_details(ctx.ex, self.card, ctx.unit_id, ctx.as_of, ctx.within)
        return _details(self.key, ctx.unit_id, ctx.as_of, _within(ctx))

    def cascade(self, ctx: PageContext) -> list[CascadeRow]:
        if self.key is None:
            return cascade(ctx.ex, self.card, ctx.unit_id, ctx.as_of, ctx.within)
        return _cascade_rows(self.key, ctx.unit_id, ctx.as_of, _within(ctx))


def _load(ctx: PageContext) -> Figures | None:
    path = default_scorecard_path()
    try:
        card = load_scorecard(path)
        check_metrics(ctx.ex, card)
        card = for_extract(ctx.ex, card)  # no tile for a KPI whose optional table is absent
    except ScorecardError as e:
        st.error(f"Scorecardet kan ikke vises, fordi scorecard-filen har en fejl:\n\n{e}", icon="🛑")
        return None
    if ctx.ex.path is None:
        return Figures(card, None)
    key = (
        str(ctx.ex.path),
        (ctx.ex.path / "manifest.json").stat().st_mtime,
        str(path.resolve()),
        path.stat().st_mtime,
    )
    return Figures(card, key)


def _go_to(unit_id: str) -> None:
    st.session_state[P_UNIT] = unit_id


def _drill(widget_key: str) -> None:
    chosen = st.session_state.get(widget_key)
    if chosen:
        st.session_state[P_UNIT] = chosen


def _cell_drill(widget_key: str, unit_ids: list[str]) -> None:
    """A selected cascade cell opens its unit on this page."""
    state = st.session_state.get(widget_key)
    cells = state.selection.cells if state is not None else []
    if cells and 0 <= cells[0][0] < len(unit_ids):
        st.session_state[P_UNIT] = unit_ids[cells[0][0]]


def _target_text(spec: KpiSpec, fmt: str) -> str:
    sign = "≥" if spec.direction == "higher" else "≤"
    text = f"Mål {sign} {fmt_value(spec.target, fmt)}"
    if spec.tolerance:
        text += f" · gul til {fmt_value(spec.yellow_limit, fmt)}"
    return text


def _sparkline(d: KpiDetail) -> dict[str, Any]:
    return sparkline_spec(
        STATUS[d.row.status][4],
        [(p.month, p.value, fmt_value(p.value, d.format)) for p in d.trend],
        d.spec.target,
    )


def _definition(d: KpiDetail, ctx: PageContext) -> str:
    spec = d.spec
    owner = owner_of(ctx.tree, spec, ctx.unit_id)
    lines = []
    if spec.success_factor:
        lines.append(f"**Kritisk succesfaktor:** {spec.success_factor}")
    if spec.method:
        lines.append(f"**Målemetode:** {spec.method}")
    if spec.source:
        lines.append(f"**Datakilde:** {spec.source}")
    lines.append(f"**Beregning:** {d.description}")
    lines.append(
        f"**Status:** grøn ved {'≥' if spec.direction == 'higher' else '≤'} {fmt_value(spec.target, d.format)}"
        + (f", gul til og med {fmt_value(spec.yellow_limit, d.format)}" if spec.tolerance else "")
        + ", ellers rød. Uden værdi: ingen status."
    )
    if owner is not None:
        who = md_escape(ctx.tree.label(owner.unit_id)) if owner.unit_id else EVERY_UNIT[owner.level]
        lines.append(f"**Ansvarlig:** {who} ({owner.level})")
    lines.append(f"**Datagrundlag:** {fmt_num(d.basis)} rækker på {fmt_date(ctx.as_of)}.")
    lines.append(_signal_line(d))
    tables = ", ".join(f"{TABLE_LABELS.get(t, t).lower()} {fmt_num(n)}" for t, n in d.set_aside.items())
    if d.set_aside_total:
        lines.append(
            f"**Sat til side:** valideringen har sat {fmt_num(d.set_aside_total)} rækker til side i "
            f"tabellerne bag tallet ({tables}); tallet er uden dem."
        )
    else:
        lines.append(f"**Sat til side:** ingen rækker i tabellerne bag tallet ({tables}).")
    return "\n\n".join(lines)


def _signal_line(d: KpiDetail) -> str:
    """One line on the signal mark: rules 1 and 2 on the months' own values, not on YTD."""
    sig = d.signal
    months = 0 if sig is None else sig.own.height
    base = (
        f"**Signal eller støj:** ⚡ vises, når denne måneds egen værdi (kun månedens tal, ikke år til dato) "
        f"ligger uden for de naturlige grænser for de seneste {fmt_num(months)} måneder eller er 8. måned i "
        "træk på samme side af gennemsnittet – så har noget ændret sig; ellers er udsvinget almindelig støj."
    )
    if sig is not None and sig.shown:
        return base + " **Denne måned er et signal.**"
    return base


def _action(a: Action) -> str:
    who = f"  \n:small[Ansvarlig: {a.responsible}]" if a.responsible else ""
    due = f"  \n:small[Frist: {fmt_date(a.due)}]" if a.due else ""
    return f"- **{a.text}**  \n*Succeskriterium:* {a.success_criterion}{who}{due}"


def _tile(d: KpiDetail, ctx: PageContext, card: Scorecard) -> None:
    spec, row = d.spec, d.row
    icon, word, colour, _, _ = STATUS[row.status]
    delta = None if d.change is None else fmt_delta(d.change, d.format)
    # a change too small to show ("+0,0") gets no arrow and no colour
    shown_zero = delta is not None and delta.lstrip("+−") == fmt_delta(0.0, d.format)
    linked = st.query_params.get(P_KPI) == spec.id
    with st.container(border=True, key=f"tile_{spec.id}"):
        if linked:
            st.markdown(":blue-badge[📍 Nøgletallet fra linket]")
        st.metric(
            spec.name,
            fmt_value(row.value, d.format),
            delta=delta,
            delta_color="gray" if shown_zero else DELTA_COLOUR[d.improved],
            delta_arrow="off" if shown_zero or not d.change else ("up" if d.change > 0 else "down"),
            delta_description=f"siden {fmt_date(previous_month_end(ctx.as_of))}",
            icon=icon,
            help=spec.success_factor or None,
        )
        signal = " :violet-badge[⚡ Signal]" if d.signal is not None and d.signal.shown else ""
        st.markdown(f":{colour}-badge[{icon} {word}]{signal} :small[{_target_text(spec, d.format)}]")
        _behind_button(d, ctx)
        # on a phone a tile is its value and status: the rest is folded away (ui.context's style)
        with st.container(key=f"{TILE_MORE}{spec.id}"):
            _tile_more(d, ctx, card)


ACTIONS_OPEN, DEFINITION_OPEN = "handlinger_aaben_", "definition_aaben_"


def _tile_more(d: KpiDetail, ctx: PageContext, card: Scorecard) -> None:
    """A tile under its value and status: the trend, explanations and decisions, actions, definition."""
    spec = d.spec
    if len(d.trend) > 1:
        st.vega_lite_chart(_sparkline(d), width="stretch")
    notes_panel(
        ctx.ex,
        ctx.viewer,
        Subject.kpi(spec.id, ctx.unit_id),
        ctx.ex.as_of,
        key=f"noter_{spec.id}",
        page=PAGE,
    )
    # Lazy: an expander's content is drawn only once it is opened (a rerun), so a page switch
    # does not send 12 tiles' action forms and definitions that nobody has opened.
    if spec.actions:
        actions = st.expander(
            f"Handlinger ({len(spec.actions)})", icon="📌", key=f"{ACTIONS_OPEN}{spec.id}", on_change="rerun"
        )
        if actions.open:
            with actions:
                for i, a in enumerate(spec.actions):
                    st.markdown(_action(a))
                    action_status_panel(
                        ctx.ex, ctx.viewer, a, ctx.unit_id, card, key=f"handling_{spec.id}_{i}"
                    )
    definition = st.expander(
        "Definition og datagrundlag", icon="ℹ️", key=f"{DEFINITION_OPEN}{spec.id}", on_change="rerun"
    )
    if definition.open:
        definition.markdown(_definition(d, ctx))


# --- drill-through: the rows behind a tile's number ------------------------------------

BEHIND_LABEL = {
    "overdue_deadlines": "Vis sagerne bag tallet",
    "deadlines": "Vis sagerne bag tallet",
    "notifications_24h": "Vis rækkerne bag tallet",
    "caseload": "Vis rådgiverne bag tallet",
    "long_sick_spells": "Vis de lange sygeforløb",
}


def _drill_kind(d: KpiDetail, ctx: PageContext) -> str | None:
    """Which rows stand behind the tile for this viewer (None: none they may see)."""
    kind = drill.DRILLS.get(d.spec.metric)
    if kind is None or kind == "oekonomi":
        return kind
    if not ctx.viewer.sees_case_rows:
        return None
    if kind == "long_sick_spells" and ctx.viewer.role not in (*LEADER_ROLES, "system"):
        return None
    return kind


def _open_behind(kpi_id: str) -> None:
    st.query_params[P_BEHIND] = kpi_id


def _close_behind() -> None:
    st.query_params.pop(P_BEHIND, None)


def _behind_button(d: KpiDetail, ctx: PageContext) -> None:
    kind = _drill_kind(d, ctx)
    if kind == "oekonomi":
        view = {P_EXTRACT: ctx.ex.as_of.isoformat(), P_AS_OF: ctx.as_of.isoformat(), P_UNIT: ctx.unit_id}
        st.page_link(
            "views/oekonomi.py",
            label="Vis økonomien bag tallet",
            icon=":material/table_rows:",
            query_params=view,
        )
    elif kind is not None:
        st.button(
            BEHIND_LABEL[kind],
            key=f"behind_{d.spec.id}",
            icon=":material/table_rows:",
            on_click=_open_behind,
            args=(d.spec.id,),
            type="tertiary",
        )


def _behind(d: KpiDetail, ctx: PageContext) -> None:
    """The rows the tile's number counts (metrics.drill), within the viewer's scope, audited."""
    kind = _drill_kind(d, ctx)
    if kind is None or kind == "oekonomi":
        return
    ex, viewer, scope, as_of = ctx.ex, ctx.viewer, ctx.scope, ctx.as_of
    with st.container(border=True, key=f"behind_rows_{d.spec.id}"):
        head, close = st.columns([5, 1], vertical_alignment="center")
        head.markdown(
            f"**Bag tallet: {md_escape(d.spec.name)}** · {md_escape(ctx.unit_name)} · {fmt_date(as_of)}"
        )
        close.button("Luk", key="behind_close", icon=":material/close:", on_click=_close_behind)
        if viewer.role == "raadgiver":
            st.caption("Du ser kun rækkerne fra dine egne sager; tallet gælder hele enheden.")
        title = f"Bag tallet – {d.spec.name}"
        if kind == "overdue_deadlines":
            rows = drill.overdue_deadline_rows(ex, viewer, scope, as_of)
            columns = {
                "case_id": ColumnSpec("Sag"),
                "kind_label": ColumnSpec("Frist"),
                "due_on": ColumnSpec("Fristdato", "date"),
                "days_overdue": ColumnSpec("Dage over fristen", "int"),
                "caseworker_name": ColumnSpec("Rådgiver"),
                "unit_name": ColumnSpec("Enhed"),
            }
            st.caption("Frister, hvor fristdagen er passeret, og som ikke var afsluttet på datoen.")
            show_rows(ctx, rows, columns, key="behind", title=title, page=PAGE)
        elif kind == "deadlines":
            rows = drill.deadline_rows(ex, viewer, scope, as_of, drill.DEADLINE_KINDS[d.spec.metric])
            columns = {
                "case_id": ColumnSpec("Sag"),
                "met_label": ColumnSpec("Overholdt"),
                "kind_label": ColumnSpec("Frist"),
                "due_on": ColumnSpec("Fristdato", "date"),
                "done_on": ColumnSpec("Afsluttet", "date"),
                "caseworker_name": ColumnSpec("Rådgiver"),
                "unit_name": ColumnSpec("Enhed"),
            }
            st.caption(
                "Alle frister med fristdato i år til og med datoen (tallets nævner); de ikke overholdte står først."
            )
            show_rows(ctx, rows, columns, key="behind", title=title, page=PAGE)
        elif kind == "notifications_24h":
            rows = drill.notification_24h_rows(ex, viewer, scope, as_of)
            columns = {
                "case_id": ColumnSpec("Sag"),
                "on_time_label": ColumnSpec("Vurderet"),
                "notification_id": ColumnSpec("Underretning"),
                "received_at": ColumnSpec("Modtaget", "datetime"),
                "assessed_at": ColumnSpec("Vurderet den", "datetime"),
                "hours": ColumnSpec("Timer", "num", 0),
                "unit_name": ColumnSpec("Enhed"),
            }
            st.caption(
                "Underretninger modtaget i år, hvis 24 timer er gået (tallets nævner); de for sent vurderede "
                "står først. Timer: til vurderingen, eller til dagens slutning, hvis den ikke er vurderet."
            )
            show_rows(
                ctx, rows, columns, key="behind", title=title, page=PAGE, target=rows_without_case(rows)
            )
        elif kind == "caseload":
            rows = drill.caseload_rows(ex, viewer, scope, as_of)
            columns = {
                "name": ColumnSpec("Rådgiver"),
                "active_cases": ColumnSpec("Aktive sager", "int"),
                "fte": ColumnSpec("Årsværk", "num", 2),
                "cases_per_fte": ColumnSpec("Sager pr. årsværk", "num", 1),
                "unit_name": ColumnSpec("Enhed"),
            }
            st.caption(
                "Aktive sager pr. rådgiver og rådgiverens årsværk i enheden; tallet = alle sagerne ÷ alle årsværkene. "
                "Årsværk 0: rådgiveren tæller ikke med i enheden på datoen (fx fratrådt eller i en anden enhed)."
            )
            ids = ", ".join(rows["caseworker_id"].drop_nulls().to_list())
            show_rows(
                ctx, rows, columns, key="behind", title=title, page=PAGE, case_col=None,
                target=f"sagsbelastning: employee_id: {ids}" if ids else None,
            )  # fmt: skip
        elif kind == "long_sick_spells":
            rows = reports.long_sick_spells(ex, viewer, scope, as_of)
            columns = {
                "name": ColumnSpec("Medarbejder"),
                "days": ColumnSpec("Kalenderdage", "int"),
                "ongoing_label": ColumnSpec("Status"),
                "start_on": ColumnSpec("Fra", "date"),
                "end_on": ColumnSpec("Til", "date"),
                "unit_name": ColumnSpec("Enhed"),
            }
            st.caption("Sammenhængende egen sygdom over 14 kalenderdage i år.")
            ids = ", ".join(dict.fromkeys(rows["employee_id"].to_list()))
            show_rows(
                ctx, rows, columns, key="behind", title=title, page=PAGE, case_col=None,
                target=f"langt sygefravær: employee_id: {ids}" if ids else None,
            )  # fmt: skip


def _summary(details: list[KpiDetail]) -> str:
    counts = status_counts([d.row for d in details])
    return " ".join(
        f":{STATUS[s][2]}-badge[{STATUS[s][0]} {counts[s]} {SUMMARY_WORD[s]}]" for s in STATUS if counts[s]
    )


CASCADE_COLUMN_PX = 74


def _cascade(figures: Figures, details: list[KpiDetail], ctx: PageContext) -> None:
    st.subheader("Kaskade ned i organisationen")
    if not ctx.tree.children.get(ctx.unit_id):
        st.caption(f"{md_escape(ctx.unit_name)} har ingen underenheder.")
        return
    card, rows = figures.card, figures.cascade(ctx)
    kids = [r for r in rows if not r.is_total]
    st.caption(
        "Hver enheds tal er beregnet for enheden selv (brøker genberegnes, de gennemsnittes ikke). "
        "Klik på en celle for at åbne enheden her, eller brug knapperne under tabellen."
    )
    # pandas (for the Styler's cell colours) only here, at the end of the page: after a restart
    # the server's warm-up thread imports it (0.3 s) while this page computes its tiles
    import pandas as pd

    columns = [k.short_name for k in card.kpis]
    # a row without any figure says so in its name, and the caption below says why
    empty = [r.name for r in rows if all(c.status == "none" for c in r.cells)]
    index = [
        ("I alt: " if r.is_total else "") + r.name + (" – ingen data" if r.name in empty else "")
        for r in rows
    ]
    text = pd.DataFrame(
        [[f"{STATUS[c.status][0]} {fmt_value(c.value, d.format)}" for c, d in zip(r.cells, details, strict=True)]
         for r in rows],
        index=index,
        columns=columns,
    )  # fmt: skip
    css = pd.DataFrame(
        [[f"background-color: {STATUS[c.status][3]}" for c in r.cells] for r in rows],
        index=index,
        columns=columns,
    )
    styled = text.style.apply(lambda _: css, axis=None)
    cells_key = f"cascade_{ctx.unit_id}"
    st.dataframe(
        styled,
        key=cells_key,
        on_select=partial(_cell_drill, cells_key, [r.unit_id for r in rows]),
        selection_mode="single-cell",
        column_config={
            "_index": st.column_config.TextColumn("Enhed", pinned=True),
            # narrow enough for all KPI columns at 1440 px; the header's tooltip has the full name
            **{
                k.short_name: st.column_config.TextColumn(k.short_name, help=k.name, width=CASCADE_COLUMN_PX)
                for k in card.kpis
            },
        },
    )
    gaps = [r.name for r in rows if any(c.status == "none" for c in r.cells)]
    if gaps:
        st.caption(
            f"⚪ – betyder ingen data, ikke nul: nøgletallet har intet grundlag i enheden på datoen (ingen "
            f"sager, underretninger, frister, budget, fravær eller målinger, der hører til den). Gælder "
            f"{md_escape(', '.join(gaps))}."
            + (f" {md_escape(', '.join(empty))} har slet ingen tal." if empty else "")
        )
    key = f"drill_{ctx.unit_id}"
    st.pills(
        "Gå ned i",
        [r.unit_id for r in kids],
        format_func=lambda u: md_escape(ctx.tree.label(u)),
        key=key,
        on_change=_drill,
        args=(key,),
    )


def main() -> None:
    ctx = page_context()
    if ctx is None:
        return
    st.title("Scorecard")
    figures = _load(ctx)
    if figures is None:
        return
    card, details = figures.card, figures.details(ctx)
    head, nav = st.columns([5, 1], vertical_alignment="bottom")
    with head:
        st.markdown(f"**{card.title}** · {md_escape(ctx.unit_name)} · opgjort {fmt_date(ctx.as_of)}")
        st.markdown(_summary(details))
        st.container(key=f"{PHONE_ONLY}scorecard").caption(
            "På en lille skærm vises hvert nøgletal med værdi og status; tendens, forklaringer, "
            "handlinger og definition ses på en større skærm."
        )
    st.download_button(
        "Scorecard som Excel",
        data=lambda: build_scorecard_xlsx(ctx.ex, card, ctx.unit_id, ctx.as_of, ctx.filters(), ctx.viewer),
        file_name=export_file_name("scorecard", ctx.unit_name, ctx.ex.as_of, "xlsx"),
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="scorecard_xlsx",
        icon=":material/download:",
        on_click="ignore",
        help="Alle nøgletal med værdi, mål og status i ord.",
    )
    parent = ctx.tree.parent.get(ctx.unit_id)
    if parent is not None and can_see_unit(ctx.ex, ctx.viewer, parent):
        nav.button(
            f"↑ {md_escape(ctx.tree.label(parent))}", on_click=_go_to, args=(parent,), help="Gå et niveau op"
        )
    by_id = {d.spec.id: d for d in details}
    for p in card.perspectives:
        st.subheader(p.name)
        if p.description:
            st.caption(p.description)
        # a row of columns per three tiles, so a fourth tile starts a new row in the file's order
        for first in range(0, len(p.kpis), 3):
            chunk = p.kpis[first : first + 3]
            for col, k in zip(st.columns(3), chunk, strict=False):
                with col:
                    _tile(by_id[k.id], ctx, card)
            for k in chunk:  # the rows behind a number, right under its row of tiles
                if st.query_params.get(P_BEHIND) == k.id:
                    _behind(by_id[k.id], ctx)
    _cascade(figures, details, ctx)


main()
