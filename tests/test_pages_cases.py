"""AppTest for Rådgiveroverblik and Sag on the small fixture extract: the figures on screen are
the ones metrics.casework returns for the same viewer, caseworker, case and date."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from metrics.access import Viewer, viewer_for_employee
from metrics.casework import (
    case_detail,
    caseload,
    cases_visible,
    caseworker_cases,
    caseworker_totals,
    caseworkers_visible,
)
from metrics.extract import Extract
from metrics.kpis import employed_on
from tests.support_app import grids as keyed_grids
from ui.auth import md_escape
from ui.fmt import fmt_dkk, fmt_num

APP = str(Path(__file__).resolve().parent.parent / "app.py")
NO_ACCESS = "Sagen findes ikke eller du har ikke adgang."


@pytest.fixture
def env(app_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("STYRING_DB_URL", f"sqlite:///{tmp_path / 'audit.sqlite'}")
    yield app_env


def open_page(page: str, params: dict[str, str] | None = None, view_as: str | None = None) -> AppTest:
    """A fresh session on `page` with `params` in the URL. With `view_as`, the page is opened
    first, the demo viewer ("vis som") switched, and then the URL parameters arrive; the
    persona is picked on the page itself because it does not survive a page switch."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page(page)
    if view_as is not None:
        at.run()
        at.selectbox(key="vis_som").set_value(view_as).run()
    for k, v in (params or {}).items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    if view_as is not None:
        assert at.selectbox(key="vis_som").value == view_as
    return at


def viewer_of(at: AppTest, ex: Extract) -> Viewer:
    v = viewer_for_employee(ex, at.selectbox(key="vis_som").value)
    assert v is not None
    return v


def metrics_shown(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def grids(at: AppTest) -> dict[str, pl.DataFrame]:
    """The tables on the page by their Excel title, with the data they were sent: the AgGrids in
    page order, and Sag's two summary tables (st.dataframe) by their key."""
    out: dict[str, pl.DataFrame] = {}
    titles = [m.value.removeprefix("##### ") for m in at.markdown if m.value.startswith("##### ")]
    tables = [t for t in titles if " – " in t]  # show_table titles name their subject
    keyed = {"Indsatser – ": "sag_indsatser", "Frister – ": "sag_frister"}
    summaries = {t: keyed[p] for t in tables for p in keyed if t.startswith(p)}
    for el, title in zip(at.get("component_instance"), [t for t in tables if t not in summaries], strict=True):
        data = next(a for a in el.proto.special_args if a.key == "data")
        out[title] = pl.from_arrow(pa.ipc.open_stream(data.arrow_dataframe.data.data).read_all())  # type: ignore[assignment]
    shown = keyed_grids(at)
    return out | {title: shown[key] for title, key in summaries.items()}


def charts(at: AppTest) -> list[tuple[dict[str, Any], pl.DataFrame]]:
    out = []
    for el in at.get("vega_lite_chart"):
        df = pl.from_arrow(pa.ipc.open_stream(el.proto.data.data).read_all())
        out.append((json.loads(el.proto.spec), df))  # type: ignore[arg-type]
    return out


# --- Rådgiveroverblik -------------------------------------------------------------------


def check_caseworker_page(at: AppTest, ex: Extract, caseworker: str) -> None:
    viewer = viewer_of(at, ex)
    assert at.selectbox(key="raadgiver").value == caseworker
    cases = caseworker_cases(ex, viewer, caseworker, ex.as_of)
    assert cases.height > 0
    (grid,) = grids(at).values()
    assert grid["case_id"].to_list() == cases["case_id"].to_list()
    for col in ("monthly_cost_now", "actual", "committed", "expected"):
        assert grid[col].to_list() == pytest.approx(cases[col].to_list()), col
    for col in ("age", "active_interventions", "overdue"):
        assert grid[col].to_list() == cases[col].to_list(), col
    assert grid["next_deadline_due"].to_list() == [
        None if d is None else d.isoformat() for d in cases["next_deadline_due"].to_list()
    ]
    # overdue is flagged in words, not by colour alone
    assert grid["overdue_flag"].to_list() == ["⚠ Ja" if n else "Nej" for n in cases["overdue"].to_list()]

    t = caseworker_totals(cases)
    shown = metrics_shown(at)
    (line,) = [m.value for m in at.markdown if m.value.startswith("**I alt**")]
    assert f"{fmt_num(t.cases)} sager, heraf {fmt_num(t.active_cases)} aktive" in line
    assert shown["Overskredne frister"].endswith(fmt_num(t.overdue))
    assert shown["Overskredne frister"].startswith("⚠") == (t.overdue > 0)
    assert shown["Månedlig udgift nu"] == fmt_dkk(t.monthly_cost_now)
    assert shown["Forbrug i år"] == fmt_dkk(t.actual)
    assert shown["Disponeret"] == fmt_dkk(t.committed)
    assert shown["Forventet i år"] == fmt_dkk(t.expected)
    # the totals are sums of the rows shown
    assert t.expected == pytest.approx(float(grid["expected"].sum()))
    load = caseload(ex, viewer, caseworker, ex.as_of)
    assert shown["Sager pr. årsværk"] == fmt_num(load.cases_per_fte.value, 1)
    assert shown["Teamets sager pr. årsværk"] == fmt_num(load.team_cases_per_fte.value, 1)
    assert shown["Teamets aktive sager"] == fmt_num(load.team_active_cases.value)

    # every case can be opened without the grid: the "Gå til sag" link carries the case id
    goto = at.selectbox(key="raadgiver_gaa_til")
    assert goto.options == cases["case_id"].to_list()
    links = [p.proto for p in at.get("page_link")]
    assert any(p.page == "sag" and f"sag={goto.value}" in p.query_string for p in links)


def test_raadgiver_page_shows_metrics_figures(env: Path, small_extract: Extract) -> None:
    at = open_page("views/raadgiver.py")
    viewer = viewer_of(at, small_extract)
    visible = caseworkers_visible(small_extract, viewer, small_extract.as_of)["employee_id"].to_list()
    assert at.selectbox(key="raadgiver").options == [
        small_extract["employees"].filter(pl.col("employee_id") == e)["name"][0] for e in visible
    ]
    check_caseworker_page(at, small_extract, visible[0])


def test_raadgiver_url_round_trip(env: Path, small_extract: Extract) -> None:
    first = open_page("views/raadgiver.py")
    options = first.selectbox(key="raadgiver").options
    assert len(options) > 1
    at = open_page("views/raadgiver.py", {"raadgiver": options[-1]})
    viewer = viewer_of(at, small_extract)
    last = caseworkers_visible(small_extract, viewer, small_extract.as_of)["employee_id"].to_list()[-1]
    check_caseworker_page(at, small_extract, last)
    assert at.query_params["raadgiver"] == options[-1]
    # a link may name the employee id instead of the name shown
    by_id = open_page("views/raadgiver.py", {"raadgiver": last})
    check_caseworker_page(by_id, small_extract, last)


def test_raadgiver_bad_caseworker_in_url(env: Path) -> None:
    at = open_page("views/raadgiver.py", {"raadgiver": "Ingen Sådan"})
    assert any("findes ikke, eller du har ikke adgang" in e.value for e in at.error)
    assert not at.get("component_instance")


def test_raadgiver_viewer_sees_only_themselves(env: Path, small_extract: Extract) -> None:
    me = active_caseworker(small_extract)
    at = open_page("views/raadgiver.py", view_as=me)
    assert at.selectbox(key="raadgiver").options == [
        small_extract["employees"].filter(pl.col("employee_id") == me)["name"][0]
    ]
    check_caseworker_page(at, small_extract, me)


# --- Sag --------------------------------------------------------------------------------


def active_caseworker(ex: Extract) -> str:
    """A caseworker employed at as_of who holds a case with an open-ended intervention."""
    iv = ex["interventions"].filter(pl.col("end_on").is_null()).join(ex["cases"], on="case_id")
    staff = ex["employees"].filter(employed_on(ex.as_of) & (pl.col("role") == "raadgiver"))
    hits = iv.filter(pl.col("caseworker_id").is_in(staff["employee_id"].implode()))
    return str(hits.sort("case_id")["caseworker_id"][0])


def open_ended_case(ex: Extract, caseworker: str) -> str:
    iv = ex["interventions"].filter(pl.col("end_on").is_null()).join(ex["cases"], on="case_id")
    return str(iv.filter(pl.col("caseworker_id") == caseworker).sort("case_id")["case_id"][0])


def test_sag_page_shows_metrics_figures(env: Path, small_extract: Extract) -> None:
    ex = small_extract
    case_id = open_ended_case(ex, active_caseworker(ex))
    at = open_page("views/sag.py", {"sag": case_id})
    assert at.selectbox(key="sag").value == case_id  # URL → widget
    d = case_detail(ex, viewer_of(at, ex), case_id, ex.as_of)

    shown = metrics_shown(at)
    assert shown["Forventet i år"] == fmt_dkk(d.economy.expected)
    assert shown["Forbrug i år"] == fmt_dkk(d.economy.actual)
    assert shown["Disponeret resten af året"] == fmt_dkk(d.economy.committed)
    assert shown["Udbetalt siden sagen blev oprettet"] == fmt_dkk(d.total_since_opened)
    (line,) = [m.value for m in at.markdown if m.value.startswith("**Barn (pseudonym):**")]
    assert f"**Alder i år:** {d.facts.age}" in line
    assert f"**Rådgiver:** {md_escape(d.facts.caseworker_name or 'ingen')}" in line

    tables = grids(at)
    # payments newest first as metrics orders them: this year's open, earlier years in a folded grid
    pay = tables[f"Betalinger {ex.as_of.year} – sag {case_id}"]
    assert pay["amount"].to_list() == pytest.approx(d.payments.filter("this_year")["amount"].to_list())
    n_earlier = d.payments.height - pay.height
    assert n_earlier > 0  # an open-ended case from an earlier year: the folded grid is tested too
    earlier_title = f"Betalinger før {ex.as_of.year} – sag {case_id}"
    assert earlier_title not in tables  # folded: not drawn until asked for
    if n_earlier:
        at.toggle(key=f"sag_tidligere_{case_id}").set_value(True).run()
        earlier = grids(at)[earlier_title]
        assert pay["payment_id"].to_list() + earlier["payment_id"].to_list() == d.payments["payment_id"].to_list()
    dl = tables[f"Frister – sag {case_id}"]
    assert dl["kind_label"].to_list() == d.deadlines["kind_label"].to_list()
    assert [s.split(" ", 1)[1] for s in dl["status_text"].to_list()] == d.deadlines["status_label"].to_list()
    ivs = tables[f"Indsatser – sag {case_id}"]
    assert ivs["monthly_cost"].to_list() == pytest.approx(d.interventions["monthly_cost"].to_list())

    (timeline_spec, timeline), (monthly_spec, monthly) = charts(at)
    # every layer draws the data sent with the chart (no placeholder dataset of its own)
    assert all("data" not in layer for spec in (timeline_spec, monthly_spec) for layer in spec["layer"])
    # open ends run to the chart's right edge and are labelled as running
    open_rows = timeline.filter(pl.col("open_ended"))
    assert open_rows.height >= 1
    assert {str(x)[:10] for x in open_rows["bar_end"].to_list()} == {d.timeline_end.isoformat()}
    assert "løbende ▶" in json.dumps(timeline_spec, ensure_ascii=False)
    assert timeline_spec["config"]["locale"]["number"]["decimal"] == ","
    assert timeline["category_label"].unique().sort().to_list() == sorted(
        {"anbringelse": "Anbringelse", "forebyggende": "Forebyggende", "andet": "Andet"}[c]
        for c in d.interventions["category"].unique()
    )
    # monthly actual against planned: the same twelve months as metrics
    assert monthly["actual"].to_list() == pytest.approx(d.monthly["actual"].to_list())
    assert monthly["planned"].to_list() == pytest.approx(d.monthly["planned"].to_list())
    assert monthly.height == 12
    assert monthly_spec["config"]["locale"]["time"]["shortMonths"][4] == "maj"

    # an ongoing intervention keeps its category's full colour (no opacity that reads as another
    # category) and is marked by a dashed outline
    text = json.dumps(timeline_spec)
    assert "opacity" not in text
    (bar,) = [layer for layer in timeline_spec["layer"] if layer["mark"]["type"] == "bar"]
    assert bar["encoding"]["strokeDash"]["condition"] == {"test": "datum.open_ended", "value": [5, 3]}
    # every timeline row has its own label, even two interventions of the same kind
    assert timeline["row_label"].n_unique() == timeline.height
    # twelve discrete months on the x axis: no 13th "jan" tick after December
    assert {layer["encoding"]["x"]["type"] for layer in monthly_spec["layer"]} == {"ordinal"}
    assert {layer["encoding"]["x"]["timeUnit"] for layer in monthly_spec["layer"]} == {"month"}
    # the planned line is drawn last (on top of the bars), in a colour apart from the bars'
    assert monthly_spec["layer"][-1]["mark"]["type"] == "line"
    scale = monthly_spec["layer"][0]["encoding"]["color"]["scale"]
    assert len(set(scale["range"])) == 2 and scale["domain"][1].startswith("Planlagt")
    # "Periode (måned)" is shown as a month ("jan. 2021"), not a day
    period_col = next(
        c
        for el in at.get("component_instance")
        if json.loads(el.proto.json_args)["key"] == "grid_sag_betalinger"
        for c in json.loads(el.proto.json_args)["gridOptions"]["columnDefs"]
        if c["field"] == "period"
    )
    assert period_col["valueFormatter"].endswith("return m[Number(p[1]) - 1] + ' ' + p[0];")


def test_sag_bad_case_in_url(env: Path) -> None:
    at = open_page("views/sag.py", {"sag": "FINDES-IKKE"})
    assert [e.value for e in at.error] == [NO_ACCESS]
    assert not at.metric and not at.get("component_instance")


def test_raadgiver_cannot_open_anothers_case_by_url(env: Path, small_extract: Extract) -> None:
    ex = small_extract
    me = active_caseworker(ex)
    mine = cases_visible(ex, viewer_for_employee(ex, me), ex.as_of)["case_id"].to_list()  # type: ignore[arg-type]
    theirs = ex["cases"].filter(pl.col("caseworker_id") != me).sort("case_id")["case_id"][0]
    assert theirs not in mine

    at = open_page("views/sag.py", {"sag": theirs}, view_as=me)
    assert [e.value for e in at.error] == [NO_ACCESS]
    assert not at.metric and not at.get("component_instance")

    # the same session, now with one of their own cases in the URL: it opens
    at.query_params["sag"] = mine[0]
    own = at.run()
    assert not own.error and own.selectbox(key="sag").value == mine[0]
    assert own.selectbox(key="sag").options == [mine[0]]  # the finder is folded away while a case is open
    own.toggle(key="sag_find_igen").set_value(True)
    own.run()
    assert len(mine) <= 50 and set(own.selectbox(key="sag").options) == set(mine)  # only their own
    name = ex["employees"].filter(pl.col("employee_id") == me)["name"][0]
    assert any(f"**Rådgiver:** {md_escape(name)}" in m.value for m in own.markdown)
