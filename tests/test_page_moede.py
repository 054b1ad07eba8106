"""AppTest for Økonomimøde on the small fixture extracts (2026-11-06 and 2026-11-20): the
figures, grids and links shown are metrics.meeting's for the same unit and viewer; the
earlier extract comes from the URL (`foer`); a caseworker is refused and the refusal is
logged; administration sees no case rows."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from metrics.access import viewer_for_employee
from metrics.export import BUDGET_STATUS_TEXT
from metrics.extract import Extract
from metrics.loader import load_extract
from metrics.meeting import Agenda, agenda
from metrics.scorecard import load_scorecard
from tests.support_app import figures, grids
from ui.fmt import fmt_dkk, fmt_num

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGE = "views/moede.py"
EARLIER = date(2026, 11, 6)


@pytest.fixture
def env(app_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("STYRING_DB_URL", f"sqlite:///{tmp_path / 'audit.sqlite'}")
    yield tmp_path


@pytest.fixture(scope="module")
def earlier(small_root: Path) -> Extract:
    return load_extract(small_root / EARLIER.isoformat())


def open_page(params: dict[str, str] | None = None, persona: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.switch_page(PAGE)
    for k, v in (params or {}).items():
        at.query_params[k] = v
    at.run()
    if persona is not None:
        at.selectbox(key="vis_som").set_value(persona).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def expected(at: AppTest, now: Extract, before: Extract | None) -> Agenda:
    viewer = viewer_for_employee(now, str(at.selectbox(key="vis_som").value))
    assert viewer is not None
    return agenda(now, before, str(at.selectbox(key="enhed").value), viewer, load_scorecard())


def persona(ex: Extract, role: str) -> str:
    staff = ex["employees"].filter((pl.col("role") == role) & pl.col("employed_to").is_null())
    return str(staff["employee_id"][0])


def test_default_view_equals_metrics(env: Path, small_extract: Extract, earlier: Extract) -> None:
    at = open_page()
    assert not at.error
    assert at.selectbox(key="foer").value == EARLIER.isoformat()  # the extract just before
    a = expected(at, small_extract, earlier)
    assert a.new is not None
    assert figures(at) == [
        fmt_num(a.kpis.height),
        fmt_dkk(a.economy.expected),
        fmt_dkk(a.economy.deviation),
        BUDGET_STATUS_TEXT[a.over_budget],
        fmt_num(a.new.interventions),
        fmt_dkk(a.new.interventions_yearly_cost),
        fmt_num(a.new.late_notifications),
        fmt_num(a.new.overdue_deadlines),
    ]
    shown = grids(at)
    assert shown["moede_konti"]["label"].to_list() == a.accounts["label"].to_list()
    assert shown["moede_konti"]["expected"].to_list() == pytest.approx(a.accounts["expected"].to_list())
    assert shown["moede_konti"]["label"][-1] == "I alt"
    assert shown["moede_matrix"]["row_label"].to_list()[-1] == "I alt"
    assert a.top_cases is not None
    assert shown["moede_dyreste"]["case_id"].to_list() == a.top_cases["case_id"].to_list()
    assert shown["moede_dyreste"]["expected"].to_list() == pytest.approx(a.top_cases["expected"].to_list())

    links = [p.proto for p in at.get("page_link")]
    kpi_links = [p for p in links if "kpi=" in p.query_string]  # Scorecard is the default page (url "")
    assert {p.page for p in kpi_links} == {""}
    assert [p.query_string.split("kpi=")[1].split("&")[0] for p in kpi_links] == a.kpis["kpi_id"].to_list()
    assert all(f"udtraek={small_extract.as_of.isoformat()}" in p.query_string for p in kpi_links)
    econ = [p for p in links if p.page == "oekonomi"]
    assert any("gruppering=account" in p.query_string for p in econ)
    case_links = [p.query_string.split("&")[0] for p in links if p.page == "sag"]
    assert {f"sag={c}" for c in a.top_cases["case_id"].to_list()} <= set(case_links)
    # the case rows shown were logged as a view before they were rendered
    with sqlite3.connect(env / "audit.sqlite") as conn:
        pages = conn.execute("SELECT page, action FROM audit_event").fetchall()
        logged = {r[0] for r in conn.execute("SELECT case_id FROM audit_case").fetchall()}
    assert ("moede", "view") in pages
    assert set(a.case_ids()) <= logged
    # the comments part is there: open decisions, and no notes yet
    assert "**Beslutninger fra sidste møde**" in [m.value for m in at.markdown]
    assert any("ingen kommentarer eller beslutninger til dette møde" in c.value for c in at.caption)


def test_first_meeting_from_the_url(env: Path, small_extract: Extract) -> None:
    at = open_page({"foer": "ingen"})
    assert not at.error
    a = expected(at, small_extract, None)
    assert figures(at)[:4] == [
        fmt_num(a.kpis.height),
        fmt_dkk(a.economy.expected),
        fmt_dkk(a.economy.deviation),
        BUDGET_STATUS_TEXT[a.over_budget],
    ]
    assert any("Intet tidligere udtræk" in c.value for c in at.caption)
    assert "moede_nye_indsatser" not in grids(at)


def test_caseworker_is_refused_and_logged(env: Path, small_extract: Extract) -> None:
    at = open_page(persona=persona(small_extract, "raadgiver"))
    assert at.error and "Ingen adgang" in at.error[0].value
    assert grids(at) == {}
    with sqlite3.connect(env / "audit.sqlite") as conn:
        denied = conn.execute("SELECT page FROM audit_event WHERE action = 'denied'").fetchall()
    assert ("moede",) in denied


def test_administration_sees_aggregates_only(env: Path, small_extract: Extract, earlier: Extract) -> None:
    at = open_page(persona=persona(small_extract, "administration"))
    assert not at.error
    shown = grids(at)
    assert "moede_dyreste" not in shown and "moede_nye_indsatser" not in shown
    a = expected(at, small_extract, earlier)
    assert a.new is not None
    assert figures(at)[4] == fmt_num(a.new.interventions)
    assert not [p for p in at.get("page_link") if p.proto.page == "sag"]


def test_a_kpi_link_marks_its_tile_on_the_scorecard(env: Path) -> None:
    card = load_scorecard()
    wanted = card.kpis[1].id
    at = AppTest.from_file(APP, default_timeout=90)
    at.switch_page("views/scorecard.py")
    at.query_params["kpi"] = wanted
    at.run()
    assert not at.exception
    marks = [m for m in at.markdown if "Nøgletallet fra linket" in m.value]
    assert len(marks) == 1

    # the mark sits in that KPI's tile: the block holding it holds the KPI's metric
    def blocks(node: Any) -> Iterator[Any]:
        children = getattr(node, "children", None) or {}
        if children:
            yield node
        for child in children.values():
            yield from blocks(child)

    def leaves(node: Any) -> list[Any]:
        children = getattr(node, "children", None) or {}
        return [node] if not children else [x for c in children.values() for x in leaves(c)]

    tiles = [
        b for b in blocks(at.main) if any(getattr(x, "value", None) == marks[0].value for x in leaves(b))
    ]
    innermost = tiles[-1]
    labels = [x.label for x in leaves(innermost) if type(x).__name__ == "Metric"]
    assert labels == [card.kpis[1].name]
