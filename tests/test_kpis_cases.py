"""Cases and deadlines KPIs (kpis.md, section Cases and deadlines), hand-worked values.

as_of 2024-06-14 (a Friday); YTD = 2024-01-01 … 2024-06-14. The extract's own
as_of is 2024-06-30 so that facts after the reporting date exist in it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import pytest

from metrics.extract import Extract
from metrics.kpis import (
    aktive_sager,
    frister_overholdt_pct,
    frister_overskredne,
    opfoelgninger_rettidige_pct,
    sager_pr_raadgiver,
    undersoegelser_rettidige_pct,
)
from metrics.scope import Scope
from tests.conftest import clean_extract as extract
from tests.conftest import frame, make_extract

AS_OF = date(2024, 6, 14)
ROOT, A, B = Scope.unit("K"), Scope.unit("A"), Scope.unit("B")


def employee(
    eid: str,
    unit: str,
    fte: float = 1.0,
    start: date = date(2020, 1, 1),
    end: date | None = None,
    role: str = "raadgiver",
) -> dict[str, Any]:
    return {
        "employee_id": eid,
        "name": eid,
        "email": None,
        "unit_id": unit,
        "role": role,
        "fte": fte,
        "employed_from": start,
        "employed_to": end,
    }


def case(cid: str, unit: str, cw: str | None, opened: date, closed: date | None = None) -> dict[str, Any]:
    return {
        "case_id": cid,
        "child_id": "child-" + cid,
        "unit_id": unit,
        "caseworker_id": cw,
        "birth_year": 2012,
        "opened_on": opened,
        "closed_on": closed,
    }


def deadline(did: str, cid: str, kind: str, due: date, done: date | None) -> dict[str, Any]:
    return {
        "deadline_id": did,
        "case_id": cid,
        "kind": kind,
        "started_on": date(2023, 6, 1),
        "due_on": due,
        "done_on": done,
    }


EMPLOYEES = [
    employee("e1", "A"),
    employee("e2", "A", fte=0.5, end=date(2024, 6, 14)),  # last day = as_of: still employed
    employee("e3", "B", start=date(2024, 1, 1)),
    employee("e4", "B", start=date(2024, 6, 15)),  # hired after as_of: does not exist yet
    employee("e5", "B", fte=0.8, end=date(2024, 6, 13)),  # left the day before
    employee("e6", "A", role="teamleder"),  # not a caseworker
]

CASES = [
    case("c1", "A", "e1", date(2024, 1, 1)),  # active
    case("c2", "A", "e2", date(2024, 6, 14)),  # opened on as_of: active
    case("c3", "A", "e1", date(2024, 6, 15)),  # opened after as_of: not active
    case("c4", "A", "e2", date(2023, 1, 1), date(2024, 6, 14)),  # closed on as_of: not active
    case("c5", "B", "e3", date(2023, 1, 1), date(2024, 6, 15)),  # closed the day after: active
    case("c6", "B", "e3", date(2023, 1, 1), date(2024, 3, 1)),  # closed earlier
    case("c7", "B", None, date(2024, 2, 1)),  # active, unassigned
]

UND, OPF, HP = "undersoegelse", "opfoelgning", "handleplan"
DEADLINES = [
    deadline("d1", "c1", UND, date(2024, 3, 1), date(2024, 2, 20)),  # eligible, met
    deadline("d2", "c1", UND, date(2024, 3, 1), date(2024, 3, 1)),  # done on the due day: met
    deadline("d3", "c1", UND, date(2024, 3, 1), date(2024, 3, 2)),  # a day late; not overdue now
    deadline("d4", "c1", OPF, date(2024, 6, 14), None),  # due today, not done: not met, not overdue
    deadline("d5", "c1", OPF, date(2024, 6, 10), date(2024, 6, 20)),  # done after as_of: overdue
    deadline("d6", "c5", HP, date(2024, 5, 1), None),  # not done: not met, overdue
    deadline("d7", "c5", UND, date(2023, 12, 31), None),  # last year: not eligible, but overdue
    deadline("d8", "c5", OPF, date(2024, 6, 20), None),  # due after as_of: neither
    deadline("d9", "c5", OPF, date(2024, 1, 1), date(2023, 12, 15)),  # due 1 January: eligible, met
    deadline("d10", "c5", UND, date(2024, 4, 1), date(2024, 3, 31)),  # met
    deadline("d11", "c2", HP, date(2024, 6, 13), date(2024, 6, 14)),  # late, done by as_of: not overdue
]


@pytest.fixture(scope="module")
def ex() -> Extract:
    return extract(date(2024, 6, 30), employees=EMPLOYEES, cases=CASES, deadlines=DEADLINES)


def value(fn: Any, ex: Extract, scope: Scope, as_of: date = AS_OF) -> float | None:
    return fn(ex, scope, as_of).value


def test_aktive_sager(ex: Extract) -> None:
    # root: c1, c2, c5, c7 = 4 (c3 not opened yet, c4 closed on as_of, c6 closed in March)
    assert value(aktive_sager, ex, ROOT) == 4
    assert value(aktive_sager, ex, A) == 2  # c1, c2
    assert value(aktive_sager, ex, B) == 2  # c5, c7
    # caseworker e2: c2 (c4 closed on as_of) = 1
    assert value(aktive_sager, ex, Scope.caseworker("e2")) == 1
    # the day after: c3 opened, c5 closed on 15 June → c1, c2, c3, c7 = 4; A = 3
    assert value(aktive_sager, ex, A, date(2024, 6, 15)) == 3


def test_sager_pr_raadgiver(ex: Extract) -> None:
    # root: active with a caseworker = c1, c2, c5 = 3 (c7 unassigned);
    # raadgiver FTE employed on as_of = e1 1.0 + e2 0.5 + e3 1.0 = 2.5 (e4 not hired yet,
    # e5 left on 13 June, e6 is a teamleder) → 3 / 2.5 = 1.2
    assert value(sager_pr_raadgiver, ex, ROOT) == pytest.approx(1.2)
    # A: 2 / 1.5 = 1.3333…; B: 1 / 1.0 = 1.0. Averaging the teams would give 1.1666…, not 1.2.
    assert value(sager_pr_raadgiver, ex, A) == pytest.approx(2 / 1.5)
    assert value(sager_pr_raadgiver, ex, B) == pytest.approx(1.0)
    # caseworker e2 (fte 0.5): 1 active case / 0.5 = 2.0
    assert value(sager_pr_raadgiver, ex, Scope.caseworker("e2")) == pytest.approx(2.0)


def test_sager_pr_raadgiver_after_leaving_and_hiring(ex: Extract) -> None:
    # 17 June: e2 gone (to 14 June), e4 hired 15 June: FTE = e1 1 + e3 1 + e4 1 = 3.
    # active with caseworker: c1, c2, c3 (c4 closed, c5 closed 15 June) = 3 → 3 / 3 = 1.0
    assert value(sager_pr_raadgiver, ex, ROOT, date(2024, 6, 17)) == pytest.approx(1.0)


def test_sager_pr_raadgiver_zero_fte_is_null() -> None:
    # one active assigned case, but the only employee is a teamleder: 1 / 0 → null
    ex = extract(
        date(2024, 6, 14),
        employees=[employee("t", "A", role="teamleder")],
        cases=[case("c1", "A", "t", date(2024, 1, 1))],
    )
    assert value(sager_pr_raadgiver, ex, ROOT) is None
    assert value(aktive_sager, ex, ROOT) == 1


def test_frister_overholdt_pct(ex: Extract) -> None:
    # eligible (due in YTD): d1 d2 d3 d4 d5 d6 d9 d10 d11 = 9; met: d1 d2 d9 d10 = 4 → 44.44…
    assert value(frister_overholdt_pct, ex, ROOT) == pytest.approx(4 / 9 * 100)
    # A: eligible d1..d5, d11 = 6, met d1 d2 = 2 → 33.33…; B: d6 d9 d10 = 3, met 2 → 66.66…
    # The mean of the teams (50) is not the root's figure: recomputed, not averaged.
    assert value(frister_overholdt_pct, ex, A) == pytest.approx(2 / 6 * 100)
    assert value(frister_overholdt_pct, ex, B) == pytest.approx(2 / 3 * 100)


def test_frister_caseworker_scope(ex: Extract) -> None:
    # e1 has c1 (and c3): d1..d5 eligible = 5, met 2 → 40
    assert value(frister_overholdt_pct, ex, Scope.caseworker("e1")) == pytest.approx(40.0)
    # e2 has c2: d11 late → 0 / 1 = 0 (a zero numerator is 0, not null)
    assert value(frister_overholdt_pct, ex, Scope.caseworker("e2")) == 0.0


def test_undersoegelser_and_opfoelgninger(ex: Extract) -> None:
    # undersoegelse eligible: d1 d2 d3 d10 (d7 is last year) = 4; met d1 d2 d10 = 3 → 75
    assert value(undersoegelser_rettidige_pct, ex, ROOT) == pytest.approx(75.0)
    # opfoelgning eligible: d4 d5 d9 (d8 due after as_of) = 3; met d9 → 33.33…
    assert value(opfoelgninger_rettidige_pct, ex, ROOT) == pytest.approx(100 / 3)
    # B has opfoelgning d9 only (met) → 100; A: d4 d5 → 0
    assert value(opfoelgninger_rettidige_pct, ex, B) == pytest.approx(100.0)
    assert value(opfoelgninger_rettidige_pct, ex, A) == 0.0


def test_deadline_ratios_without_eligible_are_null(ex: Extract) -> None:
    # e3's cases c5, c6 at 31 Dec 2023 → YTD = 2023-01-01 … 2023-12-31: d7 (due 31 Dec 2023) is
    # the only one; it is not done: 0 / 1 = 0. At 30 Dec 2023 nothing is due yet: 0 / 0 → null.
    cw = Scope.caseworker("e3")
    assert value(frister_overholdt_pct, ex, cw, date(2023, 12, 31)) == 0.0
    assert value(frister_overholdt_pct, ex, cw, date(2023, 12, 30)) is None
    # no opfoelgning in A's YTD at 1 March (d4 and d5 are due in June) → null
    assert value(opfoelgninger_rettidige_pct, ex, A, date(2024, 3, 1)) is None
    # no deadline at all for the teamleder's (empty) case list
    assert value(undersoegelser_rettidige_pct, ex, Scope.caseworker("e6")) is None


def test_frister_overskredne(ex: Extract) -> None:
    # due before as_of and (not done or done after as_of): d5 (done 20 June), d6, d7 = 3.
    # Not: d3 (done late, but before as_of), d4 (due today), d11 (done on as_of), d8 (future)
    assert value(frister_overskredne, ex, ROOT) == 3
    assert value(frister_overskredne, ex, A) == 1  # d5
    assert value(frister_overskredne, ex, B) == 2  # d6, d7
    assert value(frister_overskredne, ex, Scope.caseworker("e2")) == 0  # a count: 0, not null
    # 15 June: d4 (due 14 June, open) becomes overdue → 4
    assert value(frister_overskredne, ex, ROOT, date(2024, 6, 15)) == 4
    # 20 June: d5 done on 20 June → no longer overdue; d4, d6, d7 → 3 (d8 due today)
    assert value(frister_overskredne, ex, ROOT, date(2024, 6, 20)) == 3


def test_met_uses_done_as_known_at_as_of(ex: Extract) -> None:
    # At 9 June: d5 (due 10 June) is not yet eligible. Eligible for A: d1 d2 d3 = 3, met 2.
    assert value(frister_overholdt_pct, ex, A, date(2024, 6, 9)) == pytest.approx(2 / 3 * 100)


def test_subtree_of_a_middle_unit() -> None:
    # K → F → (A, B); K → C. F's subtree is F, A, B: cases a1 (A), b1 (B), f1 (F itself) = 3;
    # c1 (C) only at K. A caseworker's scope crosses units: e1 has a1 and c1.
    org = {
        "unit_id": ["K", "F", "A", "B", "C"],
        "parent_id": [None, "K", "F", "F", "K"],
        "name": ["K", "F", "A", "B", "C"],
        "level": ["kommune", "afdeling", "team", "team", "team"],
    }
    ex = make_extract(
        as_of=AS_OF,
        org_units=pl.DataFrame(org),
        employees=frame("employees", [employee("e1", "A")]),
        cases=frame(
            "cases",
            [
                case("a1", "A", "e1", date(2024, 1, 1)),
                case("b1", "B", None, date(2024, 1, 1)),
                case("f1", "F", None, date(2024, 1, 1)),
                case("c1", "C", "e1", date(2024, 1, 1)),
            ],
        ),
    )
    assert ex.rejected_total == 0
    assert value(aktive_sager, ex, Scope.unit("F")) == 3
    assert value(aktive_sager, ex, Scope.unit("A")) == 1
    assert value(aktive_sager, ex, Scope.unit("K")) == 4
    assert value(aktive_sager, ex, Scope.caseworker("e1")) == 2
    # F: 1 assigned case (a1) / e1's 1.0 FTE (e1 is in A, inside F) = 1; C has no staff → null
    assert value(sager_pr_raadgiver, ex, Scope.unit("F")) == pytest.approx(1.0)
    assert value(sager_pr_raadgiver, ex, Scope.unit("C")) is None


def test_sager_pr_raadgiver_at_several_days_in_one_pass(ex: Extract) -> None:
    """The trend's grouped pass (metrics.trends) gives the hand-worked values above, with e2
    employed on her last day (14 June) and e4 only from her first (15 June)."""
    from metrics.registry import values_at

    got = [
        v.value
        for v in values_at(ex, "sager_pr_raadgiver", ROOT, [AS_OF, date(2024, 6, 15), date(2024, 6, 17)])
    ]
    # 15 June: e2 gone, e4 hired: FTE 3; active assigned c1, c2, c3 (opened 15 June), c5 (closes
    # the 15th: not active) = 3 → 1.0
    assert got == [pytest.approx(1.2), pytest.approx(1.0), pytest.approx(1.0)]
