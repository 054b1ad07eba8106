"""Staff KPIs (kpis.md, section Staff), hand-worked values.

Sick leave at as_of 2024-01-12 (a Friday): YTD = Mon 1 Jan … Fri 12 Jan 2024 = 10 weekdays
(6 and 7 January are a weekend).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from metrics.extract import Extract
from metrics.kpis import personaleomsaetning_pct, sygefravaer_pct
from metrics.scope import Scope
from tests.conftest import clean_extract as extract

ROOT, A, B = Scope.unit("K"), Scope.unit("A"), Scope.unit("B")
SICK_AS_OF = date(2024, 1, 12)


def employee(
    eid: str, unit: str = "A", fte: float = 1.0, start: date = date(2020, 1, 1), end: date | None = None
) -> dict[str, Any]:
    return {
        "employee_id": eid,
        "name": eid,
        "email": None,
        "unit_id": unit,
        "role": "raadgiver",
        "fte": fte,
        "employed_from": start,
        "employed_to": end,
    }


def spell(eid: str, start: date, end: date, kind: str = "egen_sygdom") -> dict[str, Any]:
    return {"employee_id": eid, "kind": kind, "start_on": start, "end_on": end}


@pytest.fixture(scope="module")
def sick() -> Extract:
    return extract(
        date(2024, 1, 31),
        employees=[
            employee("e1"),  # scheduled 10 × 1.0 = 10
            employee("e2", fte=0.5),  # 10 × 0.5 = 5
            employee("e3", start=date(2024, 1, 8)),  # hired Mon 8 Jan: 8..12 = 5
            employee("e4", end=date(2024, 1, 3)),  # left Wed 3 Jan: 1..3 = 3
            employee("e5", start=date(2024, 1, 15)),  # hired after as_of: 0
            employee("e6", unit="B"),  # 10
        ],
        absences=[
            # e1: crosses the new year (→ 1..3 Jan) and overlaps a second spell 2..5 Jan:
            # union 1..5 Jan = 5 weekdays, each counted once
            spell("e1", date(2023, 12, 28), date(2024, 1, 3)),
            spell("e1", date(2024, 1, 2), date(2024, 1, 5)),
            spell("e1", date(2024, 1, 8), date(2024, 1, 9), kind="barns_sygdom"),  # not own sickness
            # e2: a weekend only → 0; a spell crossing as_of → 11, 12 Jan = 2 days × 0.5 = 1.0
            spell("e2", date(2024, 1, 6), date(2024, 1, 7)),
            spell("e2", date(2024, 1, 11), date(2024, 1, 20)),
            # e3: sick from before hiring → only employed days 8, 9 Jan = 2
            spell("e3", date(2024, 1, 3), date(2024, 1, 9)),
            # e4: 2..10 Jan but employed to 3 Jan → 2, 3 Jan = 2
            spell("e4", date(2024, 1, 2), date(2024, 1, 10)),
            # e5: after as_of and before being employed → 0
            spell("e5", date(2024, 1, 15), date(2024, 1, 16)),
            # e6: 10 Jan and 10..12 Jan overlap (same start) → 10, 11, 12 = 3
            spell("e6", date(2024, 1, 10), date(2024, 1, 10)),
            spell("e6", date(2024, 1, 10), date(2024, 1, 12)),
        ],
    )


def v(fn: Any, ex: Extract, scope: Scope, as_of: date) -> float | None:
    return fn(ex, scope, as_of).value


def test_sygefravaer_team_a(sick: Extract) -> None:
    # scheduled = e1 10 + e2 5 + e3 5 + e4 3 + e5 0 = 23
    # sick      = e1 5 + e2 1.0 + e3 2 + e4 2 = 10 → 10/23 × 100 = 43.478…
    assert v(sygefravaer_pct, sick, A, SICK_AS_OF) == pytest.approx(10 / 23 * 100)


def test_sygefravaer_recomputed_at_root(sick: Extract) -> None:
    # B: 3 / 10 = 30 %. Root: (10 + 3) / (23 + 10) = 13/33 = 39.39… (mean of teams: 36.74…)
    assert v(sygefravaer_pct, sick, B, SICK_AS_OF) == pytest.approx(30.0)
    assert v(sygefravaer_pct, sick, ROOT, SICK_AS_OF) == pytest.approx(13 / 33 * 100)


def test_sygefravaer_half_time_caseworker_scope(sick: Extract) -> None:
    # e2 alone: scheduled 10 × 0.5 = 5, sick 2 × 0.5 = 1 → 20 %
    assert v(sygefravaer_pct, sick, Scope.caseworker("e2"), SICK_AS_OF) == pytest.approx(20.0)


def test_sygefravaer_nobody_employed_is_null(sick: Extract) -> None:
    # e5 is not employed in YTD at 12 Jan: scheduled 0 → null
    assert v(sygefravaer_pct, sick, Scope.caseworker("e5"), SICK_AS_OF) is None


def test_sygefravaer_on_a_saturday_and_new_year(sick: Extract) -> None:
    # as_of Sat 6 Jan: YTD weekdays 1..5 Jan = 5.
    # scheduled A = e1 5 + e2 2.5 + e3 0 + e4 3 (1..3 Jan) = 10.5
    # sick A = e1 5 (1..5) + e2 0 + e4 2 (2, 3) = 7 → 7/10.5 × 100 = 66.66…
    assert v(sygefravaer_pct, sick, A, date(2024, 1, 6)) == pytest.approx(7 / 10.5 * 100)
    # as_of Fri 29 Dec 2023 (YTD = 2023, 260 weekdays; 30, 31 Dec are a weekend, so all 260 fall
    # in 1 Jan..29 Dec). Employed all year: e1 1 + e2 0.5 + e4 1 + e6 1 = 3.5 FTE (e3, e5 hired
    # 2024) → scheduled 3.5 × 260 = 910. Sick: e1's spell from 28 Dec → 28, 29 Dec = 2 → 2/910.
    assert v(sygefravaer_pct, sick, ROOT, date(2023, 12, 29)) == pytest.approx(2 / (3.5 * 260) * 100)


@pytest.fixture(scope="module")
def turnover() -> Extract:
    # as_of 2024-12-31; 2024 is a leap year, so as_of − 365 days = 2024-01-01 (not 2023-12-31)
    return extract(
        date(2025, 1, 31),
        employees=[
            employee("a"),  # employed on both days
            employee("b", end=date(2024, 1, 1)),  # left on the window's open start: not a leaver
            employee("c", end=date(2024, 1, 2)),  # leaver
            employee("d", end=date(2024, 12, 31)),  # leaves on as_of: leaver, employed on as_of
            employee("e", start=date(2024, 3, 1)),  # hired in the year
            employee("f", start=date(2024, 3, 1), end=date(2024, 9, 30)),  # came and went: leaver
            employee("g", start=date(2025, 1, 10)),  # hired after as_of
            employee("h", end=date(2023, 12, 31)),  # left before the window
            employee("i", fte=0.5, end=date(2025, 1, 15)),  # leaves after as_of: not (yet) a leaver
            employee("j", unit="B", fte=0.5),  # team B: half time counts as one head
        ],
    )


def test_personaleomsaetning_leap_year(turnover: Extract) -> None:
    # A: leavers in (2024-01-01, 2024-12-31] = c, d, f = 3
    # headcount(2024-01-01) = a, b, c, d, i = 5; headcount(2024-12-31) = a, d, e, i = 4
    # 3 / ((5 + 4) / 2) × 100 = 66.66…
    # (With 366 days — 2023-12-31 — b would be a leaver and h in the headcount: 4 / 5.5.)
    assert v(personaleomsaetning_pct, turnover, A, date(2024, 12, 31)) == pytest.approx(3 / 4.5 * 100)
    # root adds j to both headcounts: 3 / ((6 + 5) / 2) × 100
    assert v(personaleomsaetning_pct, turnover, ROOT, date(2024, 12, 31)) == pytest.approx(3 / 5.5 * 100)


def test_personaleomsaetning_later_as_of(turnover: Extract) -> None:
    # as_of 2025-01-20: window (2024-01-21, 2025-01-20]. Leavers: d, f, i (15 Jan 2025) = 3
    # (c left 2 Jan 2024, outside). headcount(2024-01-21) = a, d, i = 3 (b, c gone; e, f not yet);
    # headcount(2025-01-20) = a, e, g = 3 → 3 / 3 × 100 = 100
    assert v(personaleomsaetning_pct, turnover, A, date(2025, 1, 20)) == pytest.approx(100.0)


def test_personaleomsaetning_no_staff_is_null(turnover: Extract) -> None:
    # B on 2019-06-01: j not yet employed on either day → 0 / 0 → null
    assert v(personaleomsaetning_pct, turnover, B, date(2019, 6, 1)) is None
    # B now: no leavers, headcount 1 and 1 → 0 (a real zero)
    assert v(personaleomsaetning_pct, turnover, B, date(2024, 12, 31)) == 0.0


def test_sygefravaer_nested_and_adjacent_spells() -> None:
    # 1..10 Jan with 2..3 and 5..6 inside it, then 11..12 adjacent: the union is 1..12 Jan,
    # all 10 weekdays of YTD at 12 Jan → 10 / 10 × 100 = 100 (never more)
    ex = extract(
        date(2024, 1, 31),
        employees=[employee("e1")],
        absences=[
            spell("e1", date(2024, 1, 1), date(2024, 1, 10)),
            spell("e1", date(2024, 1, 2), date(2024, 1, 3)),
            spell("e1", date(2024, 1, 5), date(2024, 1, 6)),
            spell("e1", date(2024, 1, 11), date(2024, 1, 12)),
        ],
    )
    assert v(sygefravaer_pct, ex, ROOT, SICK_AS_OF) == pytest.approx(100.0)
    # at Fri 5 Jan: 5 weekdays, all sick → 100; at Mon 15 Jan: 11 weekdays, 10 sick
    assert v(sygefravaer_pct, ex, ROOT, date(2024, 1, 5)) == pytest.approx(100.0)
    assert v(sygefravaer_pct, ex, ROOT, date(2024, 1, 15)) == pytest.approx(10 / 11 * 100)


def test_personaleomsaetning_at_several_days_in_one_pass(turnover: Extract) -> None:
    """The trend's grouped pass (metrics.trends) gives the hand-worked values above: b, who left
    on the window's open start, is no leaver there either."""
    from metrics.registry import values_at

    days = [date(2024, 6, 30), date(2024, 12, 31), date(2025, 1, 20)]
    got = [x.value for x in values_at(turnover, "personaleomsaetning_pct", A, days)]
    # 30 Jun 2024: window (2023-07-01, 2024-06-30]; leavers h (31 Dec 2023), b (1 Jan 2024),
    # c (2 Jan) = 3; headcount(2023-07-01) = a, b, c, d, h, i = 6; headcount(2024-06-30) =
    # a, d, e, f, i = 5 → 3 / 5.5 × 100
    assert got == [pytest.approx(3 / 5.5 * 100), pytest.approx(3 / 4.5 * 100), pytest.approx(100.0)]
