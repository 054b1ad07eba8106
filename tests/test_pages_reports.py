"""AppTest for Økonomi, Underretninger and Sygefravær on the small fixture extract: the
figures, grids and charts on screen are what metrics returns for the same viewer, unit and
date; the URL carries unit, date and extract; bad URL values give a clear message."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from metrics import registry, reports
from metrics.access import Viewer, viewer_for_employee
from metrics.extract import Extract
from metrics.org import org_tree
from metrics.scope import Scope
from tests.conftest import FIXTURE_END
from tests.support_app import figures, grid_options_of, grids, link_rows, summary_text
from ui.fmt import fmt_dkk, fmt_num, fmt_pct

APP = str(Path(__file__).resolve().parent.parent / "app.py")
NBSP = "\u00a0"


@pytest.fixture
def env(app_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("STYRING_DB_URL", f"sqlite:///{tmp_path / 'audit.sqlite'}")
    yield app_env


def open_page(page: str, params: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page(page)
    for k, v in (params or {}).items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def viewer_of(at: AppTest, ex: Extract) -> Viewer:
    v = viewer_for_employee(ex, at.selectbox(key="vis_som").value)
    assert v is not None
    return v


def scope_of(at: AppTest) -> tuple[Scope, date]:
    return Scope.unit(at.selectbox(key="enhed").value), at.date_input(key="dato").value


def chart_data(at: AppTest, column: str) -> pl.DataFrame:
    """The dataset of the (first) chart that has `column`."""
    for el in at.get("vega_lite_chart"):
        for ds in el.proto.datasets:
            df = pl.from_arrow(pa.ipc.open_stream(ds.data.data).read_all())
            if column in df.columns:  # type: ignore[union-attr]
                return df  # type: ignore[return-value]
    raise AssertionError(f"no chart with {column}")


def same(grid: pl.DataFrame, frame: pl.DataFrame, numeric: list[str], exact: list[str]) -> None:
    assert grid.height == frame.height
    for c in numeric:
        assert grid[c].to_list() == pytest.approx(frame[c].to_list(), nan_ok=True), c
    for c in exact:
        assert grid[c].to_list() == frame[c].to_list(), c


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


# --- Økonomi -----------------------------------------------------------------------------------


def test_oekonomi_shows_the_metrics_figures(env: Path, small_extract: Extract) -> None:
    ex = small_extract
    at = open_page("views/oekonomi.py")
    assert not errors(at)
    scope, as_of = scope_of(at)
    fig, pct = reports.economy_headline(ex, scope, as_of)
    assert figures(at) == [
        fmt_dkk(x) for x in (fig.budget, fig.actual, fig.committed, fig.expected, fig.deviation)
    ]
    assert any(fmt_pct(pct.value) in m.value for m in at.markdown)

    shown = grids(at)
    by_account = reports.economy_by(ex, scope, as_of, "account")
    cols = ["budget", "actual", "committed", "expected", "deviation", "expected_pct"]
    same(shown["oek_account"], by_account, cols, ["label"])
    # the bar chart shows the same groups' budget and expected
    bars = chart_data(at, "label")
    assert bars["label"].to_list() == by_account["label"].to_list()
    assert bars["expected"].to_list() == pytest.approx(by_account["expected"].to_list())
    # the path through the year ends in December at the expected figure
    path = chart_data(at, "expected_cum")
    assert path["expected_cum"].to_list() == pytest.approx(
        reports.economy_monthly(ex, scope, as_of)["expected_cum"].to_list()
    )
    assert path["expected_cum"][-1] == pytest.approx(fig.expected)

    # the "I alt" row is pinned under the grid: the sums of the groups, the ratio recomputed
    pinned = grid_options_of(at, "oek_account")["pinnedBottomRowData"]
    assert [r["label"] for r in pinned] == ["I alt"]
    assert pinned[0]["expected"] == pytest.approx(fig.expected)
    assert pinned[0]["budget"] == pytest.approx(fig.budget)
    assert pinned[0]["expected_pct"] == pytest.approx(pct.value)
    status = shown["oek_account"]["budget_status"].to_list()
    over = (by_account["expected"] > by_account["budget"]).to_list()
    assert status == ["⚠️ Over budget" if o else "✅ Inden for budget" for o in over]

    top = reports.top_cases(ex, viewer_of(at, ex), scope, as_of)
    assert top.height == 10
    table = link_rows(at)[0]
    # ten cases with their links to Sag in the rows, then "I alt" without a link
    assert table["case_id"].to_list() == [*top["case_id"].to_list(), None]
    assert table["Forventet i år"].to_list() == [
        *map(fmt_dkk, top["expected"].to_list()),
        fmt_dkk(top["expected"].sum()),
    ]
    assert table[" "][-1] == "I alt"
    assert not [p for p in at.get("page_link") if p.proto.page == "sag"]  # no strip of buttons


def test_oekonomi_grouping_from_the_url(env: Path, small_extract: Extract) -> None:
    at = open_page("views/oekonomi.py", {"gruppering": "Indsatstype"})
    scope, as_of = scope_of(at)
    by_kind = reports.economy_by(small_extract, scope, as_of, "kind_id")
    grid = grids(at)["oek_kind_id"]
    same(grid, by_kind, ["actual", "committed", "expected"], ["label"])
    assert grid["budget"].is_null().all()  # no budget per intervention kind (kpis.md)


def test_oekonomi_url_round_trip(env: Path, small_extract: Extract) -> None:
    ex = small_extract
    tree = org_tree(ex)
    team = next(u for u, lvl in tree.level.items() if lvl == "team")
    day = date(2026, 6, 30)
    params = {"udtraek": FIXTURE_END.isoformat(), "dato": day.isoformat(), "enhed": team}
    at = open_page("views/oekonomi.py", params)
    assert not errors(at)
    assert at.selectbox(key="enhed").value == team
    assert at.date_input(key="dato").value == day
    assert at.selectbox(key="udtraek").value == FIXTURE_END.isoformat()
    fig, _ = reports.economy_headline(ex, Scope.unit(team), day)
    assert figures(at)[3] == fmt_dkk(fig.expected)
    # and it is a different view from the default one (whole tree, extract date)
    assert fig.expected != reports.economy_headline(ex, Scope.unit(tree.root), ex.as_of)[0].expected
    # case links keep the view: extract, date and unit travel with the case id
    top = reports.top_cases(ex, viewer_of(at, ex), Scope.unit(team), day)
    link = link_rows(at)[0]["_link"][0]
    assert link.startswith(f"sag?sag={top['case_id'][0]}&")
    assert f"udtraek={FIXTURE_END.isoformat()}" in link
    assert f"dato={day.isoformat()}" in link
    assert f"enhed={team}" in link


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"enhed": "ingen.saadan.enhed"}, "ingen\\.saadan\\.enhed"),  # echoed as escaped Markdown
        ({"dato": "2026-13-45"}, "ikke en gyldig dato"),
        ({"dato": "2031-01-01"}, "uden for udtrækket"),
    ],
)
@pytest.mark.parametrize("page", ["views/oekonomi.py", "views/underretninger.py", "views/sygefravaer.py"])
def test_bad_url_values_give_a_clear_message(
    env: Path, page: str, params: dict[str, str], message: str
) -> None:
    at = open_page(page, params)  # asserts no exception
    assert any(message in e for e in errors(at)), errors(at)
    assert not at.get("component_instance")  # no figures for a view that can't be shown


# --- Underretninger ----------------------------------------------------------------------------


def test_underretninger_shows_the_metrics_figures(env: Path, small_extract: Extract) -> None:
    ex = small_extract
    at = open_page("views/underretninger.py")
    assert not errors(at)
    scope, as_of = scope_of(at)
    count = registry.compute(ex, "underretninger_antal", scope, as_of)
    share = registry.compute(ex, "underretninger_24t_pct", scope, as_of)
    waiting = reports.overdue_unassessed_count(ex, scope, as_of)
    assert figures(at) == [fmt_num(count.value), fmt_pct(share.value), fmt_num(waiting)]

    shown = grids(at)
    monthly = reports.notifications_monthly(ex, scope, as_of)
    same(shown["und_month"], monthly, ["pct_24h", "ytd_pct_24h"], ["received", "eligible", "on_time"])
    assert shown["und_month"]["month"].to_list() == [d.isoformat() for d in monthly["month"].to_list()]
    # the year-to-date share in the last month is the headline KPI
    assert monthly["ytd_pct_24h"][-1] == pytest.approx(share.value)
    # a summary table (no iframe) keeps the numbers, so sorting is numeric, and shows Danish text
    assert shown["und_month"].schema["pct_24h"] == pl.Float64
    text = summary_text(at, "und_month")
    assert text["month"][0] == "jan. 2026"  # the first month of as_of's year, as the page says it
    assert text["pct_24h"].to_list() == ["–" if v is None else fmt_pct(v) for v in monthly["pct_24h"].to_list()]
    assert text["received"].to_list() == [fmt_num(v) for v in monthly["received"].to_list()]
    by_source = reports.notifications_by_source(ex, scope, as_of)
    same(shown["und_source"], by_source, ["pct_24h", "share_pct"], ["label", "received"])
    assert chart_data(at, "received")["received"].to_list() == monthly["received"].to_list()

    rows = reports.overdue_unassessed_rows(ex, viewer_of(at, ex), scope, as_of)
    if rows.height:
        same(shown["und_waiting"], rows, ["hours_waiting"], ["notification_id"])
    else:
        assert "und_waiting" not in shown
        assert at.success


def test_underretninger_for_another_date(env: Path, small_extract: Extract) -> None:
    day = date(2026, 3, 10)
    at = open_page("views/underretninger.py", {"dato": day.isoformat()})
    scope, as_of = scope_of(at)
    assert as_of == day
    monthly = reports.notifications_monthly(small_extract, scope, day)
    assert monthly.height == 3  # January, February, March up to the 10th
    same(grids(at)["und_month"], monthly, ["pct_24h"], ["received"])


# --- Sygefravær --------------------------------------------------------------------------------


def test_sygefravaer_shows_the_metrics_figures(env: Path, small_extract: Extract) -> None:
    ex = small_extract
    at = open_page("views/sygefravaer.py")
    assert not errors(at)
    scope, as_of = scope_of(at)
    viewer = viewer_of(at, ex)
    value = registry.compute(ex, "sygefravaer_pct", scope, as_of)
    target = reports.scorecard_target("sygefravaer_pct")
    assert target is not None
    spells = reports.long_sick_spells(ex, viewer, scope, as_of)
    assert figures(at) == [fmt_pct(value.value), f"≤ {fmt_pct(target.value)}", fmt_num(spells.height)]

    shown = grids(at)
    monthly = reports.sick_leave_monthly(ex, scope, as_of)
    same(shown["syg_month"], monthly, ["pct", "sick", "scheduled"], ["unit_name"])
    # the whole unit's months add up to the year-to-date KPI shown at the top
    total = monthly.filter(pl.col("is_total"))
    assert float(total["sick"].sum()) / float(total["scheduled"].sum()) * 100 == pytest.approx(value.value)
    # the trend chart: the year-to-date KPI at each month end
    trend = chart_data(at, "ytd_pct").filter(pl.col("is_total"))
    assert trend["ytd_pct"].to_list() == pytest.approx(
        registry.trend(ex, "sygefravaer_pct", scope, as_of)["value"].to_list()
    )
    if spells.height:
        same(shown["syg_spells"], spells, ["days"], ["name"])


def _heat_spec(at: AppTest) -> dict[str, object]:
    import json

    for el in at.get("vega_lite_chart"):
        spec = json.loads(el.proto.spec)
        if any(layer.get("mark", {}).get("type") == "rect" for layer in spec.get("layer", [])):
            return spec
    raise AssertionError("no heat map")


def test_sygefravaer_heat_map_is_colour_blind_safe_and_centred_on_target(env: Path) -> None:
    at = open_page("views/sygefravaer.py")
    target = reports.scorecard_target("sygefravaer_pct")
    assert target is not None
    layers = _heat_spec(at)["layer"]
    rect = next(la for la in layers if la["mark"]["type"] == "rect")  # type: ignore[index]
    scale = rect["encoding"]["color"]["scale"]  # type: ignore[index]
    assert scale == {"scheme": "blueorange", "domainMid": target.value}  # no red–green
    # the labels switch to white on the dark ends of the scale (no black text on dark colour)
    text = next(la for la in layers if la["mark"]["type"] == "text")  # type: ignore[index]
    assert text["encoding"]["color"]["condition"]["value"] == "white"  # type: ignore[index]
    assert any("»(direkte)«" in c.value for c in at.caption)


def test_sygefravaer_caseworker_is_told_the_rows_are_her_own(env: Path, small_extract: Extract) -> None:
    ex = small_extract
    worker = ex["employees"].filter(pl.col("role") == "raadgiver")["employee_id"][0]
    at = open_page("views/sygefravaer.py")
    at.selectbox(key="vis_som").set_value(worker).run()
    assert not at.exception
    viewer = viewer_of(at, ex)
    scope, as_of = scope_of(at)
    spells = reports.long_sick_spells(ex, viewer, scope, as_of)
    assert set(spells["name"].to_list()) <= {viewer.name}  # metrics gives her own rows only
    assert figures(at)[-1] == fmt_num(spells.height)
    texts = [m.value for m in at.markdown] + [s.value for s in at.success] + [c.value for c in at.caption]
    if spells.height == 0:
        assert any(t.startswith("Du har ikke haft sammenhængende sygefravær") for t in texts)
        assert not any(t.startswith("Ingen medarbejdere") for t in texts)
    else:
        assert any("Dine egne sammenhængende perioder" in t for t in texts)


def test_oekonomi_charts_are_danish_and_not_cut(env: Path) -> None:
    import json

    at = open_page("views/oekonomi.py")
    specs = [json.loads(el.proto.spec) for el in at.get("vega_lite_chart")]
    assert len(specs) == 2
    for spec in specs:
        # the axes' ",.0f" is formatted with the Danish locale: 20.000.000, not 20,000,000
        assert spec["config"]["locale"]["number"]["thousands"] == "."
        assert spec["config"]["locale"]["number"]["decimal"] == ","
    text = json.dumps(specs)
    # no legend cut ("Budget, lige fordelt over …"): every legend is unlimited
    assert text.count('"labelLimit": 0') == 2
    assert '"labelLimit": 420' in text  # the account names ("5.28.21 Forebyggende foranstaltninger …")


def test_headline_figures_are_one_unbreakable_unit(env: Path) -> None:
    at = open_page("views/oekonomi.py")
    # every headline box carries the key (CSS class st-key-headline-…) the app's style keeps on
    # one line and fits to the box: "101.257.617 kr." never breaks before its final "."
    boxes: list[str] = []

    def walk(node: object) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None and getattr(proto, "id", "") and "-headline-" in proto.id:
            boxes.append(proto.id)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    assert len(boxes) == len(figures(at)) == 5
    from ui.context import _APP_STYLE

    assert '[class*="st-key-headline-"] h4 { white-space: nowrap;' in _APP_STYLE
