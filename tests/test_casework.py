"""metrics.casework on a tiny hand-made extract. Values are worked out by hand in the comments.

The manifest's as_of is 2024-06-30; the figures are asked for at AS_OF = 2024-06-14, so
rows dated between the two (a payment posted 20 June, a deadline done 18 June, a case
opened 20 June) are facts "after as_of" and must be unknown.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from metrics.access import AccessDenied, Viewer, viewer_for_employee
from metrics.casework import (
    CaseNotKnownYet,
    case_detail,
    caseload,
    cases_visible,
    caseworker_cases,
    caseworker_totals,
    caseworkers_visible,
)
from metrics.economy import economy_total
from metrics.extract import Extract
from metrics.scope import Scope
from tests.conftest import make_extract

AS_OF = date(2024, 6, 14)
D = date
_ = None


def _rows(cols: list[str], *rows: tuple[object, ...]) -> dict[str, list[object]]:
    return {c: [r[i] for r in rows] for i, c in enumerate(cols)}


@pytest.fixture(scope="module")
def ex() -> Extract:
    org = _rows(
        ["unit_id", "parent_id", "name", "level"],
        ("K", _, "Kommune", "kommune"),
        ("A", "K", "Team A", "team"),
        ("B", "K", "Team B", "team"),
    )
    emp = _rows(
        ["employee_id", "name", "email", "unit_id", "role", "fte", "employed_from", "employed_to"],
        ("E1", "Rådgiver En", "e1@k.dk", "A", "raadgiver", 1.0, D(2020, 1, 1), _),
        ("E2", "Rådgiver To", "e2@k.dk", "A", "raadgiver", 0.5, D(2020, 1, 1), _),
        ("E3", "Rådgiver Tre", "e3@k.dk", "B", "raadgiver", 1.0, D(2020, 1, 1), _),
        ("TA", "Teamleder A", "ta@k.dk", "A", "teamleder", 1.0, D(2020, 1, 1), _),
        ("TB", "Teamleder B", "tb@k.dk", "B", "teamleder", 1.0, D(2020, 1, 1), _),
        ("L", "Leder", "l@k.dk", "K", "leder", 1.0, D(2020, 1, 1), _),
        ("AD", "Admin", "ad@k.dk", "K", "administration", 1.0, D(2020, 1, 1), _),
    )
    cases = _rows(
        ["case_id", "child_id", "unit_id", "caseworker_id", "birth_year", "opened_on", "closed_on"],
        ("C1", "B1", "A", "E1", 2010, D(2023, 3, 1), _),
        ("C2", "B2", "A", "E1", 2015, D(2023, 1, 10), D(2024, 3, 15)),  # closed this year, with cost
        ("C3", "B3", "A", "E1", 2012, D(2022, 1, 1), D(2023, 12, 31)),  # closed last year
        ("C4", "B4", "A", "E2", 2018, D(2024, 1, 5), D(2024, 6, 25)),  # closes after AS_OF
        ("C5", "B5", "B", "E3", 2009, D(2021, 5, 1), _),
        ("C6", "B6", "A", "E1", 2016, D(2024, 6, 20), _),  # opened after AS_OF
        ("C7", "B7", "B", "E1", 2011, D(2024, 2, 1), _),  # E1's case in team B
    )
    kinds = _rows(
        ["kind_id", "name", "category", "account", "legal_basis"],
        ("K1", "Plejefamilie", "anbringelse", "5.28.20", _),
        ("K2", "Familiebehandling", "forebyggende", "5.28.21", _),
        ("K3", "Kontaktperson", "forebyggende", "5.28.21", _),
    )
    iv = _rows(
        [
            "intervention_id",
            "case_id",
            "kind_id",
            "provider",
            "decided_on",
            "start_on",
            "end_on",
            "monthly_cost",
        ],
        ("I1", "C1", "K1", "Familie X", D(2023, 2, 20), D(2023, 3, 1), _, 30000.0),  # open-ended
        ("I2", "C1", "K2", _, D(2024, 6, 1), D(2024, 7, 16), D(2024, 9, 30), 6200.0),  # mid-month start
        ("I9", "C1", "K3", _, D(2024, 6, 20), D(2024, 8, 1), _, 1000.0),  # decided after AS_OF
        ("I3", "C2", "K3", _, D(2023, 1, 10), D(2023, 1, 15), D(2024, 3, 15), 3000.0),
        ("I4", "C3", "K1", _, D(2022, 1, 1), D(2022, 1, 1), D(2023, 12, 31), 20000.0),
        ("I5", "C4", "K2", _, D(2024, 1, 5), D(2024, 1, 10), _, 10000.0),
        ("I6", "C5", "K1", _, D(2021, 5, 1), D(2021, 5, 1), _, 25000.0),
        ("I8", "C6", "K2", _, D(2024, 6, 20), D(2024, 7, 1), _, 5000.0),
    )
    pay = _rows(
        ["payment_id", "intervention_id", "period", "posted_on", "amount"],
        ("P0", "I1", D(2023, 11, 1), D(2023, 11, 30), 30000.0),
        ("P1", "I1", D(2023, 12, 1), D(2024, 1, 5), 30000.0),  # last December, paid in January
        ("P2", "I1", D(2024, 1, 1), D(2024, 1, 31), 30000.0),
        ("P3", "I1", D(2024, 2, 1), D(2024, 2, 29), 30000.0),
        ("P4", "I1", D(2024, 3, 1), D(2024, 3, 28), 30000.0),
        ("P5", "I1", D(2024, 4, 1), D(2024, 4, 30), 30000.0),
        ("P6", "I1", D(2024, 4, 1), D(2024, 5, 10), -2500.0),  # refund
        ("P7", "I1", D(2024, 5, 1), D(2024, 5, 31), 30000.0),
        ("P8", "I1", D(2024, 6, 1), D(2024, 6, 20), 30000.0),  # posted after AS_OF
        ("P9", "I3", D(2024, 1, 1), D(2024, 1, 31), 3000.0),
        ("P10", "I3", D(2024, 2, 1), D(2024, 2, 29), 3000.0),
        ("P11", "I3", D(2024, 3, 1), D(2024, 3, 28), 1500.0),
        ("P12", "I4", D(2023, 12, 1), D(2024, 1, 8), 20000.0),  # C3's last December
        ("P13", "I5", D(2024, 5, 1), D(2024, 5, 31), 10000.0),
        ("P14", "I6", D(2024, 5, 1), D(2024, 5, 31), 25000.0),
    )
    dl = _rows(
        ["deadline_id", "case_id", "kind", "started_on", "due_on", "done_on"],
        ("D1", "C1", "undersoegelse", D(2023, 3, 1), D(2023, 7, 1), D(2023, 6, 20)),  # on time
        ("D2", "C1", "handleplan", D(2024, 1, 1), D(2024, 3, 1), D(2024, 3, 10)),  # late
        ("D3", "C1", "opfoelgning", D(2024, 3, 1), D(2024, 6, 1), _),  # overdue
        ("D4", "C1", "opfoelgning", D(2024, 4, 1), D(2024, 6, 10), D(2024, 6, 18)),  # done after AS_OF
        ("D5", "C1", "handleplan", D(2024, 6, 1), D(2024, 9, 1), _),  # open
        ("D6", "C1", "opfoelgning", D(2024, 6, 20), D(2024, 7, 1), _),  # started after AS_OF
        ("D7", "C4", "undersoegelse", D(2024, 1, 5), D(2024, 5, 5), D(2024, 5, 1)),
        ("D8", "C2", "opfoelgning", D(2024, 1, 1), D(2024, 7, 1), _),
    )
    out = make_extract(
        as_of=D(2024, 6, 30),
        org_units=org,
        employees=emp,
        cases=cases,
        intervention_kinds=kinds,
        interventions=iv,
        payments=pay,
        deadlines=dl,
    )
    assert out.rejected_total == 0, out.report
    return out


def viewer(ex: Extract, employee_id: str) -> Viewer:
    v = viewer_for_employee(ex, employee_id, AS_OF)
    assert v is not None
    return v


# --- caseworker overview ----------------------------------------------------------------


def test_caseworker_cases_rows_and_values(ex: Extract) -> None:
    df = caseworker_cases(ex, Viewer.system(), "E1", AS_OF)
    # C3 closed last year and its only 2024 posting covers December 2023: no cost this year.
    # C6 was opened after AS_OF: unknown.
    assert df["case_id"].to_list() == ["C1", "C2", "C7"]
    c1, c2, c7 = df.rows(named=True)

    assert c1["active"] is True and c1["closed_on"] is None
    assert c1["age"] == 2024 - 2010
    # Running on 14 June: I1 only (I2 starts 16 July, I9 decided 20 June).
    assert c1["active_interventions"] == 1
    assert c1["intervention_names"] == "Plejefamilie"
    assert c1["monthly_cost_now"] == 30000.0
    # actual: P2..P7 = 5 × 30000 − 2500 = 147500 (P1 covers 2023, P8 is posted after AS_OF)
    assert c1["actual"] == pytest.approx(147500.0)
    # committed: I1 6 months (Jul–Dec) × 30000 = 180000;
    # I2 July 16/31 × 6200 = 3200 + Aug 6200 + Sep 6200 = 15600; I9 decided after AS_OF: 0
    assert c1["committed"] == pytest.approx(195600.0)
    assert c1["expected"] == pytest.approx(343100.0)
    # open at AS_OF: D3 (due 1 Jun), D4 (done 18 Jun = not yet), D5 (due 1 Sep); D6 started later
    assert c1["next_deadline_due"] == D(2024, 6, 1)
    assert c1["next_deadline_kind"] == "opfoelgning"
    assert c1["overdue"] == 2  # D3, D4

    assert c2["active"] is False and c2["closed_on"] == D(2024, 3, 15)
    assert c2["age"] == 9
    assert c2["active_interventions"] == 0 and c2["monthly_cost_now"] == 0.0
    assert c2["actual"] == pytest.approx(7500.0)  # 3000 + 3000 + 1500
    assert c2["committed"] == 0.0
    assert (c2["next_deadline_due"], c2["overdue"]) == (D(2024, 7, 1), 0)

    assert c7["active"] is True and c7["expected"] == 0.0 and c7["next_deadline_due"] is None


def test_case_closed_after_as_of_reads_as_active(ex: Extract) -> None:
    df = caseworker_cases(ex, Viewer.system(), "E2", AS_OF)
    assert df.select("case_id", "active", "closed_on").rows() == [("C4", True, None)]


def test_totals_are_sums_and_match_economy(ex: Extract) -> None:
    df = caseworker_cases(ex, Viewer.system(), "E1", AS_OF)
    t = caseworker_totals(df)
    assert (t.cases, t.active_cases, t.active_interventions) == (3, 2, 1)
    assert t.monthly_cost_now == 30000.0
    assert t.actual == pytest.approx(155000.0)  # 147500 + 7500
    assert t.committed == pytest.approx(195600.0)
    assert t.expected == pytest.approx(350600.0)
    assert (t.overdue, t.cases_with_overdue) == (2, 1)
    # every krone of the caseworker's year is on some row
    eco = economy_total(ex, Scope.caseworker("E1"), AS_OF)
    assert (t.actual, t.committed, t.expected) == pytest.approx((eco.actual, eco.committed, eco.expected))


def test_teamleder_sees_only_cases_in_subtree(ex: Extract) -> None:
    df = caseworker_cases(ex, viewer(ex, "TA"), "E1", AS_OF)
    assert df["case_id"].to_list() == ["C1", "C2"]  # C7 belongs to team B


def test_caseworker_access(ex: Extract) -> None:
    assert caseworker_cases(ex, viewer(ex, "E1"), "E1", AS_OF).height == 3
    with pytest.raises(AccessDenied):
        caseworker_cases(ex, viewer(ex, "E2"), "E1", AS_OF)
    with pytest.raises(AccessDenied):
        caseworker_cases(ex, viewer(ex, "TB"), "E1", AS_OF)  # E1 is in team A
    with pytest.raises(AccessDenied):
        caseworker_cases(ex, viewer(ex, "AD"), "E1", AS_OF)
    with pytest.raises(AccessDenied):
        caseload(ex, viewer(ex, "E2"), "E1", AS_OF)


def test_caseworkers_visible(ex: Extract) -> None:
    def ids(who: str) -> list[str]:
        return caseworkers_visible(ex, viewer(ex, who), AS_OF)["employee_id"].to_list()

    assert ids("E1") == ["E1"]
    assert ids("TA") == ["E1", "E2"]  # sorted by name: "Rådgiver En" < "Rådgiver To"; TA holds no case
    assert ids("L") == ["E1", "E2", "E3"]  # by name: En < To < Tre
    assert ids("AD") == []


def test_caseload_against_team(ex: Extract) -> None:
    cl = caseload(ex, viewer(ex, "TA"), "E1", AS_OF)
    assert (cl.team_id, cl.team_name) == ("A", "Team A")
    # E1's active cases: C1 and C7 (C2 closed, C3 closed, C6 not opened) / fte 1.0
    assert cl.active_cases.value == 2
    assert cl.cases_per_fte.value == pytest.approx(2.0)
    # team A active: C1, C4 (C7 is in B); raadgiver fte in A: 1.0 + 0.5
    assert cl.team_active_cases.value == 2
    assert cl.team_cases_per_fte.value == pytest.approx(2 / 1.5)


# --- one case ---------------------------------------------------------------------------


def test_case_detail_facts_and_interventions(ex: Extract) -> None:
    d = case_detail(ex, viewer(ex, "E1"), "C1", AS_OF)
    f = d.facts
    assert (f.child_id, f.birth_year, f.age, f.unit_name) == ("B1", 2010, 14, "Team A")
    assert (f.caseworker_name, f.opened_on, f.closed_on, f.active) == (
        "Rådgiver En",
        D(2023, 3, 1),
        None,
        True,
    )

    iv = d.interventions
    assert iv["intervention_id"].to_list() == ["I1", "I2"]  # I9 was decided after AS_OF
    i1, i2 = iv.rows(named=True)
    assert (i1["open_ended"], i1["running"], i1["provider"], i1["category"]) == (
        True,
        True,
        "Familie X",
        "anbringelse",
    )
    # an open end is drawn to the timeline's right edge: the end of the year (later than I2's end)
    assert d.timeline_end == D(2024, 12, 31) and i1["bar_end"] == D(2024, 12, 31)
    assert d.timeline_start == D(2023, 3, 1)
    assert (i2["open_ended"], i2["running"], i2["bar_end"]) == (False, False, D(2024, 9, 30))


def test_case_detail_monthly_actual_vs_planned(ex: Extract) -> None:
    d = case_detail(ex, viewer(ex, "E1"), "C1", AS_OF)
    m = d.monthly
    assert m["month"].to_list() == [D(2024, k, 1) for k in range(1, 13)]
    # Jan–May from P2..P7 (April: 30000 − 2500); June's P8 is posted after AS_OF
    assert m["actual"].to_list() == [30000, 30000, 30000, 27500, 30000, 0, 0, 0, 0, 0, 0, 0]
    # planned: I1 30000 every month; I2 July 16/31 × 6200 = 3200, Aug and Sep 6200
    expected_planned = [30000.0] * 6 + [33200.0, 36200.0, 36200.0] + [30000.0] * 3
    assert m["planned"].to_list() == pytest.approx(expected_planned)
    # the planned months after June are exactly kpis.md's committed
    assert float(m["planned"][6:].sum()) == pytest.approx(d.economy.committed)
    assert float(m["actual"].sum()) == pytest.approx(d.economy.actual)


def test_case_detail_payments_totals_and_expected(ex: Extract) -> None:
    d = case_detail(ex, viewer(ex, "E1"), "C1", AS_OF)
    # newest first by period, then posting date: P7 (May), P6 (April, posted 10 May) before P5
    # (April, posted 30 April), …, P1 (December 2023), P0 (November 2023); P8 is posted after AS_OF
    assert d.payments["payment_id"].to_list() == ["P7", "P6", "P5", "P4", "P3", "P2", "P1", "P0"]
    # this year = periods in 2024 (P1 is paid in January but covers December 2023)
    assert d.payments["this_year"].to_list() == [True] * 6 + [False] * 2
    assert d.payments["kind_name"].unique().to_list() == ["Plejefamilie"]
    # since opened: P0 + P1 + 147500 = 207500 (P8 unknown)
    assert d.total_since_opened == pytest.approx(207500.0)
    assert d.economy.actual == pytest.approx(147500.0)
    assert d.economy.committed == pytest.approx(195600.0)
    assert d.economy.expected == pytest.approx(343100.0)


def test_case_detail_deadline_status(ex: Extract) -> None:
    dl = case_detail(ex, viewer(ex, "E1"), "C1", AS_OF).deadlines
    assert dl.select("deadline_id", "status", "done_on").rows() == [
        ("D1", "met_on_time", D(2023, 6, 20)),
        ("D2", "met_late", D(2024, 3, 10)),
        ("D3", "overdue", None),
        ("D4", "overdue", None),  # done 18 June: not known on 14 June
        ("D5", "open", None),
    ]  # D6 started after AS_OF
    assert dl["status_label"].to_list()[:3] == ["Overholdt", "Afsluttet for sent", "Overskredet"]
    # at the manifest's date D4 is done (late) and D6 is open
    later = case_detail(ex, viewer(ex, "E1"), "C1", D(2024, 6, 30)).deadlines
    assert dict(later.select("deadline_id", "status").rows())["D4"] == "met_late"
    assert "D6" in later["deadline_id"].to_list()


def test_case_detail_access(ex: Extract) -> None:
    with pytest.raises(AccessDenied):
        case_detail(ex, viewer(ex, "E2"), "C1", AS_OF)  # another caseworker's case
    with pytest.raises(AccessDenied):
        case_detail(ex, viewer(ex, "TB"), "C1", AS_OF)  # outside team B's subtree
    with pytest.raises(AccessDenied):
        case_detail(ex, viewer(ex, "AD"), "C1", AS_OF)  # administration: no case rows
    with pytest.raises(AccessDenied):
        case_detail(ex, Viewer.system(), "NOPE", AS_OF)
    assert case_detail(ex, viewer(ex, "TB"), "C7", AS_OF).facts.caseworker_id == "E1"
    with pytest.raises(CaseNotKnownYet):
        case_detail(ex, viewer(ex, "L"), "C6", AS_OF)


def test_cases_visible(ex: Extract) -> None:
    def ids(who: str) -> list[str]:
        return cases_visible(ex, viewer(ex, who), AS_OF)["case_id"].to_list()

    assert ids("E1") == ["C1", "C7", "C2", "C3"]  # active first; C6 unknown at AS_OF
    assert ids("TB") == ["C5", "C7"]
    assert ids("AD") == []
    assert set(ids("L")) == {"C1", "C2", "C3", "C4", "C5", "C7"}
    assert cases_visible(ex, viewer(ex, "E2"), AS_OF).filter(pl.col("case_id") == "C1").height == 0


def test_lists_follow_the_unit_filter(ex: Extract) -> None:
    def case_ids(who: str, unit: str) -> list[str]:
        return cases_visible(ex, viewer(ex, who), AS_OF, unit)["case_id"].to_list()

    def staff_ids(who: str, unit: str) -> list[str]:
        return caseworkers_visible(ex, viewer(ex, who), AS_OF, unit)["employee_id"].to_list()

    assert case_ids("L", "B") == ["C5", "C7"]
    assert case_ids("L", "A") == ["C1", "C4", "C2", "C3"]  # active first: C4 closes after AS_OF
    assert case_ids("E1", "A") == ["C1", "C7", "C2", "C3"]  # a caseworker's own cases, any unit
    assert staff_ids("L", "A") == ["E1", "E2"]
    assert staff_ids("L", "B") == ["E3"]
    with pytest.raises(AccessDenied):
        cases_visible(ex, viewer(ex, "TB"), AS_OF, "A")
    with pytest.raises(AccessDenied):
        caseworkers_visible(ex, viewer(ex, "TB"), AS_OF, "K")
