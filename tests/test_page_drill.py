"""Drill-through on the pages (issue 12 §1, §2) in AppTest on the small generated extract: the
rows shown behind a tile are metrics.drill's rows for the same viewer, unit and date (and add
up to the KPI's numerator and denominator for a viewer who sees the whole unit); every case
links to Sag on the same view; the display is audited; Sag finds cases at department level."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from metrics import drill, registry, reports
from metrics.access import Viewer, viewer_for_employee
from metrics.audit import search
from metrics.extract import Extract
from metrics.org import org_tree
from metrics.scope import Scope
from tests.support_app import link_rows

APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.fixture
def db(app_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "audit.sqlite"
    monkeypatch.setenv("STYRING_DB_URL", f"sqlite:///{path}")
    return path


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _view(at: AppTest, ex: Extract) -> tuple[Viewer, Scope, date]:
    v = viewer_for_employee(ex, at.selectbox(key="vis_som").value)
    assert v is not None
    return v, Scope.unit(at.selectbox(key="enhed").value), at.date_input(key="dato").value


def _open(at: AppTest, kpi_id: str) -> AppTest:
    at.button(key=f"behind_{kpi_id}").click()
    return _run(at)


@pytest.mark.parametrize(
    ("kpi_id", "rows_of", "counted"),
    [
        ("frister_overholdt_pct", lambda ex, v, s, d: drill.deadline_rows(ex, v, s, d), "met"),
        (
            "undersoegelser_rettidige_pct",
            lambda ex, v, s, d: drill.deadline_rows(ex, v, s, d, "undersoegelse"),
            "met",
        ),
        ("underretninger_24t_pct", drill.notification_24h_rows, "on_time"),
    ],
)
def test_tile_rows_are_the_rows_counted(
    db: Path, small_extract: Extract, kpi_id: str, rows_of, counted
) -> None:  # type: ignore[no-untyped-def]
    ex = small_extract
    at = _run(AppTest.from_file(APP, default_timeout=120))
    v, scope, as_of = _view(at, ex)
    _open(at, kpi_id)
    assert at.query_params["bag"] in (kpi_id, [kpi_id])  # the URL holds the open rows
    expected = rows_of(ex, v, scope, as_of)
    assert expected.height > 0, "the fixture has rows behind the number"
    (shown,) = link_rows(at)
    assert shown["case_id"].to_list() == expected["case_id"].to_list()
    # the leader sees the whole unit: the rows are the KPI's denominator, the marked ones its numerator
    kpi = registry.compute(ex, kpi_id, scope, as_of)
    assert shown.height == kpi.denominator
    assert int(expected[counted].sum()) == kpi.numerator
    # every link opens Sag on the same extract, date and unit
    link = shown["_link"].drop_nulls()[0]
    assert f"udtraek={ex.as_of.isoformat()}" in link and f"dato={as_of.isoformat()}" in link
    assert f"enhed={scope.unit_id}" in link
    # the display is logged with exactly the cases shown
    log = search(ex, Viewer.system(), path=db).filter(pl.col("page") == "scorecard")
    assert log.height == 1
    assert set(log["case_ids"][0]) == set(expected["case_id"].drop_nulls().to_list())
    # closing removes the rows and the URL parameter
    at.button(key="behind_close").click()
    _run(at)
    assert not link_rows(at) and "bag" not in at.query_params


def test_caseload_rows_add_up(db: Path, small_extract: Extract) -> None:
    ex = small_extract
    at = _run(AppTest.from_file(APP, default_timeout=120))
    v, scope, as_of = _view(at, ex)
    _open(at, "sager_pr_raadgiver")
    expected = drill.caseload_rows(ex, v, scope, as_of)
    shown = next(pl.from_pandas(d.value) for d in at.dataframe if "Aktive sager" in d.value.columns)
    assert shown["Rådgiver"].to_list() == expected["name"].to_list()
    kpi = registry.compute(ex, "sager_pr_raadgiver", scope, as_of)
    assert (expected["active_cases"].sum(), expected["fte"].sum()) == (
        kpi.numerator,
        pytest.approx(kpi.denominator),
    )


def test_sick_leave_rows_for_leaders_only(db: Path, small_extract: Extract) -> None:
    ex = small_extract
    at = _run(AppTest.from_file(APP, default_timeout=120))
    v, scope, as_of = _view(at, ex)
    assert v.role in ("leder", "teamleder")
    _open(at, "sygefravaer_pct")
    spells = reports.long_sick_spells(ex, v, scope, as_of)
    shown = next(pl.from_pandas(d.value) for d in at.dataframe if "Kalenderdage" in d.value.columns)
    assert shown["Medarbejder"].to_list() == spells["name"].to_list()
    # a caseworker gets no button for other people's sickness
    worker = ex["employees"].filter(pl.col("role") == "raadgiver")["employee_id"][0]
    at.selectbox(key="vis_som").set_value(worker)
    _run(at)
    assert not [b for b in at.button if b.key == "behind_sygefravaer_pct"]


def test_economy_tile_links_to_oekonomi(db: Path, small_extract: Extract) -> None:
    at = _run(AppTest.from_file(APP, default_timeout=120))
    links = [p.proto for p in at.get("page_link") if p.proto.page == "oekonomi"]
    assert links and "enhed=" in links[0].query_string


def test_sag_search_at_department_level(db: Path, small_extract: Extract) -> None:
    ex = small_extract
    tree = org_tree(ex)
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("views/sag.py")
    _run(at)
    v, _, as_of = _view(at, ex)
    top = at.selectbox(key="enhed").value
    assert tree.level[top] != "team"  # the whole department (or above), no "choose a smaller unit"
    assert not [c for c in at.caption if "vælg en mindre enhed" in c.value]
    everything = drill.search_cases(ex, v, as_of, top)
    (shown,) = link_rows(at)
    assert shown["case_id"].to_list() == everything.rows["case_id"].to_list()
    # a caseworker's surname, partial: the rows metrics finds, newest activity first
    name = str(everything.rows["caseworker_name"].drop_nulls()[0]).split()[-1][:4].lower()
    at.text_input(key="sag_soeg").input(name)
    _run(at)
    found = drill.search_cases(ex, v, as_of, top, name)
    assert found.total > 0
    (shown,) = link_rows(at)
    assert shown["case_id"].to_list() == found.rows["case_id"].to_list()
    # a partial case id
    part = str(everything.rows["case_id"][0])[-4:]
    at.text_input(key="sag_soeg").input(part)
    _run(at)
    (shown,) = link_rows(at)
    assert str(everything.rows["case_id"][0]) in shown["case_id"].to_list()
    assert all(part.lower() in c.lower() for c in shown["case_id"].to_list()) or any(
        part.lower() in str(x).lower() for x in shown["Barn (pseudonym)"].to_list()
    )
