"""A trend in one grouped pass (metrics.trends) equals the KPI evaluated date by date."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from metrics import registry
from metrics.extract import Extract
from metrics.org import org_tree
from metrics.scope import Scope
from metrics.trends import OVER_DATES
from metrics.values import KpiValue, trend_dates
from tests.conftest import FIXTURE_END
from tests.test_cascade import AS_OF, tree_ex  # noqa: F401  (the hand-made fixture)


def _same(got: KpiValue, expected: KpiValue, what: str) -> None:
    """Equal value and basis; floats up to the last bits (sums accumulated month by month)."""
    assert got.basis == expected.basis, what
    if expected.value is None:
        assert got.value is None, what
    else:
        assert got.value == pytest.approx(expected.value, rel=1e-12, abs=1e-12), what


def _check(ex: Extract, scope: Scope, days: list[date]) -> int:
    n = 0
    for metric in registry.metric_ids(ex):
        got = registry.values_at(ex, metric, scope, days)
        assert len(got) == len(days)
        for d, g in zip(days, got, strict=True):
            _same(g, registry.compute(ex, metric, scope, d), f"{metric} {scope} {d}")
            n += 1
    return n


def test_the_grouped_forms_are_used() -> None:
    assert {"udgift_pr_sag", "udgift_pr_sag_aendring_pct", "sygefravaer_pct", "aktive_sager"} <= set(
        OVER_DATES
    )


@pytest.mark.parametrize("as_of", [FIXTURE_END, date(2026, 1, 31), date(2025, 12, 31)])
def test_trend_equals_per_month_on_the_generated_extract(small_extract: Extract, as_of: date) -> None:
    tree = org_tree(small_extract)
    team = sorted(u for u, lv in tree.level.items() if lv == "team")[0]
    worker = str(small_extract["cases"].filter(pl.col("caseworker_id").is_not_null())["caseworker_id"][0])
    days = trend_dates(as_of)
    for scope in (Scope.unit(tree.root), Scope.unit(team), Scope.caseworker(worker)):
        assert _check(small_extract, scope, days) == len(days) * len(registry.metric_ids(small_extract))


def test_dates_across_a_year_end(small_extract: Extract) -> None:
    """The scorecard asks for the previous month's end too: in January that is last year."""
    root = Scope.unit(org_tree(small_extract).root)
    _check(small_extract, root, [date(2025, 11, 30), date(2025, 12, 31), date(2026, 1, 15)])


@pytest.mark.parametrize("unit", ["K", "D", "E", "T2"])
def test_trend_equals_per_month_by_hand(tree_ex: Extract, unit: str) -> None:  # noqa: F811
    days = [*trend_dates(AS_OF), date(2024, 2, 29)]
    _check(tree_ex, Scope.unit(unit), sorted(days))


def test_trend_frame_by_hand(tree_ex: Extract) -> None:  # noqa: F811
    t = registry.trend(tree_ex, "aktive_sager", Scope.unit("D"), AS_OF)
    # c1, c2, c3, c4 open under D from 2023; c3 closes 1 March 2024: 4 at the ends of January and
    # February, 3 from the end of March
    assert t["value"].to_list() == [4.0, 4.0, 3.0, 3.0, 3.0, 3.0]
    assert t["as_of"].to_list()[-1] == AS_OF


def test_own_values_equal_each_months_own_value(small_extract: Extract) -> None:
    """The signal mark's 24 own values: month-end KPIs come from the grouped pass
    (registry.values_at), the rest month by month; both equal own_value of each month."""
    from metrics.own_values import OVER_MONTH, mark_months, own_value, own_values

    ex = small_extract
    as_of = FIXTURE_END
    months = mark_months(ex, as_of)
    assert len(months) > 12  # the mark spans more than one year: the grouped pass runs per year
    tree = org_tree(ex)
    team = next(u for u in tree.parent if not tree.children.get(u))
    checked = 0
    for scope in (Scope.unit(tree.root), Scope.unit(team)):
        for metric in registry.metric_ids(ex):
            got = own_values(ex, metric, scope, as_of)
            assert got["month"].to_list() == months
            for m, value in zip(months, got["value"].to_list(), strict=True):
                _same(KpiValue(value, 0), KpiValue(own_value(ex, metric, scope, m, as_of).value, 0), f"{metric} {m}")
                checked += 1
    assert checked > 2 * 24 * 10
    assert set(registry.metric_ids(ex)) - set(OVER_MONTH)  # some metrics take the grouped path


@pytest.mark.parametrize("as_of", [FIXTURE_END, date(2026, 1, 31), date(2025, 12, 15)])
def test_own_values_over_months_equal_each_months_own_value(small_extract: Extract, as_of: date) -> None:
    """The grouped form of every KPI counted over a month (own_values.OVER_MONTHS) equals its
    month-by-month definition (own_value) in value, basis, numerator and denominator, for each
    month of the mark, at a unit, a team and a caseworker, with as_of inside its month."""
    from metrics.own_values import OVER_MONTH, OVER_MONTHS, mark_months, own_value

    ex = small_extract
    assert set(OVER_MONTHS) == set(OVER_MONTH)
    tree = org_tree(ex)
    team = sorted(u for u, lv in tree.level.items() if lv == "team")[0]
    worker = str(ex["cases"].filter(pl.col("caseworker_id").is_not_null())["caseworker_id"][0])
    months = mark_months(ex, as_of)
    checked = 0
    for scope in (Scope.unit(tree.root), Scope.unit(team), Scope.caseworker(worker)):
        for metric in [m for m in registry.metric_ids(ex) if m in OVER_MONTHS]:
            for year in sorted({m.year for m in months}):
                in_year = [m for m in months if m.year == year]
                got = OVER_MONTHS[metric](ex, scope, in_year, as_of)
                for m, g in zip(in_year, got, strict=True):
                    expected = own_value(ex, metric, scope, m, as_of)
                    what = f"{metric} {scope} {m}"
                    _same(g, expected, what)
                    for part in ("numerator", "denominator"):
                        e, v = getattr(expected, part), getattr(g, part)
                        assert (v is None) == (e is None), what
                        if e is not None:
                            assert v == pytest.approx(e, rel=1e-12, abs=1e-12), what
                    checked += 1
    assert checked >= 3 * 9 * len(months)  # every KPI of OVER_MONTH has a value to compare
