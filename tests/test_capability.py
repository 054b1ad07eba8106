"""Capability (kpis.md 1.1, section Capability): figures and signals on tiny series
worked out by hand, and each measure's items on tiny extracts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from metrics.capability import (
    CapabilityFigures,
    Signal,
    UnknownMeasure,
    capability,
    capability_figures,
    measure_items,
    quantile,
    signals,
)
from metrics.scope import Scope
from tests.conftest import clean_extract

ROOT, A = Scope.unit("K"), Scope.unit("A")
ts = datetime


# --- figures on tiny series -------------------------------------------------------------


def test_n_0_and_1_give_only_n() -> None:
    assert capability_figures([]) == CapabilityFigures(0)
    one = capability_figures([5.0])
    assert one.n == 1
    assert (one.mean, one.mr_bar, one.lower, one.upper, one.p05, one.p95) == (None,) * 6
    assert one.signals == ()


def test_n_2_and_the_lower_limit_floored_at_0() -> None:
    f = capability_figures([2.0, 6.0])
    # mean (2 + 6) / 2 = 4; mR̄ = |6 − 2| / 1 = 4
    assert f.mean == 4.0 and f.mr_bar == 4.0
    # lower: 4 − 2.66 × 4 = −6.64 → floored at 0; upper 4 + 10.64 = 14.64
    assert f.lower == 0.0
    assert f.upper == pytest.approx(14.64)
    # p05 at position (2 − 1) × 0.05 = 0.05: 2 + 0.05 × (6 − 2) = 2.2; p95 at 0.95: 2 + 3.8 = 5.8
    assert f.p05 == pytest.approx(2.2) and f.p95 == pytest.approx(5.8)
    assert f.signals == ()


def test_quantiles_interpolate_over_the_sorted_values() -> None:
    f = capability_figures([10.0, 0.0, 30.0, 20.0, 40.0])
    # sorted 0, 10, 20, 30, 40; p05 at 4 × 0.05 = 0.2 → 0 + 0.2 × 10 = 2; p95 at 3.8 → 30 + 0.8 × 10 = 38
    assert f.p05 == pytest.approx(2.0) and f.p95 == pytest.approx(38.0)
    assert quantile([7.0], 0.95) == 7.0


def test_run_of_exactly_7_is_no_signal() -> None:
    values = [1.0, 3.0, 1.0, 3.0, 1.0, 3.0, 1.0, 9.0, 7.0, 9.0, 7.0, 9.0, 7.0, 9.0]
    f = capability_figures(values)
    # mean (4×1 + 3×3 + 4×9 + 3×7) / 14 = 70 / 14 = 5; 7 below, then 7 above
    assert f.mean == 5.0
    # mR̄ = (6×2 + |9 − 1| + 6×2) / 13 = 32 / 13; upper 5 + 2.66 × 32/13 ≈ 11.55 > 9; lower floored at 0
    assert f.mr_bar == pytest.approx(32 / 13)
    assert f.lower == 0.0 and f.upper == pytest.approx(5 + 2.66 * 32 / 13)
    assert f.signals == ()


def test_run_of_8_signals_at_its_eighth_item() -> None:
    values = [1.0, 3.0] * 4 + [7.0, 9.0] * 4
    f = capability_figures(values)
    # mean (4×1 + 4×3 + 4×7 + 4×9) / 16 = 80 / 16 = 5; mR̄ = (7×2 + |7 − 3| + 7×2) / 15 = 32 / 15
    assert f.mean == 5.0 and f.mr_bar == pytest.approx(32 / 15)
    # upper 5 + 2.66 × 32/15 ≈ 10.67 > 9: no rule 1; 8 below (item 8), then 8 above (item 16)
    assert f.signals == (Signal(8, 2), Signal(16, 2))


def test_an_item_equal_to_the_mean_breaks_a_run_and_starts_none() -> None:
    # 7 below, one at the mean, 7 above: no run reaches 8
    assert signals([1.0] * 7 + [5.0] + [9.0] * 7, mean=5.0, lower=0.0, upper=100.0) == ()
    # within 1e-9 × max(1, |5|) = 5e-9 of the mean still counts as equal
    assert signals([1.0] * 7 + [5.0 + 4e-9] + [9.0] * 7, mean=5.0, lower=0.0, upper=100.0) == ()
    # 2e-8 away is above the mean: the 7 above become 8, the 8th (item 15) signals
    assert signals([1.0] * 7 + [5.0 + 2e-8] + [9.0] * 7, mean=5.0, lower=0.0, upper=100.0) == (Signal(15, 2),)
    # the equal item does not start a run: 7 after it below is still no signal
    assert signals([5.0] + [1.0] * 7, mean=5.0, lower=0.0, upper=100.0) == ()


def test_rule_1_below_lower_only_when_lower_is_above_0() -> None:
    assert signals([0.0, 5.0], mean=5.0, lower=0.0, upper=100.0) == ()
    assert signals([0.5, 5.0], mean=5.0, lower=1.0, upper=100.0) == (Signal(1, 1),)


def test_both_rules_on_one_item_one_entry_each() -> None:
    values = [2.0] * 12 + [4.0] * 7 + [20.0]
    f = capability_figures(values)
    # mean (12×2 + 7×4 + 20) / 20 = 72 / 20 = 3.6; mR̄ = (|4 − 2| + |20 − 4|) / 19 = 18 / 19
    assert f.mean == pytest.approx(3.6) and f.mr_bar == pytest.approx(18 / 19)
    # limits 3.6 ∓ 2.66 × 18/19 = 3.6 ∓ 2.52: lower 1.08 (> 0, but 2 is above it), upper 6.12
    assert f.lower == pytest.approx(1.08) and f.upper == pytest.approx(6.12)
    # rule 2 on items 8..12 (12 twos below 3.6) and on 20 (items 13..20 above); rule 1 on 20 (> 6.12)
    assert f.signals == (
        Signal(8, 2),
        Signal(9, 2),
        Signal(10, 2),
        Signal(11, 2),
        Signal(12, 2),
        Signal(20, 1),
        Signal(20, 2),
    )


def test_a_constant_series_has_its_value_as_mean_and_limits_and_no_signal() -> None:
    # 24 months of the same survey score 3.7: mean 24 × 3.7 ÷ 24 = 3.7, mR̄ 0, so lower =
    # upper = 3.7 and no item lies above or below them (nor off the mean for rule 2). Summing
    # 3.7 twenty-four times and dividing gave 3.7000000000000006, which put every item
    # "below lower" (rule 1).
    for value, n in ((3.7, 24), (62.3, 24), (0.1, 3)):
        f = capability_figures([value] * n)
        assert (f.mean, f.mr_bar, f.lower, f.upper) == (value, 0.0, value, value)
        assert f.signals == ()


# --- the items of each measure on tiny extracts -------------------------------------------


def note(nid: str, received: datetime, assessed: datetime | None, case: str | None = None) -> dict[str, Any]:
    return {
        "notification_id": nid,
        "child_id": "b-" + nid,
        "case_id": case,
        "unit_id": "A",
        "source": "skole",
        "received_at": received,
        "assessed_at": assessed,
    }


def case(cid: str) -> dict[str, Any]:
    return {
        "case_id": cid,
        "child_id": "b-" + cid,
        "unit_id": "A",
        "caseworker_id": None,
        "birth_year": 2015,
        "opened_on": date(2023, 1, 1),
        "closed_on": None,
    }


KIND = {
    "kind_id": "fb",
    "name": "Familiebehandling",
    "category": "forebyggende",
    "account": "5.28.21",
    "legal_basis": None,
}


def iv(iid: str, cid: str, decided: date, start: date, end: date | None, cost: float) -> dict[str, Any]:
    return {
        "intervention_id": iid,
        "case_id": cid,
        "kind_id": "fb",
        "provider": None,
        "decided_on": decided,
        "start_on": start,
        "end_on": end,
        "monthly_cost": cost,
    }


def test_vurdering_timer_hours_as_written_and_ties_by_id() -> None:
    ex = clean_extract(
        date(2024, 6, 30),
        notifications=[
            # across the change to summer time (31 March 2024, 02:00): 20:00 to 20:00 is 24 hours
            note("U3", ts(2024, 3, 30, 20), ts(2024, 3, 31, 20)),
            # same received_at as U3, smaller id: comes first
            note("U1", ts(2024, 3, 30, 20), ts(2024, 3, 30, 23, 30)),
            note("U2", ts(2024, 4, 2, 10), ts(2024, 4, 2, 13, 30)),  # 3.5 hours
            note("U4", ts(2024, 4, 3, 10), None),  # not assessed: no item
            note("U5", ts(2024, 6, 14, 10), ts(2024, 6, 15, 0)),  # assessed at T of 14 June: no item then
            note("U6", ts(2023, 6, 14, 23), ts(2023, 6, 15, 1)),  # received 2023-06-14, before the window
        ],
    )
    items = measure_items(ex, "vurdering_timer", ROOT, date(2024, 6, 14))
    # window: 2024-06-14 − 364 days = 2023-06-16 … 2024-06-14
    assert items["item_id"].to_list() == ["U1", "U3", "U2"]
    assert items["value"].to_list() == [3.5, 24.0, 3.5]
    # U5 counts once as_of reaches its assessment day (14 hours)
    later = measure_items(ex, "vurdering_timer", ROOT, date(2024, 6, 15))
    assert later["item_id"].to_list() == ["U1", "U3", "U2", "U5"]
    assert later["value"][-1] == 14.0
    # --from moves the window start: from 2024-04-01 only U2 (and U5 at 15 June)
    assert measure_items(ex, "vurdering_timer", ROOT, date(2024, 6, 14), date(2024, 4, 1))[
        "item_id"
    ].to_list() == ["U2"]


def deadline(did: str, kind: str, started: date, done: date | None) -> dict[str, Any]:
    return {
        "deadline_id": did,
        "case_id": "S1",
        "kind": kind,
        "started_on": started,
        "due_on": date(2024, 12, 1),
        "done_on": done,
    }


def test_undersoegelse_dage_calendar_days_ordered_by_done_on_then_id() -> None:
    ex = clean_extract(
        date(2024, 6, 30),
        cases=[case("S1")],
        deadlines=[
            deadline(
                "F2", "undersoegelse", date(2024, 1, 10), date(2024, 3, 1)
            ),  # 21 + 29 + 1 = 51 days (leap year)
            deadline(
                "F1", "undersoegelse", date(2024, 2, 1), date(2024, 3, 1)
            ),  # 29 days, same done_on, smaller id
            deadline("F3", "undersoegelse", date(2024, 2, 20), date(2024, 2, 25)),  # 5 days, done first
            deadline("F4", "opfoelgning", date(2024, 1, 1), date(2024, 2, 1)),  # other kind
            deadline("F5", "undersoegelse", date(2024, 1, 1), None),  # open
            deadline("F6", "undersoegelse", date(2024, 1, 1), date(2024, 6, 20)),  # done after as_of
        ],
    )
    items = measure_items(ex, "undersoegelse_dage", ROOT, date(2024, 6, 14))
    assert items["item_id"].to_list() == ["F3", "F1", "F2"]
    assert items["value"].to_list() == [5.0, 29.0, 51.0]


def test_underretning_til_indsats_every_notification_and_price_change_rows() -> None:
    ex = clean_extract(
        date(2024, 6, 30),
        cases=[case("S1"), case("S2")],
        intervention_kinds=[KIND],
        interventions=[
            iv("I1", "S1", date(2023, 12, 1), date(2024, 1, 1), date(2024, 2, 29), 10_000.0),  # before both
            # a price change: the old row ends, a new one starts; decided 20 Feb
            iv("I2", "S1", date(2024, 2, 20), date(2024, 3, 1), None, 12_000.0),
            iv("I3", "S1", date(2024, 3, 5), date(2024, 3, 5), None, 1_000.0),  # later, not the first
            iv("I4", "S2", date(2024, 6, 20), date(2024, 7, 1), None, 1_000.0),  # after as_of
        ],
        notifications=[
            note("U1", ts(2024, 2, 1, 9), ts(2024, 2, 1, 12), "S1"),  # 1 Feb → 20 Feb: 19 days
            note("U2", ts(2024, 2, 10, 23), ts(2024, 2, 11, 9), "S1"),  # 10 Feb → 20 Feb: 10 days
            note("U3", ts(2024, 3, 10, 9), ts(2024, 3, 10, 12), "S1"),  # no decision on or after 10 Mar
            note("U4", ts(2024, 5, 1, 9), ts(2024, 5, 1, 12), "S2"),  # decision after as_of
            note("U5", ts(2024, 2, 1, 9), ts(2024, 2, 1, 12)),  # no case
            note("U6", ts(2024, 3, 5, 22), ts(2024, 3, 6, 9), "S1"),  # decided the same day: 0 days
        ],
    )
    items = measure_items(ex, "underretning_til_indsats_dage", ROOT, date(2024, 6, 14))
    assert items["item_id"].to_list() == ["U1", "U2", "U6"]
    assert items["value"].to_list() == [19.0, 10.0, 0.0]
    # as_of 2024-06-20: I4 is known, U4 → 1 May to 20 June = 30 + 20 = 50 days
    later = measure_items(ex, "underretning_til_indsats_dage", ROOT, date(2024, 6, 20))
    assert later.filter(later["item_id"] == "U4")["value"].to_list() == [50.0]


def test_capability_marks_the_signalled_items_and_rejects_unknown_measures() -> None:
    rows = [
        note(f"U{i:02d}", ts(2024, 1, 1 + i, 3), ts(2024, 1, 1 + i, 3 + h))
        for i, h in enumerate([2] * 12 + [4] * 7 + [20])
    ]
    ex = clean_extract(date(2024, 6, 30), notifications=rows)
    result = capability(ex, "vurdering_timer", A, date(2024, 6, 14))
    # the series of test_both_rules_on_one_item_one_entry_each, in hours
    assert result.figures.mean == pytest.approx(3.6)
    assert result.items.filter("rule_1")["position"].to_list() == [20]
    assert result.items.filter("rule_2")["position"].to_list() == [8, 9, 10, 11, 12, 20]
    with pytest.raises(UnknownMeasure):
        capability(ex, "ventetid", A, date(2024, 6, 14))
