"""Capability's signals as computed (two integer arrays, vectorised rule checks) against
kpis.md's rules 1 and 2 written out item by item; and the narrow scoped frames the measures
read, for a caseworker as for a unit."""

from __future__ import annotations

import random
from datetime import date, datetime
from typing import Any

import pytest

from metrics.capability import (
    EQUAL_TOLERANCE,
    RUN_LENGTH,
    Signal,
    Signals,
    capability,
    capability_figures,
    measure_items,
    signal_masks,
)
from metrics.scope import Scope, scoped
from tests.conftest import clean_extract


def rules_item_by_item(values: list[float], mean: float, lower: float, upper: float) -> list[Signal]:
    """kpis.md, Capability, one item at a time: rule 1 above upper (or below lower when lower > 0);
    rule 2 at every item from the 8th on of a run on one side of the mean, an item within
    1e-9 × max(1, |mean|) of the mean breaking the run and starting none."""
    tol = EQUAL_TOLERANCE * max(1.0, abs(mean))
    out: list[Signal] = []
    side, run = 0, 0
    for i, x in enumerate(values, start=1):
        if x > upper or (lower > 0 and x < lower):
            out.append(Signal(i, 1))
        here = 1 if x - mean > tol else -1 if mean - x > tol else 0
        run = 0 if here == 0 else run + 1 if here == side else 1
        side = here
        if run >= RUN_LENGTH:
            out.append(Signal(i, 2))
    return out


def test_both_rules_on_a_hand_made_series() -> None:
    values = [1.0] * 9 + [11.0]
    f = capability_figures(values)
    # mean (9 + 11) / 10 = 2; mR̄ = (8 × 0 + 10) / 9 = 1.111…; upper = 2 + 2.66 × 1.111… = 4.956;
    # lower = max(0, 2 − 2.956) = 0
    assert f.mean == 2.0
    assert f.upper == pytest.approx(2 + 2.66 * 10 / 9)
    assert f.lower == 0.0
    # items 1-9 below the mean: the run reaches 8 at item 8 (and 9); item 10 (11) above upper
    assert f.signals == (Signal(8, 2), Signal(9, 2), Signal(10, 1))
    assert f.signals == rules_item_by_item(values, f.mean, f.lower, f.upper)  # type: ignore[arg-type]


def test_rule_1_below_a_positive_lower_limit_and_a_run_of_10() -> None:
    values = [10.0] * 10 + [5.0, 10.0]
    f = capability_figures(values)
    # mean 115 / 12 = 9.583; mR̄ = (5 + 5) / 11 = 0.909; lower = 9.583 − 2.418 = 7.165 > 0, upper 12.0
    assert f.mean == pytest.approx(115 / 12)
    assert f.lower == pytest.approx(115 / 12 - 2.66 * 10 / 11)
    # items 1-10 above the mean (signals at 8, 9, 10), item 11 (5) below lower, item 12 starts a new run
    assert f.signals == (Signal(8, 2), Signal(9, 2), Signal(10, 2), Signal(11, 1))
    assert f.signals == rules_item_by_item(values, f.mean, f.lower, f.upper)  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", range(40))
def test_the_vectorised_rules_equal_the_item_by_item_rules(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randint(2, 400)
    # few distinct values: long runs, items on the mean and outliers all occur
    levels = [rng.choice([0.0, 1.0, 2.0, 3.0]) for _ in range(rng.randint(1, 4))]
    values = [rng.choice(levels) + (40.0 if rng.random() < 0.02 else 0.0) for _ in range(n)]
    f = capability_figures(values)
    assert f.mean is not None and f.lower is not None and f.upper is not None
    want = rules_item_by_item(values, f.mean, f.lower, f.upper)
    assert f.signals == want
    assert list(f.signals) == want
    rule_1, rule_2 = signal_masks(values, f.mean, f.lower, f.upper)
    assert [i + 1 for i in range(n) if rule_1[i]] == [s.position for s in want if s.rule == 1]
    assert [i + 1 for i in range(n) if rule_2[i]] == [s.position for s in want if s.rule == 2]


def test_signals_read_as_the_tuple_of_signals_they_stand_for() -> None:
    s = capability_figures([1.0] * 9 + [11.0]).signals
    assert len(s) == 3
    assert s[0] == Signal(8, 2) and s[-1] == Signal(10, 1)
    assert s[1:] == (Signal(9, 2), Signal(10, 1))
    assert s == [Signal(8, 2), Signal(9, 2), Signal(10, 1)]
    assert s != (Signal(8, 2), Signal(9, 2))
    assert s == capability_figures([1.0] * 9 + [11.0]).signals
    assert s != capability_figures([1.0] * 8 + [11.0]).signals  # (8, 2), (9, 1)
    assert Signals() == () and len(Signals()) == 0
    assert s.as_json() == [
        {"position": 8, "rule": 2},
        {"position": 9, "rule": 2},
        {"position": 10, "rule": 1},
    ]


# --- the narrow frames: a caseworker's items, whatever frame is built first -----------------------


def _case(cid: str, cw: str | None) -> dict[str, Any]:
    return {
        "case_id": cid,
        "child_id": "b-" + cid,
        "unit_id": "A",
        "caseworker_id": cw,
        "birth_year": 2015,
        "opened_on": date(2023, 1, 1),
        "closed_on": None,
    }


def _note(nid: str, day: int, hours: int, cid: str | None, unit: str = "A") -> dict[str, Any]:
    return {
        "notification_id": nid,
        "child_id": "b-" + nid,
        "case_id": cid,
        "unit_id": unit,
        "source": "skole",
        "received_at": datetime(2024, 3, day, 8),
        "assessed_at": datetime(2024, 3, day, 8 + hours),
    }


def _deadline(did: str, cid: str, days: int) -> dict[str, Any]:
    return {
        "deadline_id": did,
        "case_id": cid,
        "kind": "undersoegelse",
        "started_on": date(2024, 3, 1),
        "due_on": date(2024, 6, 1),
        "done_on": date(2024, 3, 1 + days),
    }


def _extract() -> Any:
    return clean_extract(
        date(2024, 6, 30),
        employees=[
            {
                "employee_id": "E1",
                "name": "E1",
                "email": None,
                "unit_id": "A",
                "role": "raadgiver",
                "fte": 1.0,
                "employed_from": date(2020, 1, 1),
                "employed_to": None,
            }
        ],
        cases=[_case("S1", "E1"), _case("S2", None)],
        # U1 and U3 on E1's case S1 (2 and 5 hours), U2 on S2, U4 without a case, U5 in team B
        notifications=[
            _note("U1", 4, 2, "S1"),
            _note("U2", 5, 3, "S2"),
            _note("U3", 6, 5, "S1"),
            _note("U4", 7, 1, None),
            _note("U5", 8, 4, None, unit="B"),
        ],
        # F1 on S1 (done 1 + 9 = 10 March: 9 days), F2 on S2 (4 days)
        deadlines=[_deadline("F1", "S1", 9), _deadline("F2", "S2", 4)],
    )


@pytest.mark.parametrize("full_first", [False, True])
def test_a_caseworkers_items_are_those_of_their_cases(full_first: bool) -> None:
    ex = _extract()
    as_of = date(2024, 6, 14)
    if full_first:  # the drill-down's full frames built first: the narrow ones are cut from them
        for table in ("notifications", "deadlines"):
            scoped(ex, table, Scope.unit("K"))
    me = Scope.caseworker("E1")
    items = measure_items(ex, "vurdering_timer", me, as_of)
    assert items["item_id"].to_list() == ["U1", "U3"]
    assert items["value"].to_list() == [2.0, 5.0]
    assert measure_items(ex, "undersoegelse_dage", me, as_of)["value"].to_list() == [9.0]
    # a unit scope: team A's notifications, linked or not; the root: all five
    assert measure_items(ex, "vurdering_timer", Scope.unit("A"), as_of)["item_id"].to_list() == [
        "U1",
        "U2",
        "U3",
        "U4",
    ]
    assert capability(ex, "vurdering_timer", Scope.unit("K"), as_of).figures.n == 5
    assert measure_items(ex, "undersoegelse_dage", Scope.unit("B"), as_of).height == 0
