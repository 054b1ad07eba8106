"""Notification KPIs (kpis.md, section Notifications), hand-worked values.

as_of 2024-06-14 → T = 2024-06-15 00:00 (exclusive). The extract's own as_of is
2024-06-30, so assessments after the reporting date exist in it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import polars as pl
import pytest

from metrics.contract import polars_schema
from metrics.extract import Extract
from metrics.kpis import underretninger_24t_pct, underretninger_antal
from metrics.registry import compute
from metrics.scope import Scope
from tests.conftest import make_extract

AS_OF = date(2024, 6, 14)
ROOT, A, B = Scope.unit("K"), Scope.unit("A"), Scope.unit("B")


def extract(as_of: date, rows: list[dict[str, Any]]) -> Extract:
    nots = pl.DataFrame(rows, schema=polars_schema("notifications"), orient="row")
    ex = make_extract(as_of=as_of, notifications=nots)
    assert ex.rejected_total == 0, ex.report
    return ex


def n(nid: str, unit: str, received: datetime, assessed: datetime | None) -> dict[str, Any]:
    return {
        "notification_id": nid,
        "child_id": "child-" + nid,
        "case_id": None,
        "unit_id": unit,
        "source": "skole",
        "received_at": received,
        "assessed_at": assessed,
    }


ts = datetime

ROWS = [
    # exactly 24 h: on time
    n("n1", "A", ts(2024, 3, 1, 10), ts(2024, 3, 2, 10)),
    # 24 h + 1 s: late
    n("n2", "A", ts(2024, 3, 1, 10), ts(2024, 3, 2, 10, 0, 1)),
    # received 12 h before T, not assessed: pending (not eligible), but counted
    n("n3", "A", ts(2024, 6, 14, 12), None),
    # received 24 h + 1 s before T, not assessed: eligible and late
    n("n4", "A", ts(2024, 6, 13, 23, 59, 59), None),
    # received exactly T − 24 h, assessed exactly at T (not before T, so unknown at as_of):
    # not "less than 24 hours before T" → eligible, and late at as_of
    n("n5", "A", ts(2024, 6, 14, 0), ts(2024, 6, 15, 0)),
    # received and assessed on as_of: on time
    n("n6", "A", ts(2024, 6, 14, 8), ts(2024, 6, 14, 9)),
    # received 4 h before T, assessed after as_of (12 h later): pending at as_of
    n("n7", "A", ts(2024, 6, 14, 20), ts(2024, 6, 15, 8)),
    # received 38 h before T, assessed after as_of: eligible, late
    n("n8", "A", ts(2024, 6, 13, 10), ts(2024, 6, 15, 9)),
    # received last year: outside YTD
    n("n9", "A", ts(2023, 12, 31, 23), ts(2024, 1, 1, 1)),
    # received at the first instant of the year: inside YTD, on time
    n("n10", "A", ts(2024, 1, 1, 0), ts(2024, 1, 1, 5)),
    n("n11", "B", ts(2024, 2, 1, 9), ts(2024, 2, 3, 9)),  # 48 h: late
    n("n12", "B", ts(2024, 2, 10, 9), ts(2024, 2, 10, 10)),  # on time
    n("n13", "B", ts(2024, 6, 15, 1), None),  # received after T (at as_of 14 June)
]


@pytest.fixture(scope="module")
def ex() -> Extract:
    return extract(date(2024, 6, 30), ROWS)


def v(fn: Any, ex: Extract, scope: Scope, as_of: date = AS_OF) -> float | None:
    return fn(ex, scope, as_of).value


def test_antal(ex: Extract) -> None:
    # root: all but n9 (2023) and n13 (after T) = 11
    assert v(underretninger_antal, ex, ROOT) == 11
    assert v(underretninger_antal, ex, A) == 9  # n1..n8, n10
    assert v(underretninger_antal, ex, B) == 2  # n11, n12


def test_24t_pct(ex: Extract) -> None:
    # eligible = antal minus the pending n3, n7 = 9: n1 n2 n4 n5 n6 n8 n10 n11 n12
    # on time: n1 (exactly 24 h), n6, n10, n12 = 4 → 4/9 × 100 = 44.44…
    assert v(underretninger_24t_pct, ex, ROOT) == pytest.approx(4 / 9 * 100)
    # A: eligible n1 n2 n4 n5 n6 n8 n10 = 7, on time n1 n6 n10 = 3 → 42.857…
    # B: eligible n11 n12 = 2, on time 1 → 50. Averaging A and B (46.43) ≠ root (44.44).
    assert v(underretninger_24t_pct, ex, A) == pytest.approx(3 / 7 * 100)
    assert v(underretninger_24t_pct, ex, B) == pytest.approx(50.0)


def test_24t_pct_a_day_later(ex: Extract) -> None:
    # as_of 15 June → T = 16 June 00:00.
    # A: n3 (received 36 h before T, unassessed) → eligible, late; n7 (assessed 15 June 08:00,
    # 12 h) → on time; n5 (assessed 15 June 00:00, exactly 24 h, now before T) → on time;
    # n8 (47 h) → late. Eligible A = n1..n8, n10 = 9; on time n1 n5 n6 n7 n10 = 5 → 55.55…
    d = date(2024, 6, 15)
    assert v(underretninger_24t_pct, ex, A, d) == pytest.approx(5 / 9 * 100)
    # B: n13 received 15 June 01:00 (23 h before T), unassessed → pending; antal B = 3,
    # eligible 2, on time 1. Root: antal 12, eligible 11, on time 6 → 54.54…
    assert v(underretninger_antal, ex, B, d) == 3
    assert v(underretninger_antal, ex, ROOT, d) == 12
    assert v(underretninger_24t_pct, ex, ROOT, d) == pytest.approx(6 / 11 * 100)


def test_boundary_received_exactly_24h_before_T() -> None:
    # received exactly at T − 24 h and never assessed: the deadline has passed at T → late
    ex = extract(date(2024, 6, 14), [n("x", "A", ts(2024, 6, 14, 0), None)])
    assert v(underretninger_24t_pct, ex, ROOT) == 0.0
    # received one second later: still pending → no eligible notification → null
    ex = extract(date(2024, 6, 14), [n("x", "A", ts(2024, 6, 14, 0, 0, 1), None)])
    assert v(underretninger_24t_pct, ex, ROOT) is None
    assert v(underretninger_antal, ex, ROOT) == 1


def test_zero_denominator_is_null(ex: Extract) -> None:
    # B on 1 January: no notification received → antal 0, pct null (never 0)
    assert v(underretninger_antal, ex, B, date(2024, 1, 1)) == 0
    assert v(underretninger_24t_pct, ex, B, date(2024, 1, 1)) is None
    assert compute(ex, "underretninger_24t_pct", B, date(2024, 1, 1)).value is None


def test_new_year_boundary(ex: Extract) -> None:
    # 31 Dec 2023: n9 (23:00) is in that year's YTD, not assessed before T = 1 Jan 00:00 and
    # received 1 h before T → pending: antal 1, no eligible → null
    d = date(2023, 12, 31)
    assert v(underretninger_antal, ex, A, d) == 1
    assert v(underretninger_24t_pct, ex, A, d) is None
    # 1 Jan 2024: n9 is last year's; n10 (00:00, assessed 05:00) counts and is on time → 100
    assert v(underretninger_antal, ex, A, date(2024, 1, 1)) == 1
    assert v(underretninger_24t_pct, ex, A, date(2024, 1, 1)) == pytest.approx(100.0)
