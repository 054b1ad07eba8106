"""committed with months paid in advance (kpis.md 1.1, section Economy), hand-worked values.

committed = Σ over interventions decided by as_of and months m = M+1 … 12 of
max(0, monthly_cost × f(m) − prepaid(m)), prepaid(m) = max(0, Σ amount with period = month m
and posted_on ≤ as_of). The extract's own as_of is 31 Jul 2024; figures are taken at
as_of 14 Jun 2024 (M = 6: committed covers July–December), root K with teams A and B.
Every intervention runs all year at full months unless said otherwise, and each has one
ordinary June payment posted 3 June.

    i1 c1 (A, ea) pleje 5.28.22 30.000/month  July paid on 10 May (the spec's own example):
                                              full prepayment → July adds 0
    i2 c1 (A, ea) fam   5.28.21 20.000/month  August 12.000 paid ahead (partial) → adds 8.000;
                                              September 25.000 paid ahead (over-payment) → 0,
                                              never −5.000
    i3 c2 (A, ea) pleje 5.28.22 10.000/month  July posted 25 June (after as_of): unknown, July
                                              adds 10.000; January 2025 paid 10 June: next
                                              year's, neither actual nor prepaid this year
    i4 c3 (B, eb) fam   5.28.21  5.000/month  ends 30 Sep; August refund −2.000 booked 12 June:
                                              prepaid(Aug) = max(0, −2.000) = 0 → adds 5.000;
                                              September 5.000 paid ahead and −2.000 refunded:
                                              prepaid(Sep) = 3.000 → adds 2.000

actual (posted ≤ 14 Jun, period in 2024):
    i1 30.000 + 30.000 (July)                 =  60.000
    i2 20.000 + 12.000 + 25.000               =  57.000
    i3 10.000 (July posted later, Jan 2025 not this year) = 10.000
    i4  5.000 − 2.000 + 5.000 − 2.000         =   6.000      total 133.000
committed per month (i1 + i2 + i3 + i4):
    Jul      0 + 20.000 + 10.000 + 5.000 =  35.000
    Aug 30.000 +  8.000 + 10.000 + 5.000 =  53.000
    Sep 30.000 +      0 + 10.000 + 2.000 =  42.000
    Oct–Dec 30.000 + 20.000 + 10.000 + 0 =  60.000 each
    per intervention: i1 150.000, i2 88.000, i3 60.000, i4 12.000   total 310.000
    (the version 1 rule gave 180.000 + 120.000 + 60.000 + 15.000 = 375.000)
expected 133.000 + 310.000 = 443.000; budget 200.000 + 150.000 + 40.000 = 390.000;
deviation 390.000 − 443.000 = −53.000
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from metrics import reports
from metrics.access import Viewer
from metrics.casework import case_detail, caseworker_cases
from metrics.economy import economy_table, economy_total, oekonomi_forventet_pct
from metrics.extract import Extract
from metrics.scope import Scope
from tests.conftest import clean_extract
from tests.test_kpis_economy import KINDS, bud, case, employee, iv, pay

AS_OF = date(2024, 6, 14)
K, A, B = Scope.unit("K"), Scope.unit("A"), Scope.unit("B")
SYSTEM = Viewer.system()
JAN = date(2024, 1, 1)


@pytest.fixture(scope="module")
def ex() -> Extract:
    june = [
        pay(f"jun_{i}", i, date(2024, 6, 1), date(2024, 6, 3), a)
        for i, a in (("i1", 30000.0), ("i2", 20000.0), ("i3", 10000.0), ("i4", 5000.0))
    ]
    return clean_extract(
        date(2024, 7, 31),
        employees=[employee("ea", "A"), employee("eb", "B")],
        cases=[case("c1", "A", "ea"), case("c2", "A", "ea"), case("c3", "B", "eb")],
        intervention_kinds=KINDS,
        interventions=[
            iv("i1", "c1", "pleje", JAN, JAN, None, 30000.0),
            iv("i2", "c1", "fam", JAN, JAN, None, 20000.0),
            iv("i3", "c2", "pleje", JAN, JAN, None, 10000.0),
            iv("i4", "c3", "fam", JAN, JAN, date(2024, 9, 30), 5000.0),
        ],
        payments=[
            *june,
            pay("full", "i1", date(2024, 7, 1), date(2024, 5, 10), 30000.0),
            pay("partial", "i2", date(2024, 8, 1), date(2024, 6, 3), 12000.0),
            pay("over", "i2", date(2024, 9, 1), date(2024, 6, 5), 25000.0),
            pay("later", "i3", date(2024, 7, 1), date(2024, 6, 25), 10000.0),
            pay("next_jan", "i3", date(2025, 1, 1), date(2024, 6, 10), 10000.0),
            pay("refund_ahead", "i4", date(2024, 8, 1), date(2024, 6, 12), -2000.0),
            pay("sep", "i4", date(2024, 9, 1), date(2024, 6, 11), 5000.0),
            pay("sep_refund", "i4", date(2024, 9, 1), date(2024, 6, 13), -2000.0),
        ],
        budgets=[
            bud(2024, "A", "5.28.22", 200000.0),
            bud(2024, "A", "5.28.21", 150000.0),
            bud(2024, "B", "5.28.21", 40000.0),
        ],
    )


def rows(table: Any) -> dict[str, dict[str, Any]]:
    return {r["group"]: r for r in table.iter_rows(named=True)}


def figures(r: dict[str, Any]) -> tuple[float, float, float]:
    return (r["actual"], r["committed"], r["expected"])


def test_total(ex: Extract) -> None:
    fig = economy_total(ex, K, AS_OF)
    assert (fig.actual, fig.committed, fig.expected) == pytest.approx((133000, 310000, 443000))
    assert (fig.budget, fig.deviation) == pytest.approx((390000, -53000))
    assert oekonomi_forventet_pct(ex, K, AS_OF).value == pytest.approx(443000 / 390000 * 100)


def test_by_intervention_case(ex: Extract) -> None:
    t = rows(economy_table(ex, K, AS_OF, "case"))
    # c1 = i1 + i2: actual 60.000 + 57.000, committed 150.000 + 88.000
    assert figures(t["c1"]) == pytest.approx((117000, 238000, 355000))
    # c2 = i3: the July payment posted after as_of neither counts nor reduces July
    assert figures(t["c2"]) == pytest.approx((10000, 60000, 70000))
    # c3 = i4: Aug refund ahead never raises committed; Sep 5.000 − 3.000 net prepaid = 2.000
    assert figures(t["c3"]) == pytest.approx((6000, 12000, 18000))
    assert t["c1"]["budget"] is None


def test_by_account_and_kind(ex: Extract) -> None:
    acc = rows(economy_table(ex, K, AS_OF, "account"))
    # 5.28.22 = i1 + i3: actual 70.000, committed 150.000 + 60.000 = 210.000; budget 200.000
    assert figures(acc["5.28.22"]) == pytest.approx((70000, 210000, 280000))
    assert acc["5.28.22"]["deviation"] == pytest.approx(-80000)
    # 5.28.21 = i2 + i4: actual 63.000, committed 88.000 + 12.000 = 100.000; budget 190.000
    assert figures(acc["5.28.21"]) == pytest.approx((63000, 100000, 163000))
    assert acc["5.28.21"]["deviation"] == pytest.approx(27000)
    kinds = rows(economy_table(ex, K, AS_OF, "kind_id"))  # one kind per account here: the same
    assert figures(kinds["pleje"]) == pytest.approx((70000, 210000, 280000))
    assert figures(kinds["fam"]) == pytest.approx((63000, 100000, 163000))
    cats = rows(economy_table(ex, K, AS_OF, "category"))
    assert figures(cats["anbringelse"]) == pytest.approx((70000, 210000, 280000))


def test_by_unit_and_caseworker(ex: Extract) -> None:
    units = rows(economy_table(ex, K, AS_OF, "child_unit"))
    # A = c1 + c2: 127.000 / 298.000 / 425.000 against 350.000; B = c3 against 40.000
    assert figures(units["A"]) == pytest.approx((127000, 298000, 425000))
    assert units["A"]["deviation"] == pytest.approx(350000 - 425000)
    assert figures(units["B"]) == pytest.approx((6000, 12000, 18000))
    cws = rows(economy_table(ex, K, AS_OF, "caseworker"))
    assert figures(cws["ea"]) == pytest.approx((127000, 298000, 425000))
    assert figures(cws["eb"]) == pytest.approx((6000, 12000, 18000))
    # a team scope sees only its own prepayments
    assert economy_total(ex, B, AS_OF).committed == pytest.approx(12000)
    assert economy_total(ex, Scope.caseworker("ea"), AS_OF).committed == pytest.approx(298000)


def test_monthly_path(ex: Extract) -> None:
    m = reports.economy_monthly(ex, K, AS_OF)
    # committed per month 35.000, 53.000, 42.000, 60.000 × 3 (module docstring), cumulated
    assert m["committed_cum"].to_list() == pytest.approx(
        [0] * 6 + [35000, 88000, 130000, 190000, 250000, 310000]
    )
    # actual by period month: June 65.000; July + 30.000 (i1); Aug + 12.000 − 2.000;
    # Sep + 25.000 + 5.000 − 2.000 = 133.000
    assert m["actual_cum"].to_list() == pytest.approx([0] * 5 + [65000, 95000, 105000] + [133000] * 4)
    assert m["expected_cum"][11] == pytest.approx(443000)


def test_case_pages_and_top_cases(ex: Extract) -> None:
    d = case_detail(ex, SYSTEM, "c1", AS_OF).economy
    assert (d.actual, d.committed, d.expected) == pytest.approx((117000, 238000, 355000))
    # the case page reads all of the case's payments: January 2025 must still not reduce 2024
    d = case_detail(ex, SYSTEM, "c2", AS_OF).economy
    assert (d.actual, d.committed) == pytest.approx((10000, 60000))
    cw = {r["case_id"]: r for r in caseworker_cases(ex, SYSTEM, "ea", AS_OF).iter_rows(named=True)}
    assert (cw["c1"]["committed"], cw["c2"]["committed"]) == pytest.approx((238000, 60000))
    top = reports.top_cases(ex, SYSTEM, K, AS_OF)
    assert top["case_id"].to_list() == ["c1", "c2", "c3"]
    assert top["expected"].to_list() == pytest.approx([355000, 70000, 18000])


def test_later_as_of_sees_the_late_prepayment(ex: Extract) -> None:
    # at as_of 30 Jun (M = 6 still) i3's July payment of 25 June is known: July adds 0 for i3,
    # and it counts in actual: committed 310.000 − 10.000 = 300.000, actual 143.000
    fig = economy_total(ex, K, date(2024, 6, 30))
    assert (fig.actual, fig.committed) == pytest.approx((143000, 300000))


def test_month_already_covered_by_actual(ex: Extract) -> None:
    # at as_of 15 Jul (M = 7) July is in actual only; committed is Aug–Dec:
    # i1 5 × 30.000 = 150.000; i2 8.000 + 0 + 3 × 20.000 = 68.000; i3 5 × 10.000 = 50.000;
    # i4 5.000 + 2.000 = 7.000 → 275.000. Nothing was posted between 30 Jun and 15 Jul, so
    # actual is 143.000 as at 30 Jun.
    fig = economy_total(ex, K, date(2024, 7, 15))
    assert (fig.actual, fig.committed) == pytest.approx((143000, 275000))
