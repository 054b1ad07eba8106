"""The narrow deadline frames (only what the deadline KPIs count on) keep every value, whatever
frame is built first, and the drill-down's deadline rows keep every column."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from metrics import registry
from metrics.extract import Extract
from metrics.scope import Scope, scoped, scoped_year
from tests.conftest import make_extract

AS_OF = date(2024, 6, 14)


def _extract() -> Extract:
    ex = make_extract(
        AS_OF,
        cases={
            "case_id": ["c1", "c2"],
            "child_id": ["x1", "x2"],
            "unit_id": ["A", "B"],
            "caseworker_id": [None, None],
            "birth_year": [2012, 2013],
            "opened_on": [date(2023, 1, 1)] * 2,
            "closed_on": [None, None],
        },
        deadlines={
            "deadline_id": ["d1", "d2", "d3", "d4"],
            "case_id": ["c1", "c1", "c1", "c2"],
            "kind": ["undersoegelse", "undersoegelse", "opfoelgning", "handleplan"],
            "started_on": [date(2023, 10, 1), date(2024, 1, 1), date(2024, 1, 1), date(2024, 1, 1)],
            # d1 due last year and still open; d2 met; d3 open past due; d4 due after as_of
            "due_on": [date(2023, 12, 1), date(2024, 3, 1), date(2024, 5, 1), date(2024, 9, 1)],
            "done_on": [None, date(2024, 2, 20), None, None],
        },
    )
    assert ex.rejected_total == 0, ex.report
    return ex


ORDERS = [
    ("frister_overholdt_pct", "frister_overskredne"),
    ("frister_overskredne", "frister_overholdt_pct"),
]


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("unit", ["K", "A"])
def test_deadline_kpis_whatever_frame_is_built_first(order: tuple[str, str], unit: str) -> None:
    ex = _extract()
    # whole deadline table enriched first (as the meeting's scoped(…, "deadlines") does): the
    # narrow frames must not be cut from it without their keys
    scoped(ex, "deadlines", Scope.unit("K"))
    got = {m: registry.compute(ex, m, Scope.unit(unit), AS_OF).value for m in order}
    # overdue at 14 Jun: d1 (due 1 Dec 2023, open) and d3 (due 1 May, open); d1 is due last year,
    # so taking the open deadlines from those due this year would miss it
    assert got["frister_overskredne"] == 2.0
    # due 1 Jan–14 Jun: d2 (met on 20 Feb) and d3 (open) → 1 of 2
    assert got["frister_overholdt_pct"] == pytest.approx(50.0)


def test_drill_rows_keep_every_column() -> None:
    ex = _extract()
    registry.compute(ex, "frister_overholdt_pct", Scope.unit("K"), AS_OF)
    rows = scoped_year(ex, "deadlines", Scope.unit("K"), 2024)
    assert {"deadline_id", "case_id", "unit_id", "caseworker_id"} <= set(rows.columns)
    assert sorted(rows["deadline_id"].to_list()) == ["d2", "d3", "d4"]  # due in 2024


def _notifications() -> Extract:
    ex = make_extract(
        AS_OF,
        cases={
            "case_id": ["c1"],
            "child_id": ["x1"],
            "unit_id": ["A"],
            "caseworker_id": [None],
            "birth_year": [2012],
            "opened_on": [date(2023, 1, 1)],
            "closed_on": [None],
        },
        notifications={
            "notification_id": ["n1", "n2", "n3", "n4"],
            "child_id": ["x1", "x2", "x3", "x4"],
            "case_id": ["c1", None, None, None],
            "unit_id": ["A", "A", "B", "A"],
            "source": ["skole"] * 4,
            "received_at": [
                datetime(2024, 3, 1, 10),
                datetime(2024, 4, 1, 10),
                datetime(2024, 5, 1, 10),
                datetime(2023, 12, 1, 10),
            ],
            # n1 assessed after 10 hours, n2 after 48, n3 not at all; n4 is last year's
            "assessed_at": [
                datetime(2024, 3, 1, 20),
                datetime(2024, 4, 3, 10),
                None,
                datetime(2023, 12, 1, 11),
            ],
        },
    )
    assert ex.rejected_total == 0, ex.report
    return ex


@pytest.mark.parametrize("whole_first", [True, False])
@pytest.mark.parametrize(("unit", "count", "on_time_pct"), [("K", 3.0, 100 / 3), ("A", 2.0, 50.0)])
def test_notification_kpis_whatever_frame_is_built_first(
    whole_first: bool, unit: str, count: float, on_time_pct: float
) -> None:
    ex = _notifications()
    if whole_first:  # the year's notifications with every column, as the drill-down builds them
        scoped_year(ex, "notifications", Scope.unit("K"), 2024)
    scope = Scope.unit(unit)
    # K: n1, n2, n3 received this year, only n1 assessed within 24 hours (n3's 24 hours ran out
    # on 2 May) → 1 of 3; A: n1 and n2 → 1 of 2
    assert registry.compute(ex, "underretninger_antal", scope, AS_OF).value == count
    assert registry.compute(ex, "underretninger_24t_pct", scope, AS_OF).value == pytest.approx(on_time_pct)
    rows = scoped_year(ex, "notifications", Scope.unit("K"), 2024)
    assert {"notification_id", "child_id", "case_id", "source", "caseworker_id"} <= set(rows.columns)
    assert sorted(rows["notification_id"].to_list()) == ["n1", "n2", "n3"]
