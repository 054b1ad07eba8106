"""metrics.reports on one tiny hand-made extract, values worked out by hand.

as_of 2024-06-14 (a Friday, M = 6); the extract's own as_of is 2024-06-30 so facts
after the reporting date exist in it. Org: K (root) with teams A and B.
2024 weekdays: Jan 23, Feb 21, Mar 21, Apr 22, May 23, Jun 1–14: 10.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from metrics import kpis, registry, reports
from metrics.access import Viewer
from metrics.contract import polars_schema
from metrics.extract import Extract
from metrics.scope import Scope
from tests.conftest import make_extract

AS_OF = date(2024, 6, 14)
K, A, B = Scope.unit("K"), Scope.unit("A"), Scope.unit("B")
SYSTEM = Viewer.system()
ADMIN = Viewer("adm", "adm", "administration", "K")
EA = Viewer("ea", "ea", "raadgiver", "A")
EB = Viewer("eb", "eb", "raadgiver", "B")
LEAD_A = Viewer("ta", "ta", "teamleder", "A")
LEAD_B = Viewer("tb", "tb", "teamleder", "B")


def frame(table: str, rows: list[tuple[Any, ...]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=polars_schema(table), orient="row")


def emp(eid: str, unit: str, fte: float, start: date = date(2020, 1, 1), role: str = "raadgiver") -> tuple:
    return (eid, eid, None, unit, role, fte, start, None)


def pay(pid: str, iv: str, period: date, posted: date, amount: float) -> tuple:
    return (pid, iv, period, posted, amount)


def dt(m: int, d: int, h: int = 0) -> datetime:
    return datetime(2024, m, d, h)


@pytest.fixture(scope="module")
def ex() -> Extract:
    i1 = [pay(f"p1_{m}", "i1", date(2024, m, 1), date(2024, m, 1), 10000.0) for m in range(1, 7)]
    i2 = [pay(f"p2_{m}", "i2", date(2024, m, 1), date(2024, m, 1), 3000.0) for m in (2, 3, 4)]
    i3 = [pay(f"p3_{m}", "i3", date(2024, m, 1), date(2024, m, 1), 6000.0) for m in range(1, 7)]
    extra = [
        pay("refund", "i1", date(2024, 3, 1), date(2024, 4, 10), -2000.0),
        pay("prepaid", "i3", date(2024, 7, 1), date(2024, 6, 10), 6000.0),  # July, posted in June
        pay("late", "i1", date(2024, 7, 1), date(2024, 6, 20), 10000.0),  # posted after as_of
        pay("lastyear", "i1", date(2023, 12, 1), date(2023, 12, 1), 10000.0),
    ]
    out = make_extract(
        as_of=date(2024, 6, 30),
        employees=frame(
            "employees",
            [
                emp("ea", "A", 1.0),
                emp("eb", "B", 0.5),
                emp("lk", "K", 1.0, date(2024, 6, 3), "leder"),
            ],
        ),
        cases=frame(
            "cases",
            [
                ("c1", "ch1", "A", "ea", 2012, date(2023, 1, 1), None),
                ("c2", "ch2", "A", "ea", 2014, date(2024, 2, 1), date(2024, 5, 1)),
                ("c3", "ch3", "B", "eb", 2010, date(2022, 1, 1), None),
            ],
        ),
        intervention_kinds=frame(
            "intervention_kinds",
            [
                ("k1", "Plejefamilie", "anbringelse", "5.28.22", None),
                ("k2", "Familiebehandling", "forebyggende", "5.28.21", None),
            ],
        ),
        interventions=frame(
            "interventions",
            [
                ("i1", "c1", "k1", None, date(2023, 1, 1), date(2023, 1, 1), None, 10000.0),
                ("i2", "c2", "k2", None, date(2024, 2, 1), date(2024, 2, 1), date(2024, 4, 30), 3000.0),
                ("i3", "c3", "k2", None, date(2024, 1, 1), date(2024, 1, 1), date(2024, 9, 15), 6000.0),
                ("i4", "c3", "k1", None, date(2024, 6, 20), date(2024, 7, 1), None, 20000.0),
            ],
        ),
        payments=frame("payments", i1 + i2 + i3 + extra),
        budgets=frame(
            "budgets",
            [
                (2024, "A", "5.28.22", 100000.0),
                (2024, "A", "5.28.21", 20000.0),
                (2024, "B", "5.28.21", 50000.0),
                (2024, "K", "5.28.21", 10000.0),
                (2023, "A", "5.28.22", 999.0),
            ],
        ),
        notifications=frame(
            "notifications",
            [
                ("n1", "ch1", "c1", "A", "skole", dt(1, 10, 8), dt(1, 10, 20)),
                ("n2", "ch9", None, "A", "politi", dt(1, 31, 12), dt(2, 1, 10)),
                ("n3", "ch3", "c3", "B", "skole", dt(3, 5, 9), dt(3, 7, 9)),
                ("n4", "ch3", "c3", "B", "anonym", dt(6, 12, 8), None),
                ("n5", "ch1", "c1", "A", "skole", dt(6, 14, 10), None),
                ("n6", "ch1", "c1", "A", "skole", datetime(2023, 12, 30, 9), None),
                ("n7", "ch1", "c1", "A", "sundhed", dt(6, 20, 9), None),
                ("n8", "ch8", None, "K", "dagtilbud", dt(2, 10, 10), dt(2, 10, 11)),
            ],
        ),
        absences=frame(
            "absences",
            [
                ("ea", "egen_sygdom", date(2023, 12, 10), date(2024, 1, 3)),
                ("ea", "egen_sygdom", date(2024, 1, 8), date(2024, 1, 12)),
                ("ea", "egen_sygdom", date(2024, 1, 10), date(2024, 1, 16)),
                ("ea", "barns_sygdom", date(2024, 2, 5), date(2024, 2, 9)),
                ("ea", "egen_sygdom", date(2024, 4, 1), date(2024, 4, 8)),
                ("ea", "egen_sygdom", date(2024, 4, 9), date(2024, 4, 16)),
                ("eb", "egen_sygdom", date(2024, 3, 1), date(2024, 3, 5)),
                ("eb", "egen_sygdom", date(2024, 5, 27), date(2024, 6, 20)),
                ("lk", "egen_sygdom", date(2024, 6, 3), date(2024, 6, 4)),
            ],
        ),
    )
    assert out.rejected_total == 0, out.report
    return out


# --- economy ----------------------------------------------------------------------------------
# actual (posted ≤ 14 Jun, period in 2024): i1 6×10.000 − 2.000 = 58.000; i2 3×3.000 = 9.000;
#   i3 6×6.000 + 6.000 prepaid July = 42.000 → 109.000 ("late" and "lastyear" don't count)
# committed (Jul–Dec, kpis.md 1.1): i1 6 × 10.000 = 60.000 ("late" was posted after as_of, so
#   July is not prepaid at as_of); i2 ended April: 0; i3 Jul max(0, 6.000 − 6.000 prepaid) = 0
#   + Aug 6.000 + Sep 15/30 × 6.000 = 3.000 → 9.000; i4 decided 20 Jun, after as_of: 0
#   → 69.000; expected 109.000 + 69.000 = 178.000 (version 1 counted i3's July twice: 184.000)
# budget 2024: 100.000 + 20.000 + 50.000 + 10.000 = 180.000; deviation +2.000


def test_headline(ex: Extract) -> None:
    fig, pct = reports.economy_headline(ex, K, AS_OF)
    assert (fig.budget, fig.actual, fig.committed, fig.expected) == pytest.approx(
        (180000, 109000, 69000, 178000)
    )
    assert fig.deviation == pytest.approx(2000)
    assert pct.value == pytest.approx(178000 / 180000 * 100)


def test_economy_by_account_with_labels(ex: Extract) -> None:
    t = reports.economy_by(ex, K, AS_OF, "account")
    rows = {r["group"]: r for r in t.iter_rows(named=True)}
    # 5.28.21: budget 20.000 + 50.000 + 10.000; actual i2 9.000 + i3 42.000; committed i3 9.000
    # (July prepaid); expected 51.000 + 9.000 = 60.000; deviation 80.000 − 60.000 = 20.000
    r = rows["5.28.21"]
    assert r["label"] == "5.28.21 Forebyggende foranstaltninger for børn og unge"
    assert (r["budget"], r["actual"], r["committed"], r["expected"], r["deviation"]) == pytest.approx(
        (80000, 51000, 9000, 60000, 20000)
    )
    assert r["expected_pct"] == pytest.approx(60000 / 80000 * 100)  # 75,0
    r = rows["5.28.22"]
    assert r["label"] == "5.28.22 Plejefamilier"
    assert (r["budget"], r["expected"], r["expected_pct"]) == pytest.approx((100000, 118000, 118.0))


def test_economy_by_kind_has_names_and_no_budget(ex: Extract) -> None:
    t = reports.economy_by(ex, K, AS_OF, "kind_id")
    assert t["label"].to_list() == ["Familiebehandling", "Plejefamilie"]  # sorted by label
    assert t["expected"].to_list() == pytest.approx([60000, 118000])  # as by account
    assert t["budget"].is_null().all() and t["expected_pct"].is_null().all()


def test_economy_by_child_unit_names_the_unit_itself(ex: Extract) -> None:
    t = reports.economy_by(ex, K, AS_OF, "child_unit")
    rows = {r["group"]: r for r in t.iter_rows(named=True)}
    # A: budget 120.000, actual 58.000 + 9.000, committed 60.000; B: 50.000 / 42.000 / 9.000;
    # K itself only holds a budget of 10.000
    assert (rows["A"]["budget"], rows["A"]["expected"]) == pytest.approx((120000, 127000))
    assert (rows["B"]["budget"], rows["B"]["expected"]) == pytest.approx((50000, 51000))
    assert rows["K"]["label"] == "Kommune (direkte)"
    assert (rows["K"]["budget"], rows["K"]["expected"]) == pytest.approx((10000, 0))
    assert sum(t["expected"]) == pytest.approx(178000)


def test_economy_by_rejects_unknown_grouping(ex: Extract) -> None:
    with pytest.raises(ValueError, match="unknown grouping"):
        reports.economy_by(ex, K, AS_OF, "caseworker")


def test_economy_monthly_path(ex: Extract) -> None:
    m = reports.economy_monthly(ex, K, AS_OF)
    assert m.height == 12
    # actual by period month: Jan 10.000 + 6.000; Feb + 3.000; Mar − 2.000 refund; Apr; May
    # without i2; Jun; Jul the prepaid 6.000
    assert m["actual_cum"].to_list() == pytest.approx(
        [16000, 35000, 52000, 71000, 87000, 103000, 109000, 109000, 109000, 109000, 109000, 109000]
    )
    # committed per month: Jul 10.000 + 0 (i3 prepaid), Aug 16.000, Sep 10.000 + 3.000, then
    # 10.000 a month
    assert m["committed_cum"].to_list() == pytest.approx([0] * 6 + [10000, 26000, 39000, 49000, 59000, 69000])
    assert m["expected_cum"][5] == pytest.approx(103000)
    assert m["expected_cum"][11] == pytest.approx(178000)  # December = expected
    assert m["budget_path"].to_list() == pytest.approx([15000 * k for k in range(1, 13)])
    assert m["is_actual"].to_list() == [True] * 6 + [False] * 6


def test_economy_monthly_in_december_has_no_commitments(ex: Extract) -> None:
    # as_of 30 June seen from a team: committed covers Jul–Dec; at month 12 nothing is left
    m = reports.economy_monthly(ex, B, date(2024, 6, 14))
    # B: i3 only; Jul 0 (prepaid), Aug 6.000, Sep 3.000
    assert m["committed_cum"][-1] == pytest.approx(9000)
    assert m["expected_cum"][-1] == pytest.approx(51000)
    assert m["budget"][0] == pytest.approx(50000)


# --- top cases -------------------------------------------------------------------------------


def test_top_cases_ranks_active_cases_by_expected(ex: Extract) -> None:
    t = reports.top_cases(ex, SYSTEM, K, AS_OF)
    # c1: 58.000 + 60.000 = 118.000; c3: 42.000 + 9.000 = 51.000; c2 closed 1 May: not active
    assert t["case_id"].to_list() == ["c1", "c3"]
    assert t["expected"].to_list() == pytest.approx([118000, 51000])
    assert t["caseworker_name"].to_list() == ["ea", "eb"]
    assert t["unit_name"].to_list() == ["Team A", "Team B"]
    assert t["interventions"].to_list() == ["Plejefamilie", "Familiebehandling"]  # i4 decided later
    assert reports.top_cases(ex, SYSTEM, K, AS_OF, n=1)["case_id"].to_list() == ["c1"]


@pytest.mark.parametrize(
    ("viewer", "expected"),
    [(EA, ["c1"]), (EB, ["c3"]), (LEAD_A, ["c1"]), (LEAD_B, ["c3"]), (ADMIN, [])],
)
def test_top_cases_only_rows_the_viewer_may_see(ex: Extract, viewer: Viewer, expected: list[str]) -> None:
    assert reports.top_cases(ex, viewer, K, AS_OF)["case_id"].to_list() == expected


# --- notifications ---------------------------------------------------------------------------
# T = 15 Jun 00:00. n1 Jan 12 h: on time. n2 received 31 Jan 12:00, assessed 1 Feb 10:00: at
# the end of January (T = 1 Feb 00:00) unassessed and only 12 h old → not eligible in January's
# figure, on time from February. n3 48 h: late. n4 12 Jun 08:00, never assessed: 64 h at T,
# late. n5 14 Jun 10:00: 14 h at T, not yet due. n6 2023, n7 after as_of: outside this year's
# figures (but n6, never assessed, is still waiting now). n8 1 h.


def test_notifications_monthly(ex: Extract) -> None:
    m = reports.notifications_monthly(ex, K, AS_OF)
    assert m["month"].to_list() == [date(2024, k, 1) for k in range(1, 7)]
    assert m["as_of"].to_list()[-1] == AS_OF
    assert m["received"].to_list() == [2, 1, 1, 0, 0, 2]  # Jan n1 n2, Feb n8, Mar n3, Jun n4 n5
    assert m["eligible"].to_list() == [1, 1, 1, 0, 0, 1]  # n2 and n5 not yet due at month end
    assert m["on_time"].to_list() == [1, 1, 0, 0, 0, 0]
    assert m["pct_24h"].to_list() == [100.0, 100.0, 0.0, None, None, 0.0]  # no eligible → null
    # year to date at each month end: 1/1, 3/3 (n1 n2 n8), 3/4, 3/4, 3/4, 3/5 (n4 joins)
    assert m["ytd_pct_24h"].to_list() == pytest.approx([100, 100, 75, 75, 75, 60])
    trend = registry.trend(ex, "underretninger_24t_pct", K, AS_OF)
    assert m["ytd_pct_24h"].to_list() == pytest.approx(trend["value"].to_list())


def test_notifications_by_source(ex: Extract) -> None:
    s = reports.notifications_by_source(ex, K, AS_OF)
    # 6 received this year: skole n1 n3 n5, politi n2, dagtilbud n8, anonym n4
    assert s["label"].to_list() == ["Skole", "Anonym", "Dagtilbud", "Politi"]
    assert s["received"].to_list() == [3, 1, 1, 1]
    assert s["eligible"].to_list() == [2, 1, 1, 1]  # n5 not yet due
    assert s["on_time"].to_list() == [1, 0, 1, 1]
    assert s["pct_24h"].to_list() == pytest.approx([50, 0, 100, 100])
    assert s["share_pct"].to_list() == pytest.approx([50, 100 / 6, 100 / 6, 100 / 6])
    assert s["received"].sum() == kpis.underretninger_antal(ex, K, AS_OF).value


def test_overdue_unassessed(ex: Extract) -> None:
    # waiting now: n6 (30 Dec 2023, never assessed; team A) and n4 (team B); n5 only 14 h
    assert reports.overdue_unassessed_count(ex, K, AS_OF) == 2
    assert reports.overdue_unassessed_count(ex, A, AS_OF) == 1
    rows = reports.overdue_unassessed_rows(ex, SYSTEM, K, AS_OF)
    assert rows["notification_id"].to_list() == ["n6", "n4"]  # oldest first
    # n6: 30 Dec 09:00 → 1 Jan 39 h, then 166 days to 15 Jun = 3.984 h; n4: 12 Jun 08:00 → 64 h
    assert rows["hours_waiting"].to_list() == pytest.approx([4023.0, 64.0])
    assert rows["source_label"].to_list() == ["Skole", "Anonym"]
    assert rows["unit_name"].to_list() == ["Team A", "Team B"]


@pytest.mark.parametrize(
    ("viewer", "expected"),
    [(EA, ["n6"]), (LEAD_A, ["n6"]), (EB, ["n4"]), (LEAD_B, ["n4"]), (ADMIN, [])],
)
def test_overdue_rows_only_for_viewers_who_may_see_them(
    ex: Extract, viewer: Viewer, expected: list[str]
) -> None:
    # n6 is on case c1 (team A, caseworker ea), n4 on c3 (team B, caseworker eb)
    assert reports.overdue_unassessed_rows(ex, viewer, K, AS_OF)["notification_id"].to_list() == expected


# --- sick leave --------------------------------------------------------------------------------
# ea (A, fte 1): sick weekdays Jan 1–3 + Jan 8–16 (overlap counted once) = 3 + 7 = 10;
#   Apr 1–16 = 12; barns_sygdom ignored. eb (B, fte 0,5): Mar 1, 4, 5 = 3 → 1,5;
#   May 27–31 = 5 → 2,5; Jun 3–14 = 10 → 5. lk (K itself, from 3 Jun): Jun 3–4 = 2 of 10.


def _by(frame: pl.DataFrame, name: str) -> list[float | None]:
    return frame.filter(pl.col("unit_name") == name).sort("month")["pct"].to_list()


def test_sick_leave_per_unit_and_month(ex: Extract) -> None:
    s = reports.sick_leave_monthly(ex, K, AS_OF)
    assert s.filter(pl.col("is_total"))["unit_name"].unique().to_list() == ["Kommune"]
    assert _by(s, "Team A") == pytest.approx([10 / 23 * 100, 0, 0, 12 / 22 * 100, 0, 0])
    assert _by(s, "Team B") == pytest.approx([0, 0, 1.5 / 10.5 * 100, 0, 2.5 / 11.5 * 100, 100])
    # K's own employee is hired 3 June: nobody scheduled before → null, never 0
    assert _by(s, "Kommune (direkte)")[:5] == [None] * 5
    assert _by(s, "Kommune (direkte)")[5] == pytest.approx(20.0)
    # the total recomputed from sums, e.g. Jan 10 / (23 + 11,5); Jun (5 + 2) / (10 + 5 + 10)
    total = _by(s, "Kommune")
    assert total[0] == pytest.approx(10 / 34.5 * 100)
    assert total[5] == pytest.approx(7 / 25 * 100)


def test_sick_leave_months_add_up_to_the_kpi(ex: Extract) -> None:
    s = reports.sick_leave_monthly(ex, K, AS_OF)
    for unit_id in ("K", "A", "B"):
        rows = s.filter((pl.col("unit_id") == unit_id) & ~pl.col("unit_name").str.ends_with("(direkte)"))
        kpi = kpis.sygefravaer_pct(ex, Scope.unit(unit_id), AS_OF)
        assert rows["sick"].sum() == pytest.approx(kpi.numerator)
        assert rows["scheduled"].sum() == pytest.approx(kpi.denominator)
    # K year to date: sick 10 + 1,5 + 12 + 2,5 + 7 = 33 of 190 fte-days
    assert kpis.sygefravaer_pct(ex, K, AS_OF).value == pytest.approx(33 / 190 * 100)


def test_sick_leave_year_to_date_is_the_kpi_trend(ex: Extract) -> None:
    s = reports.sick_leave_monthly(ex, K, AS_OF)
    total = s.filter(pl.col("is_total"))
    # Jan 10 / 34,5; after Feb 10 / 66; ...; June 33 / 190
    assert total["ytd_pct"][0] == pytest.approx(10 / 34.5 * 100)
    assert total["ytd_pct"][1] == pytest.approx(10 / 66 * 100)
    assert total["ytd_pct"][5] == pytest.approx(33 / 190 * 100)
    for unit_id in ("K", "A", "B"):
        rows = s.filter((pl.col("unit_id") == unit_id) & ~pl.col("unit_name").str.ends_with("(direkte)"))
        trend = registry.trend(ex, "sygefravaer_pct", Scope.unit(unit_id), AS_OF)
        assert rows["ytd_pct"].to_list() == pytest.approx(trend["value"].to_list(), nan_ok=True)


def test_sick_leave_of_a_team_has_only_the_total(ex: Extract) -> None:
    s = reports.sick_leave_monthly(ex, A, AS_OF)
    assert s["unit_id"].unique().to_list() == ["A"] and s["is_total"].all()


def test_long_sick_spells(ex: Extract) -> None:
    s = reports.long_sick_spells(ex, SYSTEM, K, AS_OF)
    # ea 10 Dec – 3 Jan: 25 days, reaches into 2024; eb 27 May – (20 Jun): 19 days to as_of,
    # ongoing; ea 1–8 + 9–16 Apr touch: one absence of 16 days. ea 8–16 Jan: 9 days, not listed.
    assert s["employee_id"].to_list() == ["ea", "eb", "ea"]
    assert s["days"].to_list() == [25, 19, 16]
    assert s["start_on"].to_list() == [date(2023, 12, 10), date(2024, 5, 27), date(2024, 4, 1)]
    assert s["end_on"].to_list() == [date(2024, 1, 3), None, date(2024, 4, 16)]
    assert s["ongoing_label"].to_list() == ["Afsluttet", "Igangværende", "Afsluttet"]
    # seen on 20 May, eb's spell has not started yet
    assert reports.long_sick_spells(ex, SYSTEM, K, date(2024, 5, 20))["employee_id"].to_list() == ["ea", "ea"]


@pytest.mark.parametrize(
    ("viewer", "expected"), [(EA, ["ea", "ea"]), (EB, ["eb"]), (LEAD_B, ["eb"]), (ADMIN, [])]
)
def test_long_spells_only_for_viewers_who_may_see_them(
    ex: Extract, viewer: Viewer, expected: list[str]
) -> None:
    assert reports.long_sick_spells(ex, viewer, K, AS_OF)["employee_id"].to_list() == expected


def test_scorecard_target(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from metrics.scorecard import load_scorecard

    card = load_scorecard()
    spec = next(k for k in card.kpis if k.metric == "sygefravaer_pct")
    target = reports.scorecard_target("sygefravaer_pct")
    assert target is not None and (target.value, target.direction) == (spec.target, spec.direction)
    assert reports.scorecard_target("no_such_metric") is None
    monkeypatch.setenv("STYRING_SCORECARD", str(tmp_path / "missing.toml"))
    assert reports.scorecard_target("sygefravaer_pct") is None
