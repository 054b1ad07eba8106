"""AppTest for Kapabilitet on the small fixture extract: the mean, limits, p05/p95 and
signals on screen are what metrics.capability returns for the same unit, date and window;
the window start from the URL recomputes; without contacts the page explains the table."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from metrics.capability import MEASURES, capability, default_start, signal_rows
from metrics.extract import Extract
from metrics.org import org_tree
from metrics.scope import Scope
from tests.conftest import FIXTURE_END
from tests.support_app import figures, grids
from ui.fmt import fmt_num

APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.fixture
def env(app_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("STYRING_DB_URL", f"sqlite:///{tmp_path / 'audit.sqlite'}")
    yield app_env


def open_page(params: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.switch_page("views/kapabilitet.py")
    for k, v in (params or {}).items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def shown(x: float | None, unit: str) -> str:
    return "–" if x is None else f"{fmt_num(x, 1 if abs(x) < 10 else 0)} {unit}"


def expected_figures(ex: Extract, unit: str, start: date) -> list[str]:
    out: list[str] = []
    for m in MEASURES.values():
        f = capability(ex, m.id, Scope.unit(unit), FIXTURE_END, start).figures
        out += [fmt_num(f.n)] + [shown(v, m.unit) for v in (f.mean, f.lower, f.upper, f.p05, f.p95)]
    return out


def team_of(ex: Extract) -> str:
    tree = org_tree(ex)
    return next(u for u in tree.parent if tree.level[u] == "team")


@pytest.mark.parametrize("window", ["default", "from"])
def test_figures_and_signals_equal_metrics_for_a_team(env: Path, small_extract: Extract, window: str) -> None:
    unit = team_of(small_extract)
    start = default_start(FIXTURE_END) if window == "default" else date(FIXTURE_END.year, 3, 1)
    params = {"enhed": unit} | ({"fra": start.isoformat()} if window == "from" else {})
    at = open_page(params)
    assert at.date_input(key="fra").value == start
    got = figures(at)
    assert got[: 6 * len(MEASURES)] == expected_figures(small_extract, unit, start)
    tables = grids(at)
    for m in MEASURES.values():
        result = capability(small_extract, m.id, Scope.unit(unit), FIXTURE_END, start)
        want = signal_rows(result)
        key = f"kap_signals_{m.id}"
        if want.height == 0:
            assert key not in tables
            continue
        assert tables[key]["position"].to_list() == want["position"].to_list()
        assert tables[key]["rule"].to_list() == want["rule"].to_list()


def test_the_root_shows_the_statement_of_each_measure(env: Path, small_extract: Extract) -> None:
    at = open_page()
    root = org_tree(small_extract).root
    texts = [m.value for m in at.markdown]
    f = capability(small_extract, "vurdering_timer", Scope.unit(root), FIXTURE_END).figures
    assert f.mean is not None and f.p05 is not None and f.p95 is not None
    mean = fmt_num(f.mean, 1 if f.mean < 10 else 0)
    assert any(t.startswith(f"**En underretning vurderes i gennemsnit efter {mean} timer") for t in texts)


def test_without_contacts_the_page_explains_the_table(
    small_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "extracts"
    shutil.copytree(small_root / FIXTURE_END.isoformat(), root / FIXTURE_END.isoformat())
    (root / FIXTURE_END.isoformat() / "contacts.parquet").unlink(missing_ok=True)
    monkeypatch.setenv("STYRING_EXTRACTS", str(root))
    monkeypatch.setenv("STYRING_DB_URL", f"sqlite:///{tmp_path / 'audit.sqlite'}")
    at = open_page()
    assert any("contacts.parquet" in i.value for i in at.info)
    assert any("`demand_type`" in m.value and "`reason`" in m.value for m in at.markdown)
    assert "kap_pareto" not in grids(at)
