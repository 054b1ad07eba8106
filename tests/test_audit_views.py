"""Audited views (issue 9, sections 2 and 4): the long-sickness list on Sygefravær, and
Datakvalitet's set-aside rows shown a page at a time with bounded audit rows."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from metrics import quality
from metrics.access import Viewer
from metrics.audit import search
from metrics.extract import Extract
from metrics.loader import load_extract
from tests.support_access import EMAIL, tables, write_extract
from tests.support_app import grids
from tests.test_auth_pages import logged_in, make_app
from ui.fmt import md_escape

APP = str(Path(__file__).resolve().parent.parent / "app.py")
N_BAD = 250  # cases set aside (birth year 1900 < 1990), all in team TA


def _events(ex: Extract, db: Path) -> pl.DataFrame:
    return search(ex, Viewer.system(), path=db).sort("event_id")


def test_long_sickness_list_is_audited(
    app_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "audit.sqlite"
    monkeypatch.setenv("STYRING_DB_URL", f"sqlite:///{db}")
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("views/sygefravaer.py")
    at.run()
    assert not at.exception
    spells = grids(at)["syg_spells"]
    assert spells.height > 0, "the fixture extract has long spells"
    ex = load_extract(sorted(app_env.iterdir())[-1])
    log = _events(ex, db).filter(pl.col("page") == "sygefravaer")
    assert log.height == 1 and log["action"][0] == "view"
    # the names shown are the employees named in the audit row, no more, no fewer
    staff = ex["employees"].select("employee_id", "name")
    named = set(log["target"][0].removeprefix("langt sygefravær: employee_id: ").split(", "))
    assert set(staff.filter(pl.col("employee_id").is_in(sorted(named)))["name"]) == set(spells["name"])


@pytest.fixture(scope="module")
def bad_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bad")
    good = tables()["cases"]
    bad = pl.DataFrame(
        {
            "case_id": [f"X{i:04d}" for i in range(N_BAD)],
            "child_id": [f"BX{i:04d}" for i in range(N_BAD)],
            "unit_id": ["TA"] * N_BAD,
            "caseworker_id": ["R1"] * N_BAD,
            "birth_year": [1900] * N_BAD,
            "opened_on": [date(2023, 1, 1)] * N_BAD,
            "closed_on": [None] * N_BAD,
        },
        schema=good.schema,
    )
    write_extract(root, synthetic=False, cases=pl.concat([good, bad]))
    return root


def test_page_of_rows_sorts_searches_and_pages_on_the_server() -> None:
    rows = pl.DataFrame({"case_id": [f"C{i:03d}" for i in range(250)], "n": list(range(250))})
    p = quality.page_of_rows(rows, sort_by="n", descending=True, page=3)
    # 250 rows, 100 a page: page 3 holds rows 201-250, i.e. n = 49 … 0 when sorted descending
    assert (p.pages, p.page, p.first, p.last, p.matching) == (3, 3, 201, 250, 250)
    assert p.rows["n"].to_list() == list(range(49, -1, -1))
    # "c01" matches C010 … C019 (10 rows); a page beyond the last is clamped
    q = quality.page_of_rows(rows, search="c01", page=9)
    assert (q.matching, q.pages, q.page) == (10, 1, 1)
    assert q.rows["case_id"].to_list() == [f"C{i:03d}" for i in range(10, 20)]


def test_datakvalitet_sends_one_page_and_logs_its_ids(
    bad_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "audit.sqlite"
    monkeypatch.setenv("STYRING_DB_URL", f"sqlite:///{db}")
    monkeypatch.delenv("STYRING_DEMO", raising=False)
    at = make_app(bad_root, monkeypatch, user=logged_in(EMAIL["L1"]), page="views/datakvalitet.py")
    assert not at.exception
    shown = grids(at)["dq_rows_cases"]
    assert shown.height == 100  # one page, not 250 rows
    assert any("Række 1–100 af 250" in c.value for c in at.caption)
    ex = load_extract(next(bad_root.iterdir()))
    view = _events(ex, db).filter(pl.col("page") == "datakvalitet")
    # one audit row per display, naming exactly the 100 cases on the page
    assert view.height == 1 and sorted(view["case_ids"][0]) == sorted(shown["case_id"].to_list())
    assert view["target"][0] is None
    # page 3 of 3: rows 201–250
    at.number_input(key="dq_page_cases").set_value(3).run()
    assert grids(at)["dq_rows_cases"].height == 50
    assert any("Række 201–250 af 250" in c.value for c in at.caption)
    # everything is a download of its own
    assert any(b.label.startswith("Hent alle 250 rækker") for b in at.get("download_button"))


@pytest.mark.parametrize(
    "page", ["views/scorecard.py", "views/oekonomi.py", "views/sygefravaer.py", "views/datakvalitet.py"]
)
def test_table_keeping_less_than_half_is_said_on_every_page(
    page: str, bad_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # cases: 5 good + 250 set aside → keeps 5 of 255, less than half
    monkeypatch.setenv("STYRING_DB_URL", f"sqlite:///{tmp_path / 'audit.sqlite'}")
    monkeypatch.delenv("STYRING_DEMO", raising=False)
    at = make_app(bad_root, monkeypatch, user=logged_in(EMAIL["L1"]), page=page)
    assert not at.exception
    loud = [e.value for e in at.error if "mangelfuldt" in e.value]
    assert len(loud) == 1 and md_escape("beholder kun 5 af 255 rækker; 250 er sat til side") in loud[0]
