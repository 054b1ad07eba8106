"""Rådgiveroverblik: one caseworker's cases, with totals and the caseload against the team's."""

from __future__ import annotations

import polars as pl
import streamlit as st

from metrics.casework import (
    DEADLINE_KIND_LABELS,
    caseload,
    caseworker_cases,
    caseworker_totals,
    caseworkers_visible,
)
from metrics.export import with_total_row
from ui.auth import audit_denied, audit_view, download_audit
from ui.context import P_AS_OF, P_EXTRACT, P_UNIT, page_context
from ui.fmt import URL_ECHO_MAX, fmt_dkk, fmt_num, md_escape, url_echo
from ui.tables import ColumnSpec, show_table

P_CASEWORKER = "raadgiver"
P_CASE = "sag"
PAGE = "raadgiver"

COLUMNS: dict[str, ColumnSpec] = {
    "case_id": ColumnSpec("Sag"),
    "status": ColumnSpec("Status"),
    "expected": ColumnSpec("Forventet i år", "dkk"),
    "closed_on": ColumnSpec("Lukket", "date"),
    "age": ColumnSpec("Alder i år", "int"),
    "active_interventions": ColumnSpec("Aktive indsatser", "int"),
    "intervention_names": ColumnSpec("Indsatser"),
    "monthly_cost_now": ColumnSpec("Månedlig udgift nu", "dkk"),
    "actual": ColumnSpec("Forbrug i år", "dkk"),
    "committed": ColumnSpec("Disponeret", "dkk"),
    "next_deadline_due": ColumnSpec("Næste frist", "date"),
    "next_deadline_label": ColumnSpec("Fristtype"),
    "overdue": ColumnSpec("Overskredne frister", "int"),
    "overdue_flag": ColumnSpec("Overskredet"),
}
# the downloads end with an "I alt" row: the same sums as the totals under the grid
TOTAL_SUMS = ("active_interventions", "monthly_cost_now", "actual", "committed", "expected", "overdue")
PHONE_COLUMNS = ("case_id", "status", "expected")  # what a caseworker on a phone must see


def case_link_params(case_id: str) -> dict[str, str]:
    """The case, plus the shared filters now in the URL, so the case page opens on the same view."""
    params = {P_CASE: case_id}
    for key in (P_EXTRACT, P_AS_OF, P_UNIT):
        if key in st.query_params:
            params[key] = st.query_params[key]
    return params


def case_link(case_id: str) -> None:
    st.page_link(
        "views/sag.py",
        label=f"Åbn sag {md_escape(case_id)}",
        icon=":material/folder_open:",
        query_params=case_link_params(case_id),
    )


def display_frame(cases: pl.DataFrame) -> pl.DataFrame:
    """Words for the grid: status, deadline kind and an overdue flag that doesn't rely on colour."""
    return cases.with_columns(
        pl.when(pl.col("active")).then(pl.lit("Aktiv")).otherwise(pl.lit("Lukket")).alias("status"),
        pl.col("next_deadline_kind")
        .replace_strict(DEADLINE_KIND_LABELS, default=None)
        .alias("next_deadline_label"),
        pl.when(pl.col("overdue") > 0).then(pl.lit("⚠ Ja")).otherwise(pl.lit("Nej")).alias("overdue_flag"),
    )


def pick_caseworker(names: dict[str, str]) -> str | None:
    """The caseworker selectbox, bound to the URL (which holds the shown name; a name two
    caseworkers share gets the employee id added). A link may name the employee id instead.
    None for a value in the URL that is neither."""
    ids = list(names)
    labels = {e: (f"{n} ({e})" if list(names.values()).count(n) > 1 else n) for e, n in names.items()}
    raw = st.query_params.get(P_CASEWORKER)
    if raw is not None and raw not in labels.values() and raw not in labels:
        return None
    if raw in labels and st.session_state.get(P_CASEWORKER) != raw:
        st.session_state[P_CASEWORKER] = raw
    return st.selectbox(
        "Rådgiver", ids, key=P_CASEWORKER, bind="query-params", format_func=labels.__getitem__
    )


def main() -> None:
    ctx = page_context()
    if ctx is None:
        return
    st.title("Rådgiveroverblik")
    if not ctx.viewer.sees_case_rows:
        if (raw := st.query_params.get(P_CASEWORKER)) is not None:  # a link asked for one: a denied attempt
            audit_denied(ctx.ex, ctx.viewer, PAGE, f"rådgiver {str(raw)[:URL_ECHO_MAX]}")
        st.info("Din rolle giver ikke adgang til oplysninger om enkelte sager.")
        return
    staff = caseworkers_visible(ctx.ex, ctx.viewer, ctx.as_of, ctx.unit_id)
    if staff.height == 0:
        st.info("Der er ingen rådgivere i den valgte enhed på datoen.")
        return
    names = dict(zip(staff["employee_id"].to_list(), staff["name"].to_list(), strict=True))
    chosen = pick_caseworker(names)
    if chosen is None:
        raw = st.query_params.get(P_CASEWORKER)
        audit_denied(ctx.ex, ctx.viewer, PAGE, f"rådgiver {raw}")
        st.error(
            f"Rådgiveren {url_echo(raw)} i linket findes ikke, eller du har ikke adgang. "
            "Vælg en rådgiver i menuen."
        )
        return

    cases = caseworker_cases(ctx.ex, ctx.viewer, chosen, ctx.as_of)
    totals = caseworker_totals(cases)
    load = caseload(ctx.ex, ctx.viewer, chosen, ctx.as_of)
    audit_view(ctx, page=PAGE, case_ids=cases["case_id"].to_list())

    st.caption(
        "Rådgiverens aktive sager på datoen og sager lukket tidligere i år, der har udgifter i år. "
        "Alder i år = opgørelsesårets årstal − fødselsår."
    )
    st.markdown(f"**Sagsbelastning** – rådgiveren mod teamet ({md_escape(load.team_name)})")
    c = st.columns(4)
    c[0].metric("Aktive sager", fmt_num(load.active_cases.value))
    c[1].metric(
        "Sager pr. årsværk",
        fmt_num(load.cases_per_fte.value, 1),
        help="Aktive sager med rådgiver ÷ rådgiverens årsværk (fte).",
    )
    c[2].metric("Teamets aktive sager", fmt_num(load.team_active_cases.value))
    c[3].metric(
        "Teamets sager pr. årsværk",
        fmt_num(load.team_cases_per_fte.value, 1),
        help="Teamets aktive sager med rådgiver ÷ summen af rådgivernes årsværk i teamet.",
    )

    filters = ctx.filters() | {"Rådgiver": names[chosen]}
    frame = display_frame(cases)
    selected = show_table(
        frame,
        COLUMNS,
        key="raadgiver_sager",
        export_as=(ctx.unit_name, ctx.ex.as_of),
        title=f"Sager – {names[chosen]}",
        filters=filters,
        audit=download_audit(ctx, PAGE, cases["case_id"].to_list()),
        selectable=True,
        phone=PHONE_COLUMNS,
        export=(with_total_row(frame, "case_id", TOTAL_SUMS), COLUMNS),
    )
    # the case of the chosen row, and any case by keyboard, right under the grid
    if selected is not None:
        case_link(str(selected["case_id"]))
    if cases.height:
        pick, link = st.columns([2, 3], vertical_alignment="bottom")
        goto = pick.selectbox("Gå til sag", cases["case_id"].to_list(), key="raadgiver_gaa_til")
        if goto is not None:
            with link:
                case_link(goto)
    st.markdown(
        f"**I alt** – {fmt_num(totals.cases)} sager, heraf {fmt_num(totals.active_cases)} aktive "
        f"og {fmt_num(totals.active_interventions)} aktive indsatser"
    )
    t = st.columns(3)
    t[0].metric("Månedlig udgift nu", fmt_dkk(totals.monthly_cost_now))
    t[1].metric("Forbrug i år", fmt_dkk(totals.actual))
    t[2].metric("Disponeret", fmt_dkk(totals.committed))
    t = st.columns(3)
    t[0].metric("Forventet i år", fmt_dkk(totals.expected))
    t[1].metric(
        "Overskredne frister",
        ("⚠ " if totals.overdue else "") + fmt_num(totals.overdue),
        help="Frister, hvor fristdagen er passeret, og som ikke var afsluttet på datoen.",
    )
    t[2].metric("Sager med overskredne frister", fmt_num(totals.cases_with_overdue))

    if not cases.height:
        st.info("Rådgiveren har ingen sager på datoen.")


main()
