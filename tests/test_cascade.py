"""The one-pass cascade (metrics.grouped) equals evaluating every child unit on its own,
for every KPI, on the generated extract and on hand-made ones; `scorecard --children`."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest

from metrics import registry
from metrics.extract import Extract
from metrics.grouped import GROUPED, by_child
from metrics.org import org_tree
from metrics.scope import Scope
from metrics.scorecard import DEFAULT_SCORECARD, cascade, evaluate_scorecard, load_scorecard
from metrics.values import KpiValue
from tests.conftest import FIXTURE_END, make_extract

MAIN = Path(__file__).resolve().parent.parent


def _same(got: KpiValue, expected: KpiValue, what: str) -> None:
    """Equal value and basis; floats up to the last bits (polars sums in parallel, so the
    order of partial sums can differ between a grouped and an ungrouped sum)."""
    assert got.basis == expected.basis, what
    if expected.value is None:
        assert got.value is None, what
    else:
        assert got.value == pytest.approx(expected.value, rel=1e-12, abs=1e-12), what


def _check_all(ex: Extract, unit: str, as_of: date) -> int:
    kids = org_tree(ex).children.get(unit, ())
    checked = 0
    for metric in registry.metric_ids(ex):
        got = by_child(ex, metric, unit, as_of)
        assert set(got) == set(kids), metric
        for c in kids:
            _same(got[c], registry.compute(ex, metric, Scope.unit(c), as_of), f"{metric} {c} {as_of}")
            checked += 1
    return checked


def test_every_formula_kpi_has_a_grouped_form() -> None:
    assert set(GROUPED) == set(registry.FORMULA_IDS)


@pytest.mark.parametrize("as_of", [FIXTURE_END, date(2026, 1, 31), date(2025, 12, 31), date(2025, 2, 28)])
def test_one_pass_equals_per_unit_on_the_generated_extract(small_extract: Extract, as_of: date) -> None:
    tree = org_tree(small_extract)
    # the root, and the first unit with children on every level below it
    units = [tree.root]
    for level in ("forvaltning", "afdeling"):
        parents = sorted(u for u, lv in tree.level.items() if lv == level and tree.children.get(u))
        units += parents[:1]
    checked = sum(_check_all(small_extract, u, as_of) for u in units)
    assert checked >= 3 * len(registry.metric_ids(small_extract))


def _ts(day: str, hour: int) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour)


AS_OF = date(2024, 6, 14)


@pytest.fixture(scope="module")
def tree_ex() -> Extract:
    """K (kommune) with D (afdeling: teams T1, T2) and E (team without any rows). Facts are also
    registered on K itself (a case, an employee, a notification, a budget, a measurement)."""
    org = {
        "unit_id": ["K", "D", "T1", "T2", "E"],
        "parent_id": [None, "K", "D", "D", "K"],
        "name": ["Kommune", "Afdeling D", "Team 1", "Team 2", "Team E"],
        "level": ["kommune", "afdeling", "team", "team", "team"],
    }
    cases = {
        "case_id": ["c1", "c2", "c3", "c4", "cK"],
        "child_id": ["x1", "x2", "x3", "x4", "xK"],
        "unit_id": ["T1", "T2", "T2", "T2", "K"],
        "caseworker_id": ["e1", "e2", None, "e2", "eK"],
        "birth_year": [2012, 2013, 2014, 2015, 2016],
        "opened_on": [date(2023, 1, 1)] * 4 + [date(2024, 1, 1)],
        "closed_on": [None, None, date(2024, 3, 1), None, None],
    }
    employees = {
        "employee_id": ["e1", "e2", "e3", "eK"],
        "name": ["A", "B", "C", "K"],
        "email": [None] * 4,
        "unit_id": ["T1", "T2", "T2", "K"],
        "role": ["raadgiver", "raadgiver", "leder", "raadgiver"],
        "fte": [1.0, 0.5, 1.0, 1.0],
        "employed_from": [date(2020, 1, 1)] * 4,
        "employed_to": [None, None, date(2024, 2, 29), None],
    }
    absences = {
        "employee_id": ["e1", "e2", "e2"],
        "kind": ["egen_sygdom"] * 3,
        "start_on": [date(2024, 2, 5), date(2024, 3, 4), date(2024, 3, 6)],
        "end_on": [date(2024, 2, 9), date(2024, 3, 7), date(2024, 3, 8)],  # e2's overlap counts once
    }
    kinds = {
        "kind_id": ["k1"],
        "name": ["Plejefamilie"],
        "category": ["anbringelse"],
        "account": ["5.28.20"],
        "legal_basis": ["§ 52"],
    }
    interventions = {
        "intervention_id": ["i1", "i2", "i4", "iK"],
        "case_id": ["c1", "c2", "c4", "cK"],
        "kind_id": ["k1"] * 4,
        "provider": [None] * 4,
        "decided_on": [date(2023, 1, 1)] * 3 + [date(2024, 1, 1)],
        "start_on": [date(2023, 1, 1)] * 3 + [date(2024, 1, 1)],
        "end_on": [None, None, date(2024, 9, 30), None],
        "monthly_cost": [10_000.0, 20_000.0, 5_000.0, 1_000.0],
    }
    payments = {
        "payment_id": ["p1", "p2", "p3", "p4", "p5", "pK"],
        "intervention_id": ["i1", "i1", "i2", "i4", "i1", "iK"],
        "period": [date(2024, m, 1) for m in (1, 2, 1, 1)] + [date(2023, 5, 1), date(2024, 1, 1)],
        "posted_on": [date(2024, m, 5) for m in (1, 2, 1, 1)] + [date(2023, 5, 5), date(2024, 1, 5)],
        "amount": [10_000.0, 10_000.0, 20_000.0, 5_000.0, 8_000.0, 1_000.0],
    }
    budgets = {
        "year": [2024, 2024, 2024],
        "unit_id": ["T1", "T2", "K"],
        "account": ["5.28.20"] * 3,
        "amount": [120_000.0, 300_000.0, 50_000.0],
    }
    deadlines = {
        "deadline_id": ["d1", "d2", "d3", "d4"],
        "case_id": ["c1", "c2", "c4", "c4"],
        "kind": ["undersoegelse", "undersoegelse", "opfoelgning", "undersoegelse"],
        "started_on": [date(2024, 1, 2)] * 4,
        "due_on": [date(2024, 2, 10), date(2024, 3, 15), date(2024, 4, 20), date(2024, 5, 1)],
        "done_on": [date(2024, 2, 1), date(2024, 3, 20), None, date(2024, 5, 1)],
    }
    notifications = {
        "notification_id": ["n1", "n2", "nK"],
        "child_id": ["x1", "x2", "xK"],
        "case_id": [None, None, None],
        "unit_id": ["T1", "T2", "K"],
        "source": ["skole", "politi", "skole"],
        "received_at": [_ts("2024-03-01", 8), _ts("2024-03-02", 8), _ts("2024-03-03", 8)],
        "assessed_at": [_ts("2024-03-01", 20), _ts("2024-03-04", 9), _ts("2024-03-03", 9)],
    }
    measurements = {
        "kpi_id": ["brugertilfredshed"] * 4,
        "unit_id": ["T1", "T2", "D", "K"],
        "period_end": [date(2024, 5, 31), date(2024, 5, 31), date(2023, 11, 30), date(2024, 5, 31)],
        "value": [4.0, 3.0, 2.0, 5.0],
        "respondents": [10, None, 7, 40],
    }
    ex = make_extract(
        AS_OF,
        org_units=org,
        cases=cases,
        employees=employees,
        absences=absences,
        intervention_kinds=kinds,
        interventions=interventions,
        payments=payments,
        budgets=budgets,
        deadlines=deadlines,
        notifications=notifications,
        measurements=measurements,
    )
    assert ex.rejected_total == 0, ex.report
    return ex


@pytest.mark.parametrize("as_of", [AS_OF, date(2024, 1, 31), date(2024, 3, 1)])
@pytest.mark.parametrize("unit", ["K", "D"])
def test_one_pass_equals_per_unit_by_hand(tree_ex: Extract, unit: str, as_of: date) -> None:
    assert _check_all(tree_ex, unit, as_of) == 2 * len(registry.metric_ids(tree_ex))


def test_cascade_values_by_hand(tree_ex: Extract) -> None:
    got = {m: by_child(tree_ex, m, "K", AS_OF) for m in registry.metric_ids(tree_ex)}
    # deadlines due in YTD under D: d1 met, d2 late, d3 open past due, d4 met on the day → 2 of 4,
    # one ratio of D's sums (T1 1/1, T2 1/3: their mean would be 66.7)
    assert got["frister_overholdt_pct"]["D"].value == pytest.approx(50.0)
    assert got["frister_overskredne"]["D"].value == 1.0  # d3
    # D: c1, c2, c4 active (c3 closed), all with a caseworker ÷ fte 1.0 + 0.5 (e3 is no raadgiver)
    assert got["sager_pr_raadgiver"]["D"].value == pytest.approx(3 / 1.5)
    # 2024 actual under D: 10,000 + 10,000 + 20,000 + 5,000 = 45,000 over cases c1, c2, c4
    assert got["udgift_pr_sag"]["D"].value == pytest.approx(15_000.0)
    # measurements: D's own value is from 2023-11-30 and stops the roll-up at D
    assert got["brugertilfredshed"]["D"].value == pytest.approx(2.0)
    # E has no rows: counts 0, ratios null
    assert got["aktive_sager"]["E"] == KpiValue(0.0, 0)
    for m in ("udgift_pr_sag", "frister_overholdt_pct", "underretninger_24t_pct", "sygefravaer_pct"):
        assert got[m]["E"].value is None, m
    # K's own case, notification and budget belong to no child: the children do not add up to K
    assert got["aktive_sager"]["D"].value + got["aktive_sager"]["E"].value == 3.0
    assert registry.compute(tree_ex, "aktive_sager", Scope.unit("K"), AS_OF).value == 4.0


def test_a_unit_without_children_has_no_cascade_rows(tree_ex: Extract) -> None:
    assert by_child(tree_ex, "aktive_sager", "T1", AS_OF) == {}
    card = load_scorecard(DEFAULT_SCORECARD)
    assert [r.unit_id for r in cascade(tree_ex, card, "T1", AS_OF)] == ["T1"]


# --- python -m metrics scorecard --children ------------------------------------------------


def _cli(*args: object) -> list[dict[str, object]]:
    p = subprocess.run(
        [sys.executable, "-m", "metrics", "scorecard", *map(str, args)],
        cwd=MAIN,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    return json.loads(p.stdout)


def test_cli_children_equals_each_child_evaluated(small_root: Path, small_extract: Extract) -> None:
    folder = small_root / FIXTURE_END.isoformat()
    tree = org_tree(small_extract)
    card = load_scorecard(DEFAULT_SCORECARD)
    got = _cli("--extract", folder, "--children", "--format", "json")
    kids = sorted(tree.children[tree.root], key=lambda u: (tree.name[u], u))
    expected = [r.as_json() for u in kids for r in evaluate_scorecard(small_extract, card, u, FIXTURE_END)]
    assert len(got) == len(kids) * len(card.kpis) > 0
    assert [{**r, "value": None} for r in got] == [{**r, "value": None} for r in expected]
    for g, e in zip(got, expected, strict=True):
        assert g["value"] == (None if e["value"] is None else pytest.approx(e["value"], rel=1e-12)), g


def test_cli_children_of_a_team_is_empty(small_root: Path, small_extract: Extract) -> None:
    folder = small_root / FIXTURE_END.isoformat()
    tree = org_tree(small_extract)
    team = sorted(u for u, lv in tree.level.items() if lv == "team")[0]
    assert _cli("--extract", folder, "--unit", team, "--children") == []
