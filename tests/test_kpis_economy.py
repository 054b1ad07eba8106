"""Economy figures and KPIs (kpis.md, section Economy), checked against hand-worked values.

Every expected value below was worked out by hand from kpis.md, not from the code.
The main fixture: extract as_of 2024-06-30, evaluated at as_of 2024-06-14 (M = 6,
so committed covers July–December), root K with teams A and B.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from metrics.economy import economy_table, economy_total, oekonomi_forventet_pct, udgift_pr_sag
from metrics.economy import udgift_pr_sag_aendring_pct as aendring
from metrics.extract import Extract
from metrics.registry import compute
from metrics.scope import Scope
from tests.conftest import clean_extract as extract

AS_OF = date(2024, 6, 14)
ROOT, A, B = Scope.unit("K"), Scope.unit("A"), Scope.unit("B")


def employee(eid: str, unit: str) -> dict[str, Any]:
    return {
        "employee_id": eid,
        "name": eid,
        "email": None,
        "unit_id": unit,
        "role": "raadgiver",
        "fte": 1.0,
        "employed_from": date(2020, 1, 1),
        "employed_to": None,
    }


def case(cid: str, unit: str, cw: str | None) -> dict[str, Any]:
    return {
        "case_id": cid,
        "child_id": "child-" + cid,
        "unit_id": unit,
        "caseworker_id": cw,
        "birth_year": 2012,
        "opened_on": date(2022, 1, 1),
        "closed_on": None,
    }


def kind(kid: str, category: str, account: str) -> dict[str, Any]:
    return {"kind_id": kid, "name": kid, "category": category, "account": account, "legal_basis": None}


def iv(
    iid: str, cid: str, kid: str, decided: date, start: date, end: date | None, monthly: float
) -> dict[str, Any]:
    return {
        "intervention_id": iid,
        "case_id": cid,
        "kind_id": kid,
        "provider": None,
        "decided_on": decided,
        "start_on": start,
        "end_on": end,
        "monthly_cost": monthly,
    }


def pay(pid: str, iid: str, period: date, posted: date, amount: float) -> dict[str, Any]:
    return {
        "payment_id": pid,
        "intervention_id": iid,
        "period": period,
        "posted_on": posted,
        "amount": amount,
    }


def bud(year: int, unit: str, account: str, amount: float) -> dict[str, Any]:
    return {"year": year, "unit_id": unit, "account": account, "amount": amount}


KINDS = [
    kind("pleje", "anbringelse", "5.28.22"),
    kind("fam", "forebyggende", "5.28.21"),
    kind("dogn", "anbringelse", "5.28.23"),
]


@pytest.fixture(scope="module")
def ex() -> Extract:
    return extract(
        date(2024, 6, 30),
        employees=[employee("e1", "A"), employee("e2", "A"), employee("e3", "B")],
        cases=[case("c1", "A", "e1"), case("c2", "A", "e2"), case("c3", "B", "e3"), case("c4", "B", None)],
        intervention_kinds=KINDS,
        interventions=[
            # open-ended, running all year: committed = 30000 × 6 (Jul..Dec, full) = 180000
            iv("i1", "c1", "pleje", date(2023, 12, 1), date(2024, 1, 1), None, 30000.0),
            # ends 15 August: committed = 3100 × (1 + 15/31) = 3100 + 1500 = 4600
            iv("i2", "c1", "fam", date(2024, 5, 1), date(2024, 5, 1), date(2024, 8, 15), 3100.0),
            # decided before as_of, starts after: committed = 120000 × 4 (Sep..Dec) = 480000
            iv("i3", "c2", "dogn", date(2024, 6, 10), date(2024, 9, 1), None, 120000.0),
            # decided after as_of (15 June): not committed at 14 June
            iv("i4", "c3", "fam", date(2024, 6, 15), date(2024, 7, 1), None, 10000.0),
            # ended in March: nothing after M
            iv("i5", "c3", "pleje", date(2023, 1, 1), date(2023, 1, 1), date(2024, 3, 31), 25000.0),
            # 10..20 July = 11 days of 31: committed = 6200 × 11/31 = 2200
            iv("i6", "c4", "fam", date(2024, 1, 10), date(2024, 7, 10), date(2024, 7, 20), 6200.0),
        ],
        payments=[
            pay("p1", "i1", date(2024, 1, 1), date(2024, 1, 5), 30000.0),
            pay("p2", "i1", date(2024, 5, 1), date(2024, 5, 3), 30000.0),
            pay("p3", "i1", date(2024, 6, 1), date(2024, 6, 14), 30000.0),  # posted on as_of: counts
            pay("p4", "i1", date(2023, 12, 1), date(2024, 1, 10), 30000.0),  # last year's month: no
            pay("p5", "i1", date(2024, 6, 1), date(2024, 6, 15), 30000.0),  # posted after as_of: no
            pay("p6", "i2", date(2024, 5, 1), date(2024, 5, 20), 3100.0),
            pay("p7", "i2", date(2024, 5, 1), date(2024, 6, 1), -600.0),  # refund: counts, negative
            pay("p8", "i5", date(2024, 1, 1), date(2024, 1, 31), 25000.0),
            pay("p9", "i5", date(2024, 2, 1), date(2024, 2, 29), 25000.0),
            pay("p10", "i5", date(2024, 3, 1), date(2024, 3, 29), 25000.0),
            pay("p11", "i5", date(2023, 3, 1), date(2023, 3, 29), 25000.0),  # last year: no
        ],
        budgets=[
            bud(2024, "A", "5.28.22", 400000.0),
            bud(2024, "A", "5.28.21", 50000.0),
            bud(2024, "A", "5.28.23", 500000.0),
            bud(2024, "B", "5.28.22", 100000.0),
            bud(2024, "B", "5.28.21", 20000.0),
            bud(2024, "K", "5.28.24", 10000.0),  # the root's own budget, an account nobody spends on
            bud(2023, "A", "5.28.22", 999999.0),  # another year: never counted
        ],
    )


def table(ex: Extract, scope: Scope, by: str, as_of: date = AS_OF) -> dict[Any, dict[str, Any]]:
    rows = economy_table(ex, scope, as_of, by).to_dicts()
    assert all(tuple(r) == ("group", "budget", "actual", "committed", "expected", "deviation") for r in rows)
    return {r["group"]: r for r in rows}


def check(row: Any, budget: float | None, actual: float, committed: float) -> None:
    """expected = actual + committed; deviation = budget − expected (null without budget)."""
    get = row.get if isinstance(row, dict) else lambda k: getattr(row, k)
    assert get("actual") == pytest.approx(actual)
    assert get("committed") == pytest.approx(committed)
    assert get("expected") == pytest.approx(actual + committed)
    if budget is None:
        assert get("budget") is None
        assert get("deviation") is None
    else:
        assert get("budget") == pytest.approx(budget)
        assert get("deviation") == pytest.approx(budget - (actual + committed))


# --- totals -------------------------------------------------------------------------------


def test_total_root(ex: Extract) -> None:
    # actual = p1 30000 + p2 30000 + p3 30000 + p6 3100 + p7 −600 + p8..p10 75000 = 167500
    #   (p4: period 2023; p5: posted 15 June > as_of; p11: period 2023)
    # committed = i1 180000 + i2 4600 + i3 480000 + i4 0 + i5 0 + i6 2200 = 666800
    # budget 2024 = 400000 + 50000 + 500000 + 100000 + 20000 + 10000 = 1080000
    # expected = 834300; deviation = 1080000 − 834300 = 245700
    fig = economy_total(ex, ROOT, AS_OF)
    check(fig, 1080000.0, 167500.0, 666800.0)
    assert fig.deviation == pytest.approx(245700.0)


def test_total_per_team_subtree(ex: Extract) -> None:
    # A: actual = 3 × 30000 + 3100 − 600 = 92500; committed = 180000 + 4600 + 480000 = 664600;
    #    budget = 400000 + 50000 + 500000 = 950000 (the root's own 10000 is not in A's subtree)
    check(economy_total(ex, A, AS_OF), 950000.0, 92500.0, 664600.0)
    # B: actual = 75000; committed = 0 (i4 decided after as_of) + 0 (i5 ended) + 2200 = 2200;
    #    budget = 100000 + 20000 = 120000
    check(economy_total(ex, B, AS_OF), 120000.0, 75000.0, 2200.0)


def test_total_caseworker_scope_has_no_budget(ex: Extract) -> None:
    # e1 has c1: actual = 92500 (all of A's payments are on c1), committed = 180000 + 4600 = 184600
    check(economy_total(ex, Scope.caseworker("e1"), AS_OF), None, 92500.0, 184600.0)
    assert oekonomi_forventet_pct(ex, Scope.caseworker("e1"), AS_OF).value is None


def test_payment_posted_later_counts_once_posted(ex: Extract) -> None:
    # at 15 June p5 (posted 15 June) counts: actual = 167500 + 30000 = 197500.
    # committed at 15 June is the same months (Jul..Dec) plus i4, decided 15 June ≤ as_of:
    # i4 = 10000 × 6 = 60000 → 666800 + 60000 = 726800
    check(economy_total(ex, ROOT, date(2024, 6, 15)), 1080000.0, 197500.0, 726800.0)


def test_committed_zero_in_december() -> None:
    # M = 12: no month after M, so committed is 0 even for an open-ended intervention
    ex = extract(
        date(2024, 12, 31),
        cases=[case("c1", "A", None)],
        intervention_kinds=KINDS,
        interventions=[iv("i1", "c1", "pleje", date(2024, 1, 1), date(2024, 1, 1), None, 30000.0)],
        payments=[pay("p1", "i1", date(2024, 12, 1), date(2024, 12, 2), 30000.0)],
    )
    check(economy_total(ex, ROOT, date(2024, 12, 1)), 0.0, 0.0, 0.0)  # p1 posted 2 December
    check(economy_total(ex, ROOT, date(2024, 12, 31)), 0.0, 30000.0, 0.0)
    # November: committed = 30000 × 1 (December) = 30000
    check(economy_total(ex, ROOT, date(2024, 11, 30)), 0.0, 0.0, 30000.0)


def test_committed_leap_february() -> None:
    # as_of 31 Jan 2024 (M = 1): an intervention 15..29 Feb covers 15/29 of February;
    # monthly 2900 → 2900 × 15/29 = 1500. In 2023 the same days 15..28 Feb are 14/28.
    ex = extract(
        date(2024, 1, 31),
        cases=[case("c1", "A", None)],
        intervention_kinds=KINDS,
        interventions=[
            iv("i1", "c1", "fam", date(2024, 1, 2), date(2024, 2, 15), date(2024, 2, 29), 2900.0),
            iv("i2", "c1", "fam", date(2023, 1, 2), date(2023, 2, 15), date(2023, 2, 28), 2800.0),
        ],
    )
    assert economy_total(ex, ROOT, date(2024, 1, 31)).committed == pytest.approx(1500.0)
    # 2023-01-31: i2 = 2800 × 14/28 = 1400; i1 decided 2024 → 0
    assert economy_total(ex, ROOT, date(2023, 1, 31)).committed == pytest.approx(1400.0)


# --- groupings ----------------------------------------------------------------------------


def test_by_account(ex: Extract) -> None:
    t = table(ex, ROOT, "account")
    assert set(t) == {"5.28.21", "5.28.22", "5.28.23", "5.28.24"}
    # 5.28.22 (pleje): actual = i1 90000 + i5 75000; committed = i1 180000; budget = 400000 + 100000
    check(t["5.28.22"], 500000.0, 165000.0, 180000.0)
    # 5.28.21 (fam): actual = 3100 − 600 = 2500; committed = 4600 + 0 + 2200 = 6800; budget 50000 + 20000
    check(t["5.28.21"], 70000.0, 2500.0, 6800.0)
    # 5.28.23 (dogn): nothing paid yet; committed 480000; budget 500000
    check(t["5.28.23"], 500000.0, 0.0, 480000.0)
    # 5.28.24: only the root's budget
    check(t["5.28.24"], 10000.0, 0.0, 0.0)


def test_by_account_team_scope(ex: Extract) -> None:
    t = table(ex, A, "account")
    check(t["5.28.22"], 400000.0, 90000.0, 180000.0)
    check(t["5.28.21"], 50000.0, 2500.0, 4600.0)
    check(t["5.28.23"], 500000.0, 0.0, 480000.0)
    assert "5.28.24" not in t  # K's own budget is outside A's subtree


def test_by_kind_and_category_have_no_budget(ex: Extract) -> None:
    t = table(ex, ROOT, "kind_id")
    assert set(t) == {"pleje", "fam", "dogn"}
    check(t["pleje"], None, 165000.0, 180000.0)
    check(t["fam"], None, 2500.0, 6800.0)
    check(t["dogn"], None, 0.0, 480000.0)
    c = table(ex, ROOT, "category")
    assert set(c) == {"anbringelse", "forebyggende"}
    # anbringelse = pleje + dogn: actual 165000 + 0, committed 180000 + 480000
    check(c["anbringelse"], None, 165000.0, 660000.0)
    check(c["forebyggende"], None, 2500.0, 6800.0)


def test_by_unit(ex: Extract) -> None:
    t = table(ex, ROOT, "unit")
    check(t["A"], 950000.0, 92500.0, 664600.0)
    check(t["B"], 120000.0, 75000.0, 2200.0)
    check(t["K"], 10000.0, 0.0, 0.0)  # K's own budget row, no cases of its own


def test_by_caseworker_and_case(ex: Extract) -> None:
    t = table(ex, ROOT, "caseworker")
    check(t["e1"], None, 92500.0, 184600.0)  # c1: i1 + i2
    check(t["e2"], None, 0.0, 480000.0)  # c2: i3
    check(t["e3"], None, 75000.0, 0.0)  # c3: i5 paid, i4 decided after as_of
    check(t[None], None, 0.0, 2200.0)  # c4 has no caseworker
    c = table(ex, ROOT, "case")
    assert set(c) == {"c1", "c2", "c3", "c4"}
    check(c["c1"], None, 92500.0, 184600.0)
    check(c["c4"], None, 0.0, 2200.0)


def test_groupings_add_up_to_total(ex: Extract) -> None:
    # a property: every grouping partitions the same actual and committed
    for by in ("account", "kind_id", "category", "unit", "caseworker", "case"):
        rows = economy_table(ex, ROOT, AS_OF, by)
        assert rows["actual"].sum() == pytest.approx(167500.0), by
        assert rows["committed"].sum() == pytest.approx(666800.0), by


# --- KPIs ---------------------------------------------------------------------------------


def test_oekonomi_forventet_pct(ex: Extract) -> None:
    # root: 834300 / 1080000 × 100 = 77.25
    assert oekonomi_forventet_pct(ex, ROOT, AS_OF).value == pytest.approx(77.25)
    # A: 757100 / 950000 × 100 = 79.6947…; B: 77200 / 120000 × 100 = 64.333…
    a = oekonomi_forventet_pct(ex, A, AS_OF).value
    b = oekonomi_forventet_pct(ex, B, AS_OF).value
    assert a == pytest.approx(757100 / 950000 * 100)
    assert b == pytest.approx(77200 / 120000 * 100)


def test_oekonomi_forventet_pct_zero_budget_is_null() -> None:
    ex = extract(
        date(2024, 6, 14),
        cases=[case("c1", "A", None)],
        intervention_kinds=KINDS,
        interventions=[iv("i1", "c1", "pleje", date(2024, 1, 1), date(2024, 1, 1), None, 1000.0)],
    )
    assert oekonomi_forventet_pct(ex, ROOT, AS_OF).value is None


def test_udgift_pr_sag(ex: Extract) -> None:
    # root: 167500 / 2 cases with a counted payment (c1, c3; c2 and c4 have none) = 83750
    assert udgift_pr_sag(ex, ROOT, AS_OF).value == pytest.approx(83750.0)
    assert udgift_pr_sag(ex, A, AS_OF).value == pytest.approx(92500.0)  # 92500 / 1 (c1)
    assert udgift_pr_sag(ex, B, AS_OF).value == pytest.approx(75000.0)  # 75000 / 1 (c3)


def test_udgift_pr_sag_recomputed_not_averaged() -> None:
    # A: cases a1, a2, a3 paid 1000 each → 3000 / 3 = 1000; B: case b1 paid 5000 → 5000.
    # Average of the teams' ratios = 3000; recomputed at K = 8000 / 4 = 2000.
    ivs = [
        iv("i" + c, c, "fam", date(2024, 1, 1), date(2024, 1, 1), None, 0.0) for c in ("a1", "a2", "a3", "b1")
    ]
    pays = [pay("p" + c, "i" + c, date(2024, 1, 1), date(2024, 1, 20), 1000.0) for c in ("a1", "a2", "a3")]
    ex = extract(
        date(2024, 3, 1),
        cases=[case("a1", "A", None), case("a2", "A", None), case("a3", "A", None), case("b1", "B", None)],
        intervention_kinds=KINDS,
        interventions=ivs,
        payments=[*pays, pay("pb1", "ib1", date(2024, 1, 1), date(2024, 1, 20), 5000.0)],
    )
    d = date(2024, 3, 1)
    assert udgift_pr_sag(ex, A, d).value == pytest.approx(1000.0)
    assert udgift_pr_sag(ex, B, d).value == pytest.approx(5000.0)
    assert udgift_pr_sag(ex, ROOT, d).value == pytest.approx(2000.0)


def test_udgift_pr_sag_no_payments_is_null(ex: Extract) -> None:
    # 1 January 2024: nothing posted yet in 2024 (p1 posted 5 January) → 0 cases → null
    assert udgift_pr_sag(ex, ROOT, date(2024, 1, 1)).value is None


def test_udgift_pr_sag_refund_case_counts() -> None:
    # case c2's only payment is a refund (−500): it is a payment counted in actual, so
    # udgift_pr_sag = (4000 − 500) / 2 = 1750
    ex = extract(
        date(2024, 3, 1),
        cases=[case("c1", "A", None), case("c2", "A", None)],
        intervention_kinds=KINDS,
        interventions=[
            iv("i1", "c1", "fam", date(2024, 1, 1), date(2024, 1, 1), None, 4000.0),
            iv("i2", "c2", "fam", date(2023, 1, 1), date(2023, 1, 1), None, 500.0),
        ],
        payments=[
            pay("p1", "i1", date(2024, 1, 1), date(2024, 1, 2), 4000.0),
            pay("p2", "i2", date(2024, 1, 1), date(2024, 2, 2), -500.0),
        ],
    )
    assert udgift_pr_sag(ex, ROOT, date(2024, 3, 1)).value == pytest.approx(1750.0)


@pytest.fixture(scope="module")
def leap() -> Extract:
    """One case; payments of 10000 a month in 2023 and 12000 a month in 2024."""
    return extract(
        date(2024, 2, 29),
        cases=[case("c1", "A", None)],
        intervention_kinds=KINDS,
        interventions=[iv("i1", "c1", "fam", date(2023, 1, 1), date(2023, 1, 1), None, 10000.0)],
        payments=[
            pay("a1", "i1", date(2023, 1, 1), date(2023, 1, 15), 10000.0),
            pay("a2", "i1", date(2023, 2, 1), date(2023, 2, 28), 10000.0),
            pay("a3", "i1", date(2023, 3, 1), date(2023, 3, 1), 10000.0),  # 1 March 2023
            pay("b1", "i1", date(2024, 1, 1), date(2024, 1, 15), 12000.0),
            pay("b2", "i1", date(2024, 2, 1), date(2024, 2, 29), 12000.0),  # posted on 29 Feb
        ],
    )


def test_udgift_pr_sag_aendring_29_february(leap: Extract) -> None:
    # at 2024-02-29: 24000 / 1 = 24000. Compared with 2023-02-28 (not 1 March):
    # 20000 / 1 = 20000 → (24000 / 20000 − 1) × 100 = 20.
    # (Had 29 Feb mapped to 1 March 2023, a3 would count: 30000 → −20.)
    assert aendring(leap, ROOT, date(2024, 2, 29)).value == pytest.approx(20.0)
    # at 2024-02-28: b2 not posted yet → 12000; 2023-02-28 → 20000 → (12000/20000 − 1) × 100 = −40
    assert aendring(leap, ROOT, date(2024, 2, 28)).value == pytest.approx(-40.0)


def test_udgift_pr_sag_aendring_no_last_year_is_null(leap: Extract) -> None:
    # 2023-02-28 vs 2022-02-28: nothing paid in 2022 → denominator null → null
    assert aendring(leap, ROOT, date(2023, 2, 28)).value is None
    # and through the registry the same
    assert compute(leap, "udgift_pr_sag_aendring_pct", ROOT, date(2023, 2, 28)).value is None


def test_empty_scope_sums_zero_ratios_null() -> None:
    # a scope with no rows at all: sums are 0, ratios null
    empty = extract(date(2024, 6, 14))
    fig = economy_total(empty, ROOT, AS_OF)
    check(fig, 0.0, 0.0, 0.0)
    assert oekonomi_forventet_pct(empty, ROOT, AS_OF).value is None
    assert udgift_pr_sag(empty, ROOT, AS_OF).value is None
    assert aendring(empty, ROOT, AS_OF).value is None
