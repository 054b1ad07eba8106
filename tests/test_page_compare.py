"""AppTest for Sammenlign udtræk on the small fixture extracts (2026-11-06 and 2026-11-20):
the figures and grids shown are metrics.compare's for the same unit and viewer; the earlier
extract comes from the URL (`foer`); bad or missing earlier extracts give a clear message."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from metrics.access import viewer_for_employee
from metrics.compare import Comparison, biggest_account, compare, judgement_counts
from metrics.extract import Extract
from metrics.loader import load_extract
from tests.conftest import FIXTURE_END
from tests.support_app import figures, grids
from ui.fmt import fmt_delta, fmt_num, fmt_value

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGE = "views/sammenlign.py"
NBSP = "\u00a0"
EARLIER = date(2026, 11, 6)


@pytest.fixture
def env(app_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("STYRING_DB_URL", f"sqlite:///{tmp_path / 'audit.sqlite'}")
    yield app_env


@pytest.fixture(scope="module")
def earlier(small_root: Path) -> Extract:
    return load_extract(small_root / EARLIER.isoformat())


def open_page(params: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page(PAGE)
    for k, v in (params or {}).items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def expected(at: AppTest, now: Extract, before: Extract) -> Comparison:
    viewer = viewer_for_employee(now, str(at.selectbox(key="vis_som").value))
    assert viewer is not None
    return compare(now, before, str(at.selectbox(key="enhed").value), viewer)


def test_default_is_the_extract_just_before(env: Path, small_extract: Extract, earlier: Extract) -> None:
    at = open_page()
    assert not at.error
    assert at.selectbox(key="foer").value == EARLIER.isoformat()
    c = expected(at, small_extract, earlier)
    assert [s.value for s in at.subheader] == ["Siden udtrækket 6. nov. 2026"]
    counts = judgement_counts(c)
    assert figures(at) == [
        fmt_delta(c.expected_change, "dkk"),
        fmt_delta(c.deviation_change, "dkk"),
        fmt_num(counts["improved"]),
        fmt_num(counts["worsened"]),
        fmt_delta(c.set_aside_change, "count"),
    ]
    # the sentence names the account that moved most
    top = biggest_account(c)
    assert top is not None
    sentence = next(m.value for m in at.markdown if m.value.startswith("Forventet regnskab"))
    assert str(top["group"]).replace(".", "\\.") in sentence

    shown = grids(at)
    kpis = shown["cmp_kpis"]
    assert kpis["label"].to_list() == c.kpis["label"].to_list()
    rows = list(c.kpis.iter_rows(named=True))
    assert kpis["before_text"].to_list() == [fmt_value(r["before"], r["format"]) for r in rows]
    assert kpis["now_text"].to_list() == [fmt_value(r["now"], r["format"]) for r in rows]
    assert kpis["change_text"].to_list() == [fmt_delta(r["change"], r["format"]) for r in rows]
    # improved / worsened as icon + word, one per KPI
    words = {"improved": "Forbedret", "worsened": "Forværret", "unchanged": "Uændret"}
    for text, r in zip(kpis["judgement_text"].to_list(), rows, strict=True):
        if r["judgement"] in words:
            assert text.split(" ", 1)[1] == words[r["judgement"]]

    accounts = shown["cmp_accounts"]
    assert accounts["label"].to_list() == c.accounts["label"].to_list()
    for col in ("expected_before", "expected_now", "expected_change", "deviation_change", "budget_now"):
        assert accounts[col].to_list() == pytest.approx(c.accounts[col].to_list()), col

    quality = shown["cmp_quality"]
    for col in ("rows_before", "rows_now", "rows_change", "set_aside_before", "set_aside_now"):
        assert quality[col].to_list() == c.quality[col].to_list(), col
    # the generator adds facts between the two extracts: payments grow
    assert c.quality.filter(pl.col("table") == "payments")["rows_change"].item() > 0


def test_earlier_extract_by_iso_date_in_the_url(env: Path) -> None:
    at = open_page({"foer": EARLIER.isoformat()})
    assert not at.error
    assert at.selectbox(key="foer").value == EARLIER.isoformat()


def test_unknown_earlier_extract_in_the_url(env: Path) -> None:
    at = open_page({"foer": "2025-01-01"})
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "'2025\\-01\\-01'" in errors[0] and "findes ikke" in errors[0]


def test_a_later_extract_is_not_an_earlier_one(env: Path) -> None:
    # comparing with the current extract itself (or a newer one) is not offered
    at = open_page({"foer": FIXTURE_END.isoformat()})
    assert any("findes ikke blandt udtrækkene før" in e.value for e in at.error)
    assert at.selectbox(key="foer").options == ["6. nov. 2026"]  # only the older extract


def test_oldest_extract_has_nothing_to_compare_with(env: Path) -> None:
    at = open_page({"udtraek": EARLIER.isoformat()})
    assert any("intet tidligere udtræk" in i.value for i in at.info)
    assert not grids(at)


def test_only_one_extract(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from data.generate import generate_series

    root = tmp_path / "one"
    generate_series(root, end=FIXTURE_END, seed=7, count=1, size="small")
    monkeypatch.setenv("STYRING_EXTRACTS", str(root))
    monkeypatch.setenv("STYRING_DB_URL", f"sqlite:///{tmp_path / 'audit.sqlite'}")
    at = open_page()
    assert [i.value for i in at.info if "intet tidligere udtræk" in i.value.lower()]
    assert not grids(at)
