"""metrics.compare on two tiny hand-made extracts, two weeks apart.

Org: root K with teams A and B (conftest default; the newer extract adds team C).
Every expected value is worked out by hand in the comments, from kpis.md.

BEFORE, as_of 2024-06-14 (June, so committed = July–December = 6 months):
  cases c1, c2 (team A, opened 2022, no caseworker), plus one case of unknown unit Z (set aside)
  i1 on c1, kind k1 (account 5.28.22), 1.000 kr./month from 2024-01-01, open-ended
  payments for i1: January–May, 1.000 kr. each          → actual 5.000
  budgets 2024, team A: 5.28.22 120.000, 5.28.23 60.000  → budget 180.000
  deadlines on c1: d1 due 06-10 done 06-05 (met), d2 due 06-12 open (overdue)
  no employees, no measurements
NOW, as_of 2024-06-28:
  as BEFORE, without the bad case, plus case c3 (team A, opened 2024-06-20, caseworker E1)
  employee E1 (raadgiver, team A, fte 1, employed from 2024-06-17)
  i2 on c2, kind k2 (account 5.28.23), decided 06-20, 2.000 kr./month from 2024-07-01
  June payment for i1 (1.000, posted 06-20)              → actual 6.000
  d2 done 06-20 (late), d3 due 06-25 done 06-24 (met)
  measurement brugertilfredshed, team A, 4,2 (period end 06-20)
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import polars as pl
import pytest

from metrics.access import AccessDenied, Viewer, viewer_for_employee
from metrics.compare import (
    CompareError,
    biggest_account,
    biggest_kpi_moves,
    compare,
    judge,
    judgement_counts,
)
from metrics.extract import Extract
from tests.conftest import frame, make_extract

BEFORE, NOW = date(2024, 6, 14), date(2024, 6, 28)
SYSTEM = Viewer.system()


def case(cid: str, unit: str, opened: date = date(2022, 1, 1), cw: str | None = None) -> dict[str, Any]:
    return {
        "case_id": cid,
        "child_id": "child-" + cid,
        "unit_id": unit,
        "caseworker_id": cw,
        "birth_year": 2012,
        "opened_on": opened,
        "closed_on": None,
    }


def iv(iid: str, cid: str, kid: str, decided: date, start: date, monthly: float) -> dict[str, Any]:
    return {
        "intervention_id": iid,
        "case_id": cid,
        "kind_id": kid,
        "provider": None,
        "decided_on": decided,
        "start_on": start,
        "end_on": None,
        "monthly_cost": monthly,
    }


def pay(pid: str, month: int, posted: date) -> dict[str, Any]:
    return {
        "payment_id": pid,
        "intervention_id": "i1",
        "period": date(2024, month, 1),
        "posted_on": posted,
        "amount": 1000.0,
    }


def deadline(did: str, due: date, done: date | None) -> dict[str, Any]:
    return {
        "deadline_id": did,
        "case_id": "c1",
        "kind": "handleplan",
        "started_on": date(2024, 1, 1),
        "due_on": due,
        "done_on": done,
    }


KINDS = [
    {"kind_id": "k1", "name": "k1", "category": "anbringelse", "account": "5.28.22", "legal_basis": None},
    {"kind_id": "k2", "name": "k2", "category": "anbringelse", "account": "5.28.23", "legal_basis": None},
]
BUDGETS = [
    {"year": 2024, "unit_id": "A", "account": "5.28.22", "amount": 120_000.0},
    {"year": 2024, "unit_id": "A", "account": "5.28.23", "amount": 60_000.0},
]
JAN_TO_MAY = [pay(f"p{m}", m, date(2024, m, 1)) for m in range(1, 6)]


def before_extract() -> Extract:
    ex = make_extract(
        as_of=BEFORE,
        cases=frame("cases", [case("c1", "A"), case("c2", "A"), case("bad", "Z")]),
        intervention_kinds=frame("intervention_kinds", KINDS),
        interventions=frame(
            "interventions", [iv("i1", "c1", "k1", date(2024, 1, 1), date(2024, 1, 1), 1000.0)]
        ),
        payments=frame("payments", JAN_TO_MAY),
        budgets=frame("budgets", BUDGETS),
        deadlines=frame(
            "deadlines",
            [deadline("d1", date(2024, 6, 10), date(2024, 6, 5)), deadline("d2", date(2024, 6, 12), None)],
        ),
    )
    assert ex.report["cases"].rejected == 1 and ex.rejected_total == 1, ex.report
    return ex


def now_extract(municipality: str | None = None) -> Extract:
    ex = make_extract(
        as_of=NOW,
        org_units=pl.DataFrame(
            {
                "unit_id": ["K", "A", "B", "C"],
                "parent_id": [None, "K", "K", "K"],
                "name": ["Kommune", "Team A", "Team B", "Team C"],
                "level": ["kommune", "team", "team", "team"],
            }
        ),
        employees=frame(
            "employees",
            [
                {
                    "employee_id": "E1",
                    "name": "E1",
                    "email": None,
                    "unit_id": "A",
                    "role": "raadgiver",
                    "fte": 1.0,
                    "employed_from": date(2024, 6, 17),
                    "employed_to": None,
                }
            ],
        ),
        cases=frame("cases", [case("c1", "A"), case("c2", "A"), case("c3", "A", date(2024, 6, 20), "E1")]),
        intervention_kinds=frame("intervention_kinds", KINDS),
        interventions=frame(
            "interventions",
            [
                iv("i1", "c1", "k1", date(2024, 1, 1), date(2024, 1, 1), 1000.0),
                iv("i2", "c2", "k2", date(2024, 6, 20), date(2024, 7, 1), 2000.0),
            ],
        ),
        payments=frame("payments", [*JAN_TO_MAY, pay("p6", 6, date(2024, 6, 20))]),
        budgets=frame("budgets", BUDGETS),
        deadlines=frame(
            "deadlines",
            [
                deadline("d1", date(2024, 6, 10), date(2024, 6, 5)),
                deadline("d2", date(2024, 6, 12), date(2024, 6, 20)),
                deadline("d3", date(2024, 6, 25), date(2024, 6, 24)),
            ],
        ),
        measurements=frame(
            "measurements",
            [
                {
                    "kpi_id": "brugertilfredshed",
                    "unit_id": "A",
                    "period_end": date(2024, 6, 20),
                    "value": 4.2,
                    "respondents": 10,
                }
            ],
        ),
    )
    assert ex.rejected_total == 0, ex.report
    if municipality is not None:
        ex = dataclasses.replace(ex, manifest=dataclasses.replace(ex.manifest, municipality=municipality))
    return ex


@pytest.fixture(scope="module")
def pair() -> tuple[Extract, Extract]:
    return now_extract(), before_extract()


def kpi(c: Any, metric_id: str) -> dict[str, Any]:
    rows = c.kpis.filter(pl.col("metric_id") == metric_id)
    assert rows.height == 1, metric_id
    return rows.row(0, named=True)


def test_percent_kpi_changes_in_points(pair: tuple[Extract, Extract]) -> None:
    c = compare(*pair, "K", SYSTEM)
    row = kpi(c, "oekonomi_forventet_pct")
    # before: expected = actual 5.000 + committed 6 × 1.000 = 11.000; 11.000 / 180.000 × 100 = 6,111 %
    # now: actual 6.000 + committed 6 × 1.000 + 6 × 2.000 = 24.000; 24.000 / 180.000 × 100 = 13,333 %
    assert row["before"] == pytest.approx(11_000 / 180_000 * 100)
    assert row["now"] == pytest.approx(24_000 / 180_000 * 100)
    # change in percentage points, 13,333 − 6,111 = 7,222 (not the relative 118 %); lower is better
    assert row["change"] == pytest.approx(13_000 / 180_000 * 100)
    assert (row["improved"], row["judgement"]) == (False, "worsened")


def test_deadline_kpis_improve(pair: tuple[Extract, Extract]) -> None:
    c = compare(*pair, "K", SYSTEM)
    met = kpi(c, "frister_overholdt_pct")
    # before: due in YTD by 06-14: d1 (met), d2 (open) → 1/2 = 50 %
    # now: d1 met, d2 done 06-20 > due 06-12 (not met), d3 done 06-24 ≤ due 06-25 → 2/3 = 66,67 %
    assert (met["before"], met["now"]) == pytest.approx((50.0, 200 / 3))
    assert met["change"] == pytest.approx(200 / 3 - 50)  # +16,67 points, higher is better
    assert (met["improved"], met["judgement"]) == (True, "improved")
    overdue = kpi(c, "frister_overskredne")
    # before: d2 due 06-12 < 06-14 and open → 1; now: d2 and d3 done by 06-28 → 0
    assert (overdue["before"], overdue["now"], overdue["change"]) == (1.0, 0.0, -1.0)
    # direction "lower": a fall is an improvement
    assert (overdue["improved"], overdue["judgement"]) == (True, "improved")


def test_no_direction_and_null_values(pair: tuple[Extract, Extract]) -> None:
    c = compare(*pair, "K", SYSTEM)
    active = kpi(c, "aktive_sager")
    # before: c1, c2 (the bad case is set aside) → 2; now: c1, c2, c3 → 3; direction None
    assert (active["before"], active["now"], active["change"]) == (2.0, 3.0, 1.0)
    assert (active["improved"], active["judgement"]) == (None, "no_direction")
    ratio = kpi(c, "sager_pr_raadgiver")
    # before: no caseworkers employed → Σ fte 0 → null; now: c3 with E1 ÷ 1 fte = 1,0
    assert (ratio["before"], ratio["now"]) == (None, 1.0)
    assert (ratio["change"], ratio["improved"], ratio["judgement"]) == (None, None, "no_data")
    survey = kpi(c, "brugertilfredshed")
    # a measurement KPI found only in the newer extract is still listed: null before, 4,2 now
    assert (survey["before"], survey["now"], survey["change"], survey["judgement"]) == (
        None,
        4.2,
        None,
        "no_data",
    )


def test_unchanged_is_no_judgement(pair: tuple[Extract, Extract]) -> None:
    c = compare(*pair, "K", SYSTEM)
    cost = kpi(c, "udgift_pr_sag")
    # before: 5.000 over 1 case (c1); now: 6.000 over 1 case → 5.000 → 6.000, +1.000, lower is better
    assert (cost["before"], cost["now"], cost["change"], cost["judgement"]) == (
        5000.0,
        6000.0,
        1000.0,
        "worsened",
    )
    notes = kpi(c, "underretninger_antal")
    # no notifications in either: 0 → 0
    assert (notes["change"], notes["improved"], notes["judgement"]) == (0.0, None, "unchanged")


def test_every_registry_kpi_once(pair: tuple[Extract, Extract]) -> None:
    from metrics import registry

    c = compare(*pair, "K", SYSTEM)
    # neither extract has contacts: the demand KPIs are left out (kpis.md, Demand)
    formula = [m for m in registry.FORMULA_IDS if not registry.get(m).needs]
    assert c.kpis["metric_id"].to_list() == [*formula, "brugertilfredshed"]
    counts = judgement_counts(c)
    assert sum(counts.values()) == c.kpis.height


def test_judge_directions() -> None:
    assert judge(-2.0, "lower") == (True, "improved")
    assert judge(2.0, "lower") == (False, "worsened")
    assert judge(2.0, "higher") == (True, "improved")
    assert judge(2.0, None) == (None, "no_direction")
    assert judge(0.0, "higher") == (None, "unchanged")
    assert judge(None, "higher") == (None, "no_data")


def test_economy_per_account(pair: tuple[Extract, Extract]) -> None:
    c = compare(*pair, "K", SYSTEM)
    acc = {r["group"]: r for r in c.accounts.iter_rows(named=True)}
    assert list(acc) == ["5.28.22", "5.28.23"]
    a22, a23 = acc["5.28.22"], acc["5.28.23"]
    # 5.28.22: before 5.000 + 6.000 = 11.000; now 6.000 + 6.000 = 12.000 → +1.000
    assert (a22["expected_before"], a22["expected_now"], a22["expected_change"]) == (11_000, 12_000, 1_000)
    # deviation = budget 120.000 − expected: 109.000 → 108.000 → −1.000
    assert (a22["deviation_before"], a22["deviation_now"], a22["deviation_change"]) == (
        109_000,
        108_000,
        -1_000,
    )
    # 5.28.23: no intervention before (expected 0, budget 60.000); i2 now: 6 × 2.000 = 12.000
    assert (a23["expected_before"], a23["expected_now"], a23["expected_change"]) == (0, 12_000, 12_000)
    assert (a23["deviation_before"], a23["deviation_now"]) == (60_000, 48_000)
    assert a23["label"] == "5.28.23 Døgninstitutioner for børn og unge"
    # totals: expected 11.000 → 24.000 (+13.000); deviation 169.000 → 156.000 (−13.000)
    assert c.expected_change == 13_000 and c.deviation_change == -13_000
    # the accounts add up to the total change
    assert c.accounts["expected_change"].sum() == pytest.approx(c.expected_change)
    top = biggest_account(c)
    assert top is not None and top["group"] == "5.28.23"


def test_team_scope(pair: tuple[Extract, Extract]) -> None:
    c = compare(*pair, "B", SYSTEM)
    # team B has no facts: every economy figure 0 in both, no account rows, no movement
    assert c.accounts.height == 0 and c.expected_change == 0 and biggest_account(c) is None
    assert kpi(c, "aktive_sager")["change"] == 0


def test_data_quality_counts(pair: tuple[Extract, Extract]) -> None:
    c = compare(*pair, "K", SYSTEM)
    q = {r["table"]: r for r in c.quality.iter_rows(named=True)}
    # cases: before 2 accepted + 1 set aside = 3 rows; now 3 accepted → rows 3 → 3, set aside 1 → 0
    assert (q["cases"]["rows_before"], q["cases"]["rows_now"], q["cases"]["rows_change"]) == (3, 3, 0)
    assert (q["cases"]["set_aside_before"], q["cases"]["set_aside_now"], q["cases"]["set_aside_change"]) == (
        1,
        0,
        -1,
    )
    # payments: 5 → 6; deadlines 2 → 3; org_units 3 → 4
    assert q["payments"]["rows_change"] == 1 and q["deadlines"]["rows_change"] == 1
    assert (q["org_units"]["rows_before"], q["org_units"]["rows_now"]) == (3, 4)
    assert c.set_aside_change == -1


def test_biggest_kpi_moves_by_relative_change(pair: tuple[Extract, Extract]) -> None:
    c = compare(*pair, "K", SYSTEM)
    # relative changes: frister_overskredne |−1| / 1 = 1,0; oekonomi_forventet_pct 7,22 / 6,11 = 1,18;
    # aktive_sager 1 / 2 = 0,5; frister_overholdt_pct 16,67 / 50 = 0,33; udgift_pr_sag 1.000 / 5.000 = 0,2
    moves = biggest_kpi_moves(c, 3)["metric_id"].to_list()
    assert moves[:3] == ["oekonomi_forventet_pct", "frister_overskredne", "aktive_sager"]


def test_unit_missing_in_one_extract(pair: tuple[Extract, Extract]) -> None:
    with pytest.raises(CompareError, match="Enheden 'C' findes ikke i udtrækket 2024-06-14"):
        compare(*pair, "C", SYSTEM)


def test_different_municipalities_refused() -> None:
    with pytest.raises(CompareError, match="to forskellige kommuner"):
        compare(now_extract("Andenkommune"), before_extract(), "K", SYSTEM)


def test_earlier_must_be_older(pair: tuple[Extract, Extract]) -> None:
    now, before = pair
    with pytest.raises(CompareError, match="skal være ældre"):
        compare(before, now, "K", SYSTEM)


def test_viewer_sees_only_own_units(pair: tuple[Extract, Extract]) -> None:
    leader_b = Viewer(None, "Leder B", "teamleder", "B")  # no employee id: not looked up again
    assert compare(*pair, "B", leader_b).unit_id == "B"
    with pytest.raises(AccessDenied):
        compare(*pair, "A", leader_b)
    with pytest.raises(AccessDenied):
        compare(*pair, "K", leader_b)


def test_viewer_scope_today_carries_to_the_earlier_extract(pair: tuple[Extract, Extract]) -> None:
    # E1 was hired 2024-06-17, after the earlier extract, as raadgiver in A: access follows who
    # they are today, so team A is theirs in both extracts (matched by unit id), K is not.
    now, _ = pair
    e1 = viewer_for_employee(now, "E1")
    assert e1 is not None
    assert compare(*pair, "A", e1).unit_id == "A"
    with pytest.raises(AccessDenied):
        compare(*pair, "K", e1)


def test_demo_persona_never_reaches_a_real_extract(pair: tuple[Extract, Extract]) -> None:
    # make_extract writes non-synthetic manifests: a "vis som" persona must be refused.
    demo_root = Viewer(None, "Demo", "leder", "K", demo=True)
    with pytest.raises(AccessDenied):
        compare(*pair, "K", demo_root)
    assert compare(*pair, "K", dataclasses.replace(demo_root, demo=False)).unit_id == "K"
