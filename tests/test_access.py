"""Access rules in the data layer, on the hand-made organisation of tests/support_access.py.

Expected sets are read off the tree and case list in that module's docstring.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from metrics import casework
from metrics.access import (
    AccessDenied,
    Viewer,
    aggregate_units,
    can_see_case,
    can_see_caseworker,
    case_row_filter,
    person_row_filter,
    require_case,
    require_caseworker,
    require_unit,
    viewer_for_email,
    viewer_for_employee,
)
from metrics.extract import Extract
from tests.conftest import make_extract
from tests.support_access import AS_OF, EMAIL, tables


@pytest.fixture(scope="module")
def ex() -> Extract:
    return make_extract(as_of=AS_OF, **tables())


def who(ex: Extract, employee_id: str) -> Viewer:
    v = viewer_for_employee(ex, employee_id)
    assert v is not None
    return v


def visible_cases(ex: Extract, viewer: Viewer) -> set[str]:
    return set(ex["cases"].filter(case_row_filter(ex, viewer))["case_id"])


@pytest.mark.parametrize(
    ("employee_id", "cases"),
    [
        ("R1", {"C1", "C5"}),  # own cases, wherever they lie (C5 sits in D)
        ("R2", {"C2"}),
        ("R3", {"C3"}),
        ("T1", {"C1", "C2", "C4"}),  # subtree(TA) = {TA}: C5 (D) and C3 (TB) are outside
        ("L1", {"C1", "C2", "C3", "C4", "C5"}),  # subtree(D) = {D, TA, TB}
        ("AD", set()),  # administration: no case rows at all
    ],
)
def test_case_rows_by_role(ex: Extract, employee_id: str, cases: set[str]) -> None:
    viewer = who(ex, employee_id)
    assert visible_cases(ex, viewer) == cases
    for case_id in ["C1", "C2", "C3", "C4", "C5"]:
        assert can_see_case(ex, viewer, case_id) == (case_id in cases)
        if case_id not in cases:
            with pytest.raises(AccessDenied):
                require_case(ex, viewer, case_id)


@pytest.mark.parametrize(
    ("employee_id", "units"),
    [
        ("R1", {"TA"}),
        ("T1", {"TA"}),
        ("R3", {"TB"}),
        ("L1", {"D", "TA", "TB"}),
        ("AD", {"K", "D", "TA", "TB"}),  # aggregates of the whole tree
    ],
)
def test_aggregate_units(ex: Extract, employee_id: str, units: set[str]) -> None:
    viewer = who(ex, employee_id)
    assert aggregate_units(ex, viewer) == units
    for u in {"K", "D", "TA", "TB"} - units:
        with pytest.raises(AccessDenied):
            require_unit(ex, viewer, u)


def test_caseworker_lists(ex: Extract) -> None:
    assert can_see_caseworker(ex, who(ex, "R1"), "R1")
    assert not can_see_caseworker(ex, who(ex, "R1"), "R2")
    assert can_see_caseworker(ex, who(ex, "T1"), "R2")
    assert not can_see_caseworker(ex, who(ex, "T1"), "R3")  # R3 sits in TB
    assert can_see_caseworker(ex, who(ex, "L1"), "R3")
    assert not can_see_caseworker(ex, who(ex, "AD"), "R1")
    with pytest.raises(AccessDenied):
        require_caseworker(ex, who(ex, "R1"), "R2")


def test_person_rows(ex: Extract) -> None:
    def people(employee_id: str) -> set[str]:
        return set(ex["employees"].filter(person_row_filter(ex, who(ex, employee_id)))["employee_id"])

    assert people("R1") == {"R1"}
    assert people("T1") == {"T1", "R1", "R2", "OLD"}
    assert people("AD") == set()
    assert people("L1") == set(ex["employees"]["employee_id"])  # everyone sits in D's subtree


def test_viewer_for_email(ex: Extract) -> None:
    v = viewer_for_email(ex, "  lise.LEDER@testkommune.DK ")
    assert v is not None and (v.employee_id, v.role, v.unit_id) == ("L1", "leder", "D")
    assert viewer_for_email(ex, "nobody@testkommune.dk") is None
    # left on 31 Jan 2024: no access at the extract's as_of, but was employed on 1 Jan 2024
    assert viewer_for_email(ex, EMAIL["OLD"]) is None
    old = viewer_for_email(ex, EMAIL["OLD"], as_of=date(2024, 1, 1))
    assert old is not None and old.employee_id == "OLD"
    # two employees share an email (case-insensitively): refuse rather than guess
    assert viewer_for_email(ex, "dup@testkommune.dk") is None
    # an empty claim never matches
    assert viewer_for_email(ex, "") is None
    assert viewer_for_email(ex, "   ") is None


def test_casework_functions_stay_in_scope(ex: Extract) -> None:
    """The case-level functions of metrics.casework return only the viewer's rows."""
    r1, t1, ad = who(ex, "R1"), who(ex, "T1"), who(ex, "AD")
    assert set(casework.cases_visible(ex, r1, AS_OF)["case_id"]) <= {"C1", "C5"}
    assert set(casework.cases_visible(ex, t1, AS_OF)["case_id"]) <= {"C1", "C2", "C4"}
    assert casework.cases_visible(ex, ad, AS_OF).height == 0
    assert set(casework.caseworkers_visible(ex, r1, AS_OF)["employee_id"]) == {"R1"}
    assert "R3" not in set(casework.caseworkers_visible(ex, t1, AS_OF)["employee_id"])
    assert casework.caseworkers_visible(ex, ad, AS_OF).height == 0
    for call in (
        lambda: casework.caseworker_cases(ex, r1, "R2", AS_OF),
        lambda: casework.caseworker_cases(ex, t1, "R3", AS_OF),
        lambda: casework.caseworker_cases(ex, ad, "R1", AS_OF),
        lambda: casework.case_detail(ex, r1, "C2", AS_OF),
        lambda: casework.case_detail(ex, t1, "C3", AS_OF),
        lambda: casework.case_detail(ex, ad, "C1", AS_OF),
    ):
        with pytest.raises(AccessDenied):
            call()
    own = casework.caseworker_cases(ex, r1, "R1", AS_OF)
    assert set(own["case_id"]) <= {"C1", "C5"}
    assert pl.Series(own["case_id"]).is_in(["C1", "C5"]).all()
