"""metrics.drill on a tiny hand-made extract: the rows behind each number, worked out by hand.

Manifest as_of 2024-06-30; figures asked for at AS_OF = 2024-06-14 (T = 15 June 00:00), so
facts dated 15–30 June are unknown. YTD = 1 January – 14 June 2024.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from metrics import registry
from metrics.access import AccessDenied, Viewer, viewer_for_employee
from metrics.drill import (
    caseload_rows,
    deadline_rows,
    economy_group_rows,
    notification_24h_rows,
    overdue_deadline_rows,
    search_cases,
)
from metrics.economy import economy_table
from metrics.extract import Extract
from metrics.scope import Scope
from tests.conftest import make_extract

AS_OF = date(2024, 6, 14)
D = date
_ = None
K, A = Scope.unit("K"), Scope.unit("A")


def _rows(cols: list[str], *rows: tuple[object, ...]) -> dict[str, list[object]]:
    return {c: [r[i] for r in rows] for i, c in enumerate(cols)}


@pytest.fixture(scope="module")
def ex() -> Extract:
    emp = _rows(
        ["employee_id", "name", "email", "unit_id", "role", "fte", "employed_from", "employed_to"],
        ("E1", "Anna Holm", "e1@k.dk", "A", "raadgiver", 1.0, D(2020, 1, 1), _),
        ("E2", "Bo Berg", "e2@k.dk", "A", "raadgiver", 0.5, D(2020, 1, 1), _),
        ("E3", "Cai Dam", "e3@k.dk", "B", "raadgiver", 1.0, D(2020, 1, 1), _),
        ("E4", "Dea Eg", "e4@k.dk", "B", "raadgiver", 1.0, D(2020, 1, 1), D(2024, 5, 31)),  # left
        ("TA", "Teamleder A", "ta@k.dk", "A", "teamleder", 1.0, D(2020, 1, 1), _),
        ("L", "Leder", "l@k.dk", "K", "leder", 1.0, D(2020, 1, 1), _),
    )
    cases = _rows(
        ["case_id", "child_id", "unit_id", "caseworker_id", "birth_year", "opened_on", "closed_on"],
        ("C1", "X-1001", "A", "E1", 2010, D(2023, 1, 1), _),
        ("C2", "X-1002", "A", "E1", 2012, D(2023, 5, 1), _),
        ("C3", "X-2003", "A", "E2", 2014, D(2023, 6, 1), _),
        ("C4", "X-2004", "B", "E3", 2011, D(2023, 9, 1), _),
        ("C5", "X-3005", "B", "E4", 2013, D(2024, 2, 1), _),  # caseworker has left
        ("C6", "X-3006", "A", "E1", 2009, D(2022, 1, 1), D(2024, 3, 1)),  # closed
        ("C7", "X-4007", "A", _, 2015, D(2024, 4, 15), _),  # no caseworker
        ("C8", "X-4008", "A", "E1", 2016, D(2024, 6, 20), _),  # opened after AS_OF
    )
    kinds = _rows(
        ["kind_id", "name", "category", "account", "legal_basis"],
        ("K1", "Plejefamilie", "anbringelse", "5.28.20", _),
        ("K2", "Familiebehandling", "forebyggende", "5.28.21", _),
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
        ("I1", "C1", "K1", _, D(2023, 1, 1), D(2023, 1, 1), _, 10000.0),
        ("I2", "C4", "K2", _, D(2024, 1, 1), D(2024, 1, 1), D(2024, 12, 31), 2000.0),
        ("I3", "C2", "K2", _, D(2024, 6, 20), D(2024, 7, 1), _, 5000.0),  # decided after AS_OF
    )
    pay = _rows(
        ["payment_id", "intervention_id", "period", "posted_on", "amount"],
        ("P1", "I1", D(2024, 1, 1), D(2024, 1, 5), 10000.0),
        ("P2", "I1", D(2024, 2, 1), D(2024, 2, 5), 10000.0),
        ("P3", "I2", D(2024, 3, 1), D(2024, 3, 5), 2000.0),
        ("P4", "I1", D(2024, 7, 1), D(2024, 6, 10), 10000.0),  # July paid ahead
        ("P5", "I1", D(2023, 12, 1), D(2024, 1, 3), 10000.0),  # last year's month
    )
    dl = _rows(
        ["deadline_id", "case_id", "kind", "started_on", "due_on", "done_on"],
        ("D1", "C1", "undersoegelse", D(2024, 1, 2), D(2024, 3, 1), D(2024, 2, 20)),  # met
        ("D2", "C1", "opfoelgning", D(2024, 1, 2), D(2024, 4, 1), D(2024, 4, 10)),  # late
        ("D3", "C3", "undersoegelse", D(2024, 1, 2), D(2024, 5, 1), _),  # missed, overdue
        ("D4", "C4", "opfoelgning", D(2024, 1, 2), D(2024, 6, 10), D(2024, 6, 20)),  # done after AS_OF
        ("D5", "C2", "handleplan", D(2024, 6, 1), D(2024, 7, 1), _),  # due after AS_OF
        ("D6", "C4", "undersoegelse", D(2023, 8, 1), D(2023, 12, 1), _),  # last year, overdue
    )
    notes = _rows(
        ["notification_id", "child_id", "case_id", "unit_id", "source", "received_at", "assessed_at"],
        ("N1", "X-1001", "C1", "A", "skole", datetime(2024, 2, 1, 8), datetime(2024, 2, 1, 20)),  # 12 h
        ("N2", "X-2003", "C3", "A", "skole", datetime(2024, 3, 1, 8), datetime(2024, 3, 2, 9)),  # 25 h
        ("N3", "Y-1", _, "B", "politi", datetime(2024, 6, 14, 12), _),  # 12 h before T: not due yet
        ("N4", "X-2004", "C4", "B", "skole", datetime(2024, 6, 10, 10), _),  # waiting 110 h at T
        ("N5", "Y-2", _, "A", "andet", datetime(2023, 12, 31, 10), datetime(2024, 1, 1, 9)),  # last year
        ("N6", "Y-3", _, "A", "andet", datetime(2024, 6, 13, 10), datetime(2024, 6, 16, 9)),  # 38 h at T
    )
    out = make_extract(
        as_of=D(2024, 6, 30),
        employees=emp,
        cases=cases,
        intervention_kinds=kinds,
        interventions=iv,
        payments=pay,
        deadlines=dl,
        notifications=notes,
    )
    assert out.rejected_total == 0, out.report
    return out


def viewer(ex: Extract, employee_id: str) -> Viewer:
    v = viewer_for_employee(ex, employee_id, AS_OF)
    assert v is not None
    return v


SYSTEM = Viewer.system()


def test_overdue_deadlines_are_the_ones_counted(ex: Extract) -> None:
    # due < 14 June and not done by then: D3 (open), D4 (done 20 June, unknown), D6 (last year) = 3
    rows = overdue_deadline_rows(ex, SYSTEM, K, AS_OF)
    assert rows["deadline_id"].to_list() == ["D6", "D3", "D4"]
    assert rows.height == registry.compute(ex, "frister_overskredne", K, AS_OF).value == 3
    assert rows["days_overdue"].to_list() == [196, 44, 4]  # 1 Dec→14 Jun 2024 (leap year), 1 May, 10 Jun
    assert rows["done_on"].to_list() == [None, None, None]  # D4's 20 June is not known yet
    # team leader A sees team A's rows: D3 (C3); a caseworker her own: E1 has none overdue
    assert overdue_deadline_rows(ex, viewer(ex, "TA"), A, AS_OF)["deadline_id"].to_list() == ["D3"]
    assert overdue_deadline_rows(ex, viewer(ex, "E1"), K, AS_OF).height == 0


@pytest.mark.parametrize(
    ("metric", "kind", "ids", "met"),
    [
        # eligible: due 1 Jan–14 Jun: D1 D2 D3 D4; met: D1 only (D2 late, D3 open, D4 done after AS_OF) → 1/4
        ("frister_overholdt_pct", None, ["D2", "D3", "D4", "D1"], 1),
        ("undersoegelser_rettidige_pct", "undersoegelse", ["D3", "D1"], 1),  # 1/2
        ("opfoelgninger_rettidige_pct", "opfoelgning", ["D2", "D4"], 0),  # 0/2
    ],
)
def test_deadline_rows_are_numerator_and_denominator(
    ex: Extract, metric: str, kind: str | None, ids: list[str], met: int
) -> None:
    rows = deadline_rows(ex, SYSTEM, K, AS_OF, kind)
    kpi = registry.compute(ex, metric, K, AS_OF)
    assert rows["deadline_id"].to_list() == ids  # missed first, by due date
    assert rows.height == kpi.denominator == len(ids)
    assert int(rows["met"].sum()) == kpi.numerator == met


def test_deadline_rows_within_scope(ex: Extract) -> None:
    # E1's own cases C1, C2: D1 (met) and D2 (late) are eligible
    assert deadline_rows(ex, viewer(ex, "E1"), K, AS_OF)["deadline_id"].to_list() == ["D2", "D1"]
    # team leader A: C1 and C3 → D1 D2 D3; = the KPI at A's 3 eligible
    rows = deadline_rows(ex, viewer(ex, "TA"), A, AS_OF)
    assert rows.height == registry.compute(ex, "frister_overholdt_pct", A, AS_OF).denominator == 3


def test_notification_rows_are_numerator_and_denominator(ex: Extract) -> None:
    # eligible: N1 N2 N4 N6 (N3 not due yet, N5 last year); on time: N1 (12 h) → 1/4
    rows = notification_24h_rows(ex, SYSTEM, K, AS_OF)
    kpi = registry.compute(ex, "underretninger_24t_pct", K, AS_OF)
    assert rows["notification_id"].to_list() == ["N2", "N4", "N6", "N1"]
    assert rows.height == kpi.denominator == 4
    assert int(rows["on_time"].sum()) == kpi.numerator == 1
    # N2 25 h to assessment; N4 10 June 10:00 → T = 110 h; N6 13 June 10:00 → T = 38 h (16 June unknown)
    assert rows["hours"].to_list() == [25.0, 110.0, 38.0, 12.0]
    assert rows["assessed_at"][2] is None
    # a caseworker sees her own cases' notifications: E1 → N1 (C1)
    assert notification_24h_rows(ex, viewer(ex, "E1"), K, AS_OF)["notification_id"].to_list() == ["N1"]


def test_caseload_rows_add_up_to_the_kpi(ex: Extract) -> None:
    # active with a caseworker: C1 C2 (E1), C3 (E2), C4 (E3), C5 (E4, left) = 5;
    # fte of caseworkers employed on AS_OF: E1 1 + E2 0.5 + E3 1 = 2.5 → 2.0
    rows = caseload_rows(ex, SYSTEM, K, AS_OF)
    kpi = registry.compute(ex, "sager_pr_raadgiver", K, AS_OF)
    got = {r["caseworker_id"]: (r["active_cases"], r["fte"]) for r in rows.iter_rows(named=True)}
    assert got == {"E1": (2, 1.0), "E2": (1, 0.5), "E3": (1, 1.0), "E4": (1, 0.0)}
    assert rows["active_cases"].sum() == kpi.numerator == 5
    assert rows["fte"].sum() == kpi.denominator == 2.5
    assert rows["caseworker_id"][0] == "E1"  # most cases first
    # team A for its leader: E1 (2, 1.0), E2 (1, 0.5) → 3 ÷ 1.5
    ta = caseload_rows(ex, viewer(ex, "TA"), A, AS_OF)
    kpi_a = registry.compute(ex, "sager_pr_raadgiver", A, AS_OF)
    assert (ta["active_cases"].sum(), ta["fte"].sum()) == (kpi_a.numerator, kpi_a.denominator) == (3, 1.5)
    # a caseworker sees only herself
    assert caseload_rows(ex, viewer(ex, "E2"), K, AS_OF)["caseworker_id"].to_list() == ["E2"]


def test_economy_group_rows_add_up_to_the_row(ex: Extract) -> None:
    # 5.28.20 (I1, C1): actual P1 + P2 + P4 (July, year 2024, posted 10 June) = 30,000 (P5 is
    # December 2023); committed July 10,000 − 10,000 prepaid = 0 + Aug–Dec 5 × 10,000 = 50,000
    rows = economy_group_rows(ex, SYSTEM, K, AS_OF, "account", "5.28.20")
    assert rows.select("case_id", "actual", "committed", "expected").rows() == [
        ("C1", 30000.0, 50000.0, 80000.0)
    ]
    # 5.28.21: C4 (I2): actual 2,000; committed Jul–Dec 6 × 2,000 = 12,000. C2's I3 is decided after AS_OF
    rows = economy_group_rows(ex, SYSTEM, K, AS_OF, "category", "forebyggende")
    assert rows.select("case_id", "expected").rows() == [("C4", 14000.0)]
    # child unit B holds C4; the economy table's row for B equals the sum of its cases
    table = economy_table(ex, K, AS_OF, "child_unit").filter(group="B")
    rows = economy_group_rows(ex, SYSTEM, K, AS_OF, "child_unit", "B")
    assert (rows["actual"].sum(), rows["committed"].sum()) == (table["actual"][0], table["committed"][0])
    # team leader A may not see C4 (team B)
    assert economy_group_rows(ex, viewer(ex, "TA"), A, AS_OF, "account", "5.28.21").height == 0


def test_search_cases_newest_activity_first(ex: Extract) -> None:
    # last activity ≤ AS_OF: C1 10 Jun (P4 posted), C2 1 Jun (D5 started), C7 15 Apr (opened),
    # C4 5 Mar (P3 posted), C6 1 Mar (closed), C5 1 Feb (opened), C3 2 Jan (D3 started); C8 unknown
    found = search_cases(ex, viewer(ex, "L"), AS_OF, "K")
    assert found.rows["case_id"].to_list() == ["C1", "C2", "C7", "C4", "C6", "C5", "C3"]
    assert found.total == 7
    assert found.rows["last_activity"][0] == D(2024, 6, 10)
    page = search_cases(ex, viewer(ex, "L"), AS_OF, "K", offset=2, limit=2)
    assert (page.rows["case_id"].to_list(), page.total) == (["C7", "C4"], 7)


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ("holm", ["C1", "C2", "C6"]),  # caseworker name, any case
        ("x-20", ["C4", "C3"]),  # child pseudonym, partial
        ("c7", ["C7"]),  # case id, partial, any case
        ("zzz", []),
    ],
)
def test_search_cases_by_id_child_or_caseworker(ex: Extract, query: str, ids: list[str]) -> None:
    assert search_cases(ex, viewer(ex, "L"), AS_OF, "K", query).rows["case_id"].to_list() == ids


def test_search_cases_within_scope(ex: Extract) -> None:
    # team leader A: A's cases only (C4 and C5 are team B's)
    ta = search_cases(ex, viewer(ex, "TA"), AS_OF, "A", "x-")
    assert ta.rows["case_id"].to_list() == ["C1", "C2", "C7", "C6", "C3"]
    # a caseworker: her own cases wherever the unit points
    assert search_cases(ex, viewer(ex, "E2"), AS_OF, "A").rows["case_id"].to_list() == ["C3"]
    with pytest.raises(AccessDenied):
        search_cases(ex, viewer(ex, "TA"), AS_OF, "B")
