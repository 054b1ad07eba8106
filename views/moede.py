"""Økonomimøde: the agenda of the biweekly economy meeting for the chosen unit and extract
against an earlier extract (default: the one just before; URL `foer`): KPIs that need
talking about, the economy per account and child unit × account, what moved most, what
is new since the last meeting, the most expensive cases, and the meeting pack.

Thin: every figure comes from metrics.meeting, the files from metrics.pack; this file
formats, links and lays out. Team leaders, leaders and administration (aggregates only).
"""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path

import polars as pl
import streamlit as st

from metrics.access import AccessDenied, Today, Viewer
from metrics.compare import CompareError
from metrics.export import BUDGET_STATUS_TEXT, budget_status_text, economy_columns
from metrics.extract import Extract
from metrics.loader import ExtractRefused
from metrics.meeting import (
    JUDGEMENT_ICONS,
    JUDGEMENT_WORDS,
    STATUS_ICONS,
    STATUS_WORDS,
    Agenda,
    agenda,
    can_hold_meeting,
    matrix_table,
)
from metrics.notes import Subject, pack_notes
from metrics.pack import (
    CASE_COLUMNS,
    DEADLINE_COLUMNS,
    INTERVENTION_COLUMNS,
    NOTIFICATION_COLUMNS,
    build_pack,
    comments_from_notes,
    file_names,
)
from metrics.scorecard import ScorecardError, default_scorecard_path, load_scorecard
from ui.auth import audit_view, audited_download_data, download_audit, show_denied
from ui.charts import cumulative_path, deviation_bars, show_chart
from ui.context import PageContext, load_cached, note_left_out, page_context, pick_earlier
from ui.export import or_refusal, refusal_zip
from ui.fmt import fmt_date, fmt_delta, fmt_dkk, fmt_num, fmt_value, md_escape
from ui.links import link_target
from ui.notes import meeting_overview, notes_panel, open_decisions_panel
from ui.tables import ColumnSpec, DownloadWrapper, Figure, show_figures, show_table

PAGE = "moede"
ViewerKey = tuple[object, ...]
FileKey = tuple[str, float]


def _viewer_key(v: Viewer) -> ViewerKey:
    """The viewer as plain values (dataclasses.astuple would turn `today` into a bare tuple)."""
    today = (
        None
        if v.today is None
        else (v.today.as_of, tuple(sorted(v.today.units)), tuple(sorted(v.today.scope)))
    )
    return (v.employee_id, v.name, v.role, v.unit_id, v.email, v.demo, today)


def _viewer(key: ViewerKey) -> Viewer:
    *fields, today = key
    if today is None:
        return Viewer(*fields)  # type: ignore[arg-type]
    as_of, units, scope = today  # type: ignore[misc]
    return Viewer(*fields, today=Today(as_of, frozenset(units), frozenset(scope)))  # type: ignore[arg-type]


def _file_key(path: Path) -> FileKey:
    return (str(path), (path / "manifest.json").stat().st_mtime)


@st.cache_data(max_entries=32, show_spinner="Forbereder dagsordenen …")
def _cached(
    now: FileKey, before: FileKey | None, unit_id: str, viewer: ViewerKey, as_of: date, card: FileKey
) -> Agenda:
    prev = None if before is None else load_cached(Path(before[0]))
    return agenda(
        load_cached(Path(now[0])),
        prev,
        unit_id,
        _viewer(viewer),
        load_scorecard(Path(card[0])),
        as_of,  # type: ignore[arg-type]
    )


def _agenda(ctx: PageContext, prev: Extract | None) -> Agenda:
    path = default_scorecard_path()
    if ctx.ex.path is None or (prev is not None and prev.path is None):  # not from files: no cache key
        return agenda(ctx.ex, prev, ctx.unit_id, ctx.viewer, load_scorecard(path), ctx.as_of)
    card_key = (str(path.resolve()), path.stat().st_mtime)
    before = None if prev is None or prev.path is None else _file_key(prev.path)
    return _cached(_file_key(ctx.ex.path), before, ctx.unit_id, _viewer_key(ctx.viewer), ctx.as_of, card_key)


def _link(ctx: PageContext, label: str, page: str, params: str) -> None:
    script, query = link_target(ctx, page, params)
    st.page_link(script, label=label, query_params=query)


def _kpis(ctx: PageContext, a: Agenda) -> None:
    st.subheader("Nøgletal der skal drøftes")
    st.caption(
        "Røde eller gule, eller forværret siden sidste udtræk. Hvert nøgletal åbner sit felt i Scorecard."
    )
    if a.kpis.height == 0:
        st.info("Ingen nøgletal er røde, gule eller forværret.", icon="✅")
        return
    for r in a.kpis.iter_rows(named=True):
        fmt = r["format"]
        change = (
            ""
            if r["before"] is None
            else f" · ændring {fmt_delta(r['change'], fmt)} ({JUDGEMENT_ICONS[r['judgement']]} {JUDGEMENT_WORDS[r['judgement']].lower()})"
        )
        label = (
            f"{STATUS_ICONS[r['status']]} {STATUS_WORDS[r['status']]}: {r['name']} "
            f"{fmt_value(r['value'], fmt)} (mål {fmt_value(r['target'], fmt)}){change}"
        )
        _link(ctx, md_escape(label), r["link_page"], r["link_params"])
        notes_panel(
            ctx.ex,
            ctx.viewer,
            Subject.kpi(r["kpi_id"], a.unit_id),
            a.extract_as_of,
            key=f"moede_kpi_{r['kpi_id']}",
            page=PAGE,
            previous=("explanation",),  # earlier decisions: under "Beslutninger fra sidste møde"
        )


def _economy(ctx: PageContext, a: Agenda, filters: dict[str, str]) -> None:
    st.subheader("Økonomi")
    accounts = a.accounts.with_columns(budget_status_text(pl.col("over_budget")).alias("budget_text"))
    show_table(
        accounts,
        {
            "label": ColumnSpec("Konto"),
            **economy_columns("budget", "expected", "deviation", "deviation_pct"),
            "budget_text": ColumnSpec("Budgetstatus"),
        },
        key="moede_konti",
        summary=True,
        export_as=(ctx.unit_name, ctx.ex.as_of),
        title="Økonomi pr. konto",
        filters=filters,
    )
    links = st.container(horizontal=True, gap="small")
    with links:
        first = a.accounts.row(0, named=True) if a.accounts.height else None
        if first is not None:
            _link(ctx, "Åbn Økonomi fordelt på konto", first["link_page"], first["link_params"])
    wide = matrix_table(a.matrix)
    accounts_cols = [
        c for c in wide.columns if c not in ("row_id", "row_label", "row_kind", "over_budget_accounts")
    ]
    show_table(
        wide,
        {
            "row_label": ColumnSpec("Enhed"),
            **{c: ColumnSpec(c, "dkk") for c in accounts_cols},
            "over_budget_accounts": ColumnSpec("⚠️ Over budget på konto"),
        },
        key="moede_matrix",
        summary=True,
        export_as=(ctx.unit_name, ctx.ex.as_of),
        title="Afvigelse (budget − forventet) pr. underenhed og konto",
        filters=filters,
    )
    rows = a.matrix.filter(pl.col("account").is_null())
    box = st.container(horizontal=True, gap="small")
    with box:
        for r in rows.iter_rows(named=True):
            _link(ctx, f"Økonomi: {md_escape(r['row_label'])}", r["link_page"], r["link_params"])
    c1, c2 = st.columns(2)
    show_chart(deviation_bars(a.accounts, width=380), c1)
    show_chart(cumulative_path(a.monthly, width=380), c2)


def _moves(ctx: PageContext, a: Agenda) -> None:
    st.subheader("Største bevægelser siden sidst")
    if a.previous_as_of is None:
        st.caption("Intet tidligere udtræk at sammenligne med.")
        return
    if a.moves.height == 0:
        st.caption("Forventet regnskab er uændret på alle konti og enheder.")
        return
    for r in a.moves.iter_rows(named=True):
        what = "Konto" if r["kind"] == "account" else "Enhed"
        label = (
            f"{what} {r['label']}: {fmt_delta(r['expected_change'], 'dkk')} (nu {fmt_dkk(r['expected_now'])})"
        )
        _link(ctx, md_escape(label), r["link_page"], r["link_params"])


def _case_links(ctx: PageContext, df: pl.DataFrame) -> None:
    if df.height == 0:
        return
    box = st.container(horizontal=True, gap="small")
    with box:
        for r in df.iter_rows(named=True):
            label = r["case_id"] or r.get("notification_id") or "–"
            _link(
                ctx,
                md_escape(f"Sag {label}" if r["case_id"] else f"Underretning {label}"),
                r["link_page"],
                r["link_params"],
            )


def _new(ctx: PageContext, a: Agenda, filters: dict[str, str]) -> None:
    st.subheader("Nyt siden sidste møde")
    if a.new is None:
        st.caption("Intet tidligere udtræk: der er intet »nyt siden sidst« at vise.")
        return
    n = a.new
    show_figures(
        [
            Figure(
                "Nye indsatser",
                fmt_num(n.interventions),
                "Bevilget efter sidste udtræk og til og med opgørelsesdatoen.",
            ),
            Figure("Deres årlige udgift", fmt_dkk(n.interventions_yearly_cost), "Månedlig udgift × 12."),
            Figure(
                "Underretninger over 24 timer",
                fmt_num(n.late_notifications),
                "24 timer udløb siden sidst uden vurdering.",
            ),
            Figure(
                "Frister overskredet",
                fmt_num(n.overdue_deadlines),
                "Frister der er blevet overskredet siden sidst.",
            ),
        ]
    )
    if not a.case_rows_shown:
        st.caption("Rækker pr. sag vises ikke for administrationen; tallene ovenfor dækker hele enheden.")
        return
    show_table(
        n.intervention_rows,
        {c: s for c, s in INTERVENTION_COLUMNS.items() if c not in ("account", "start_on")},
        key="moede_nye_indsatser",
        summary=True,
        export_as=(ctx.unit_name, ctx.ex.as_of),
        title="Nye indsatser: de 10 med størst årlig udgift",
        filters=filters,
        audit=_rows_audit(ctx, n.intervention_rows),
    )
    _case_links(ctx, n.intervention_rows)
    if n.top_cases.height:
        st.markdown(
            "**Nye blandt de 10 dyreste sager:** "
            + ", ".join(md_escape(c) for c in n.top_cases["case_id"].to_list())
        )
        _case_links(ctx, n.top_cases)
    show_table(
        n.late_notification_rows,
        NOTIFICATION_COLUMNS,
        key="moede_underretninger",
        summary=True,
        export_as=(ctx.unit_name, ctx.ex.as_of),
        title="Underretninger ikke vurderet inden for 24 timer",
        filters=filters,
        audit=_rows_audit(ctx, n.late_notification_rows),
    )
    _case_links(ctx, n.late_notification_rows)
    show_table(
        n.overdue_rows,
        DEADLINE_COLUMNS,
        key="moede_frister",
        summary=True,
        export_as=(ctx.unit_name, ctx.ex.as_of),
        title="Frister overskredet siden sidst",
        filters=filters,
        audit=_rows_audit(ctx, n.overdue_rows),
    )
    _case_links(ctx, n.overdue_rows)


def _top_cases(ctx: PageContext, a: Agenda, filters: dict[str, str]) -> None:
    st.subheader("De dyreste sager: fælles gennemgang")
    if a.top_cases is None:
        st.caption("Rækker pr. sag vises ikke for administrationen.")
        return
    show_table(
        a.top_cases,
        CASE_COLUMNS,
        key="moede_dyreste",
        summary=True,
        export_as=(ctx.unit_name, ctx.ex.as_of),
        title="De 10 dyreste aktive sager i år",
        filters=filters,
        audit=_rows_audit(ctx, a.top_cases),
    )
    _case_links(ctx, a.top_cases)


def _rows_audit(ctx: PageContext, rows: pl.DataFrame) -> DownloadWrapper:
    """A table download logs the case ids of its own rows (and unlinked notifications by id)."""
    target = None
    if "notification_id" in rows.columns:
        ids = rows.filter(pl.col("case_id").is_null())["notification_id"].to_list()
        target = f"underretninger {', '.join(ids)}" if ids else None
    return download_audit(
        ctx, PAGE, rows["case_id"].drop_nulls().unique(maintain_order=True).to_list(), target
    )


def _target(a: Agenda) -> str | None:
    """Rows without a case (unlinked notifications) are logged by their own ids."""
    ids = a.notification_ids_without_case()
    return f"underretninger {', '.join(ids)}" if ids else None


def _pack_button(ctx: PageContext, a: Agenda) -> None:
    def make() -> bytes:
        pack = build_pack(a, comments_from_notes(pack_notes(ctx.ex, ctx.viewer, a.unit_id, a.extract_as_of)))
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(pack.xlsx_name, pack.xlsx)
            z.writestr(pack.pdf_name, pack.pdf)
        return buf.getvalue()

    zip_name = f"{Path(file_names(a)[0]).stem}.zip"
    st.download_button(
        "Hent mødepakke",
        data=or_refusal(audited_download_data(ctx, PAGE, a.case_ids(), make, _target(a)), refusal_zip),
        file_name=zip_name,
        mime="application/zip",
        key="moede_pakke",
        icon=":material/download:",
        on_click="ignore",
        type="primary",
        help="Excel (et ark pr. punkt) og PDF (A4, til print) i én zip-fil.",
    )


def main() -> None:
    st.title("Økonomimøde")
    ctx = page_context()
    if ctx is None:
        return
    if not can_hold_meeting(ctx.viewer):
        show_denied(
            ctx.ex, ctx.viewer, PAGE, "siden Økonomimøde (kun for teamledere, ledere og administration)"
        )
        return
    path = pick_earlier(
        ctx,
        "Sammenlign med udtrækket (sidste møde)",
        "Standard: udtrækket lige før det valgte. Vælg »Intet« for et første møde.",
        nothing="Intet (første møde)",
    )
    prev = None
    if path is not None:
        try:
            prev = load_cached(path)
        except ExtractRefused as e:
            lines = "\n".join(
                f"- {md_escape(err.file)}, kolonne {md_escape(err.column or '–')}: {md_escape(err.message)}"
                for err in e.errors
            )
            st.error(f"Det tidligere udtræk {md_escape(path.name)} kan ikke bruges:\n\n{lines}")
            return
    try:
        a = _agenda(ctx, prev)
    except CompareError as e:
        st.error(md_escape(str(e)), icon="🛑")
        return
    except ScorecardError as e:
        st.error(f"Scorecardet kan ikke læses: {md_escape(str(e))}", icon="🛑")
        return
    except AccessDenied as e:
        show_denied(ctx.ex, ctx.viewer, PAGE, e)
        return
    if prev is not None:
        note_left_out(prev, ctx.viewer, ctx.unit_id)
    before = fmt_date(a.previous_as_of) if a.previous_as_of else "intet tidligere udtræk"
    st.caption(
        f"{md_escape(a.unit_name)} · udtrækket {fmt_date(a.extract_as_of)} (opgjort {fmt_date(a.as_of)}) "
        f"mod {before}. Hvert udtræk er opgjort på sin egen dato."
    )
    # case rows are shown on this page: log them before they are rendered
    if a.case_rows_shown:
        audit_view(ctx, PAGE, a.case_ids(), _target(a))
    filters = {**ctx.filters(), "Sammenlignet med": before}
    show_figures(
        [
            Figure("Nøgletal der skal drøftes", fmt_num(a.kpis.height), "Røde, gule eller forværret."),
            Figure("Forventet regnskab", fmt_dkk(a.economy.expected), "Forbrug + disponeret."),
            Figure(
                "Afvigelse",
                fmt_dkk(a.economy.deviation),
                "Budget − forventet regnskab. " + BUDGET_STATUS_TEXT[a.over_budget] + ".",
            ),
            Figure("Budgetstatus", BUDGET_STATUS_TEXT[a.over_budget]),
        ]
    )
    _pack_button(ctx, a)
    _kpis(ctx, a)
    _economy(ctx, a, filters)
    _moves(ctx, a)
    _new(ctx, a, filters)
    _top_cases(ctx, a, filters)
    st.subheader("Kommentarer og beslutninger")
    with st.container(key="moede_kommentarer"):
        _comments(ctx, a)


def _comments(ctx: PageContext, a: Agenda) -> None:
    """Open decisions of earlier meetings, notes per account, case review notes, and every
    note of this meeting on the unit and its child units (what the pack carries)."""
    names = dict(zip(a.scorecard["kpi_id"].to_list(), a.scorecard["name"].to_list(), strict=True))
    st.markdown("**Beslutninger fra sidste møde**")
    open_decisions_panel(
        ctx.ex, ctx.viewer, a.unit_id, a.extract_as_of, key="moede_aaben", page=PAGE, labels=names
    )
    st.markdown("**Forklaringer og beslutninger pr. konto**")
    accounts = a.accounts.filter(~pl.col("is_total"))["label"].to_list()
    account = st.selectbox("Konto", accounts, index=None, key="moede_konto", placeholder="Vælg en konto")
    if account is not None:
        notes_panel(
            ctx.ex,
            ctx.viewer,
            Subject.account(account, a.unit_id),
            a.extract_as_of,
            key=f"moede_konto_{accounts.index(account)}",
            page=PAGE,
        )
    if a.top_cases is not None and a.top_cases.height:
        st.markdown("**Sagsgennemgang: de dyreste sager**")
        case = st.selectbox(
            "Sag", a.top_cases["case_id"].to_list(), index=None, key="moede_sag", placeholder="Vælg en sag"
        )
        if case is not None:
            notes_panel(
                ctx.ex,
                ctx.viewer,
                Subject.case(ctx.ex, case),
                a.extract_as_of,
                key="moede_sagsnote",
                page=PAGE,
                kinds=("case_review",),
            )
    st.markdown(f"**Alle kommentarer til mødet {fmt_date(a.extract_as_of)}** (enheden og dens underenheder)")
    meeting_overview(ctx.ex, ctx.viewer, a.unit_id, a.extract_as_of, page=PAGE, labels=names)


main()
