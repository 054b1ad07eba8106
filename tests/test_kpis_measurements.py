"""Measurement KPIs (kpis.md, section Measurements), hand-worked values.

Tree: K (kommune) → F (forvaltning) → teams A, B; K → team C.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import pytest

from metrics.contract import polars_schema
from metrics.extract import Extract
from metrics.registry import compute, metric_ids
from metrics.scope import Scope
from tests.conftest import make_extract

BT = "brugertilfredshed"

ORG = {
    "unit_id": ["K", "F", "A", "B", "C"],
    "parent_id": [None, "K", "F", "F", "K"],
    "name": ["Kommune", "Forvaltning", "Team A", "Team B", "Team C"],
    "level": ["kommune", "forvaltning", "team", "team", "team"],
}


def m(kpi: str, unit: str, end: date, value: float, respondents: int | None) -> dict[str, Any]:
    return {"kpi_id": kpi, "unit_id": unit, "period_end": end, "value": value, "respondents": respondents}


@pytest.fixture(scope="module")
def ex() -> Extract:
    rows = [
        m(BT, "A", date(2023, 12, 31), 3.0, 10),
        m(BT, "A", date(2024, 6, 30), 4.0, 30),
        m(BT, "B", date(2024, 6, 30), 2.0, 10),
        m(BT, "B", date(2025, 6, 30), 4.9, 100),  # after every as_of used below
        m(BT, "C", date(2024, 3, 31), 5.0, None),  # null weight counts as 1
        m(BT, "K", date(2024, 9, 30), 1.5, 200),  # the root's own value, from 30 Sep 2024
        m("medarbejdertilfredshed", "A", date(2024, 6, 30), 1.0, 1000),  # another KPI: never mixed
    ]
    ex = make_extract(
        as_of=date(2025, 12, 31),
        org_units=pl.DataFrame(ORG),
        measurements=pl.DataFrame(rows, schema=polars_schema("measurements"), orient="row"),
    )
    assert ex.rejected_total == 0, ex.report
    return ex


def v(ex: Extract, unit: str, as_of: date, kpi: str = BT) -> float | None:
    return compute(ex, kpi, Scope.unit(unit), as_of).value


def test_own_value_is_the_latest(ex: Extract) -> None:
    assert v(ex, "A", date(2024, 12, 31)) == 4.0  # 30 Jun 2024 beats 31 Dec 2023
    assert v(ex, "A", date(2024, 6, 29)) == 3.0  # 30 Jun 2024 not yet measured
    assert v(ex, "C", date(2024, 12, 31)) == 5.0
    assert v(ex, "K", date(2024, 12, 31)) == 1.5  # K has its own value: no roll-up


def test_roll_up_weighted_by_respondents(ex: Extract) -> None:
    # F has none of its own: A 4.0 × 30 + B 2.0 × 10 = 140 over 40 respondents = 3.5
    # (the unweighted mean would be 3.0)
    assert v(ex, "F", date(2024, 12, 31)) == pytest.approx(3.5)
    # K at 29 Sep 2024 (its own value is from 30 Sep): every unit of the subtree with a value —
    # A 4.0 × 30 + B 2.0 × 10 + C 5.0 × 1 (null weight) = 145 over 41 = 3.5365…
    # (averaging F's 3.5 and C's 5.0 would give 4.25)
    assert v(ex, "K", date(2024, 9, 29)) == pytest.approx(145 / 41)


def test_roll_up_before_some_units_measured(ex: Extract) -> None:
    # 29 Jun 2024: A's latest is 3.0 (10 respondents), B has none yet, C 5.0 (weight 1)
    # K = (30 + 5) / 11 = 3.1818…; F = A's 3.0 alone
    assert v(ex, "K", date(2024, 6, 29)) == pytest.approx(35 / 11)
    assert v(ex, "F", date(2024, 6, 29)) == pytest.approx(3.0)


def test_no_value_is_null(ex: Extract) -> None:
    assert v(ex, "B", date(2024, 6, 29)) is None  # B's first measurement ends 30 Jun
    assert v(ex, "F", date(2023, 12, 30)) is None  # nothing in F's subtree yet
    assert v(ex, "C", date(2024, 12, 31), "medarbejdertilfredshed") is None


def test_other_kpi_not_mixed(ex: Extract) -> None:
    # medarbejdertilfredshed: only A has one → K rolls up to A's 1.0
    assert v(ex, "K", date(2024, 12, 31), "medarbejdertilfredshed") == 1.0
    assert v(ex, "F", date(2024, 12, 31)) == pytest.approx(3.5)  # unaffected by A's 1.0 × 1000


def test_measurement_ids_found_in_extract(ex: Extract) -> None:
    ids = metric_ids(ex)
    assert BT in ids and "medarbejdertilfredshed" in ids


def test_measurement_kpi_not_in_registry_list() -> None:
    # a measurement KPI that kpis.md does not name is still found and computed
    rows = [
        m("ventetid_dage", "A", date(2024, 1, 31), 12.0, None),
        m("ventetid_dage", "B", date(2024, 1, 31), 20.0, 3),
    ]
    ex = make_extract(
        as_of=date(2024, 2, 1),
        measurements=pl.DataFrame(rows, schema=polars_schema("measurements"), orient="row"),
    )
    assert "ventetid_dage" in metric_ids(ex)
    # K: (12 × 1 + 20 × 3) / 4 = 18
    assert compute(ex, "ventetid_dage", Scope.unit("K"), date(2024, 2, 1)).value == pytest.approx(18.0)


def test_own_value_with_zero_respondents() -> None:
    # kpis.md: "if u has measurements … the value is u's latest one" — the weight only matters
    # for the roll-up. A's own 4.0 with 0 respondents is A's value.
    rows = [m(BT, "A", date(2024, 3, 31), 4.0, 0), m(BT, "B", date(2024, 3, 31), 2.0, 2)]
    ex = make_extract(
        as_of=date(2024, 6, 30),
        measurements=pl.DataFrame(rows, schema=polars_schema("measurements"), orient="row"),
    )
    assert v(ex, "A", date(2024, 6, 30)) == 4.0
    # the roll-up weights A by 0: K = (4.0 × 0 + 2.0 × 2) / 2 = 2.0
    assert v(ex, "K", date(2024, 6, 30)) == pytest.approx(2.0)


# --- kpis.md 1.1: a unit's own value stops the roll-up below it -------------------------------
#
# R (kommune) ─ F (forvaltning) ─ D1 (afdeling) ─ T1 (team)
#             │                 └ D2 (afdeling) ─ T2
#             ├ D3 (afdeling) ─ T3
#             ├ D4 (afdeling) ─ T5, T6
#             └ D5 (afdeling) ─ T7, T8

TREE = [
    ("R", None, "kommune"),
    ("F", "R", "forvaltning"),
    ("D1", "F", "afdeling"),
    ("D2", "F", "afdeling"),
    ("D3", "R", "afdeling"),
    ("D4", "R", "afdeling"),
    ("D5", "R", "afdeling"),
    ("T1", "D1", "team"),
    ("T2", "D2", "team"),
    ("T3", "D3", "team"),
    ("T5", "D4", "team"),
    ("T6", "D4", "team"),
    ("T7", "D5", "team"),
    ("T8", "D5", "team"),
]
MAR, JUN = date(2024, 3, 31), date(2024, 6, 30)


@pytest.fixture(scope="module")
def deep() -> Extract:
    rows = [
        m(BT, "D1", JUN, 4.0, 20),  # the spec's department at 4.0 from 20 …
        m(BT, "T1", MAR, 3.5, 6),  # … with a team under it at 3.5 from 6
        m(BT, "T2", MAR, 4.5, 5),  # the department beside it has none; its team 4.5 from 5
        m(BT, "D3", MAR, 1.0, 100),  # D3's older row: not its latest at 31 Dec
        m(BT, "D3", JUN, 3.0, 10),  # two rows on D3's latest date, weighted together
        m(BT, "D3", JUN, 5.0, 30),
        m(BT, "T3", JUN, 2.0, 50),  # below a unit with its own value: never counted above D3
        m(BT, "T5", MAR, 2.0, 0),  # weight 0: contributes nothing
        m(BT, "T6", MAR, 3.0, None),  # null weight counts as 1
        m(BT, "T7", MAR, 1.0, 0),  # two rows, weights summing to 0: T7 is null
        m(BT, "T7", MAR, 2.0, 0),
        m(BT, "T8", MAR, 1.0, 0),  # T8's own value 1.0, with weight 0
    ]
    ex = make_extract(
        as_of=date(2024, 12, 31),
        org_units=pl.DataFrame(
            {
                "unit_id": [u for u, _, _ in TREE],
                "parent_id": [p for _, p, _ in TREE],
                "name": [u for u, _, _ in TREE],
                "level": [lv for _, _, lv in TREE],
            }
        ),
        measurements=pl.DataFrame(rows, schema=polars_schema("measurements"), orient="row"),
    )
    assert ex.rejected_total == 0, ex.report
    return ex


DEC = date(2024, 12, 31)


def test_spec_example_own_value_in_the_middle(deep: Extract) -> None:
    # kpis.md: F = (4.0 × 20 + 4.5 × 5) ÷ 25 = 102,5 ÷ 25 = 4,1; T1's 3.5 is not counted
    # (version 1 gave (80 + 3.5 × 6 + 22.5) ÷ 31 = 3,98…)
    f = compute(deep, BT, Scope.unit("F"), DEC)
    assert f.value == pytest.approx(4.1)
    assert f.basis == 2  # D1's row and T2's row
    assert v(deep, "D1", DEC) == 4.0
    assert v(deep, "D2", DEC) == pytest.approx(4.5)  # from its team
    assert v(deep, "T1", DEC) == 3.5


def test_same_date_rows_zero_and_null_weights(deep: Extract) -> None:
    # D3: its two rows of 30 Jun, (3.0 × 10 + 5.0 × 30) ÷ 40 = 180 ÷ 40 = 4,5 (not T3's 2.0,
    # not the older 1.0)
    assert v(deep, "D3", DEC) == pytest.approx(4.5)
    # D4: T5 weighs 0, T6 weighs 1 (null): (2.0 × 0 + 3.0 × 1) ÷ 1 = 3,0
    assert v(deep, "D4", DEC) == pytest.approx(3.0)
    # T7: two rows whose weights sum to 0 → null; T8 keeps its own 1.0
    assert v(deep, "T7", DEC) is None
    assert v(deep, "T8", DEC) == 1.0
    # D5: T7 has no value and T8 weighs 0 → weights sum to 0 → null
    assert v(deep, "D5", DEC) is None


def test_three_levels_up_to_the_root(deep: Extract) -> None:
    # R: F 4.1 × 25 + D3 4.5 × 40 + D4 3.0 × 1 (+ D5 nothing) = 102,5 + 180 + 3 = 285,5 over 66
    assert v(deep, "R", DEC) == pytest.approx(285.5 / 66)


def test_middle_value_not_yet_measured(deep: Extract) -> None:
    # at 1 May D1's own value (30 Jun) is unknown, so D1 = T1's 3.5 from 6, and
    # F = (3.5 × 6 + 4.5 × 5) ÷ 11 = 43,5 ÷ 11; D3 = its 31 Mar row, 1.0 from 100
    may = date(2024, 5, 1)
    assert v(deep, "D1", may) == pytest.approx(3.5)
    assert v(deep, "F", may) == pytest.approx(43.5 / 11)
    assert v(deep, "D3", may) == pytest.approx(1.0)
    # R = 43,5 + 1.0 × 100 + 3.0 × 1 over 11 + 100 + 1 = 146,5 ÷ 112
    assert v(deep, "R", may) == pytest.approx(146.5 / 112)
