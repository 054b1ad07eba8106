"""A month's own value (kpis.md 1.1), month by month, worked out by hand on the hand-made
notifications and deadlines of tests/test_kpis_notifications.py and tests/test_kpis_cases.py.
The signal mark reads these 24 months in one grouped pass (own_values.OVER_MONTHS)."""

from __future__ import annotations

from datetime import date

import pytest

from metrics.own_values import own_values
from metrics.scope import Scope
from tests import test_kpis_cases as cases
from tests import test_kpis_notifications as notes

AS_OF = date(2024, 6, 14)  # T = 15 June 00:00
ROOT = Scope.unit("K")


def by_month(metric: str, ex: object) -> dict[date, float | None]:
    got = own_values(ex, metric, ROOT, AS_OF)  # type: ignore[arg-type]
    return dict(zip(got["month"].to_list(), got["value"].to_list(), strict=True))


def test_notifications_each_month() -> None:
    ex = notes.extract(date(2024, 6, 30), notes.ROWS)
    # first data: n9 received 31 December 2023 → months December 2023 … June 2024
    pct = by_month("underretninger_24t_pct", ex)
    assert list(pct) == [date(2023, 12, 1), *(date(2024, m, 1) for m in range(1, 7))]
    assert pct[date(2023, 12, 1)] == 100.0  # n9, assessed after 2 h
    assert pct[date(2024, 1, 1)] == 100.0  # n10
    assert pct[date(2024, 2, 1)] == 50.0  # n11 late (48 h), n12 on time
    assert pct[date(2024, 3, 1)] == 50.0  # n1 exactly 24 h, n2 24 h + 1 s
    assert pct[date(2024, 4, 1)] is None  # nothing received: no value, not 0
    assert pct[date(2024, 5, 1)] is None
    # June up to as_of: n3 and n7 still within their 24 hours at T (not eligible); n4, n5, n8
    # late, n6 on time; n13 received after T → 1 of 4
    assert pct[date(2024, 6, 1)] == pytest.approx(25.0)
    antal = by_month("underretninger_antal", ex)
    assert antal[date(2024, 6, 1)] == 6.0  # n3 … n8, not n13
    assert antal[date(2024, 4, 1)] == 0.0  # a count without rows is 0
    assert sum(v for v in antal.values() if v is not None) == 12.0  # all but n13


def test_deadlines_each_month() -> None:
    ex = cases.extract(
        date(2024, 6, 30), employees=cases.EMPLOYEES, cases=cases.CASES, deadlines=cases.DEADLINES
    )
    got = own_values(ex, "frister_overholdt_pct", ROOT, AS_OF)
    # first data: every deadline started 1 June 2023 → months June 2023 … June 2024
    assert got["month"].to_list()[0] == date(2023, 6, 1)
    pct = dict(zip(got["month"].to_list(), got["value"].to_list(), strict=True))
    assert all(pct[date(2023, m, 1)] is None for m in range(6, 12))  # nothing due
    assert pct[date(2023, 12, 1)] == 0.0  # d7 never done
    assert pct[date(2024, 1, 1)] == 100.0  # d9 done before its due day
    assert pct[date(2024, 3, 1)] == pytest.approx(200 / 3)  # d1, d2 met; d3 a day late
    assert pct[date(2024, 4, 1)] == 100.0  # d10
    assert pct[date(2024, 5, 1)] == 0.0  # d6 not done
    # June 1–14: d4 (due on as_of, not done), d5 (done after as_of), d11 (a day late); d8 due later
    assert pct[date(2024, 6, 1)] == 0.0
    assert got.filter(got["month"] == date(2024, 6, 1)).height == 1
    from metrics.own_values import OVER_MONTHS

    [june] = OVER_MONTHS["frister_overholdt_pct"](ex, ROOT, [date(2024, 6, 1)], AS_OF)
    assert (june.basis, june.numerator, june.denominator) == (3, 0.0, 3.0)  # d4 due on as_of counts
    undersoeg = by_month("undersoegelser_rettidige_pct", ex)
    assert undersoeg[date(2024, 3, 1)] == pytest.approx(200 / 3)  # d1 d2 d3 are investigations
    assert undersoeg[date(2024, 6, 1)] is None  # none due in June
