"""Who may see what. Enforced here, in the data layer: every function that returns
case-level or person-level rows takes a Viewer and can only return rows in its scope.

- raadgiver: case rows of their own cases; aggregate figures for their own unit's subtree.
- teamleder, leder: everything in their unit's subtree.
- administration: aggregate figures for the whole organisation, no case-level rows.
- system: the command line and benchmarks, run by whoever holds the extract files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

import polars as pl

from metrics.extract import Extract
from metrics.kpis import employed_on
from metrics.org import org_tree

Role = Literal["raadgiver", "teamleder", "leder", "administration", "system"]
ROLE_LABELS: dict[str, str] = {
    "raadgiver": "Rådgiver",
    "teamleder": "Teamleder",
    "leder": "Leder",
    "administration": "Administration",
    "system": "System",
}


class AccessDenied(PermissionError):
    """The viewer may not see the unit, case or person asked for."""

    def __init__(self, what: str, target: str) -> None:
        super().__init__(f"ingen adgang til {what} {target}")
        self.what = what
        self.target = target


@dataclass(frozen=True)
class Viewer:
    employee_id: str | None
    name: str
    role: Role
    unit_id: str | None
    email: str | None = None
    demo: bool = False  # chosen with "vis som" on a synthetic extract, not logged in

    @classmethod
    def system(cls) -> Viewer:
        return cls(None, "system", "system", None)

    @property
    def sees_case_rows(self) -> bool:
        return self.role != "administration"

    @property
    def sees_only_own_rows(self) -> bool:
        """A caseworker's person- and case-level rows are her own (see _row_filter)."""
        return self.role == "raadgiver"


def _viewer_from_row(row: dict[str, object]) -> Viewer:
    return Viewer(
        employee_id=str(row["employee_id"]),
        name=str(row["name"]),
        role=row["role"],  # type: ignore[arg-type]
        unit_id=str(row["unit_id"]),
        email=None if row["email"] is None else str(row["email"]),
    )


def viewer_for_email(ex: Extract, email: str, as_of: date | None = None) -> Viewer | None:
    """The employee with this login email (case-insensitive), employed at as_of; None if there is none."""
    wanted = email.strip().lower()
    if not wanted:  # an empty claim must never match an empty email cell
        return None
    day = as_of or ex.as_of
    hits = ex["employees"].filter(
        (pl.col("email").str.strip_chars().str.to_lowercase() == wanted) & employed_on(day)
    )
    if hits.height != 1:
        return None
    return _viewer_from_row(hits.row(0, named=True))


def viewer_for_employee(ex: Extract, employee_id: str, as_of: date | None = None) -> Viewer | None:
    day = as_of or ex.as_of
    hits = ex["employees"].filter((pl.col("employee_id") == employee_id) & employed_on(day))
    if hits.height != 1:
        return None
    return _viewer_from_row(hits.row(0, named=True))


def aggregate_root(ex: Extract, viewer: Viewer) -> str:
    """The top unit whose aggregate figures the viewer may see."""
    tree = org_tree(ex)
    if viewer.role in ("system", "administration") or viewer.unit_id is None:
        return tree.root
    return viewer.unit_id


def aggregate_units(ex: Extract, viewer: Viewer) -> frozenset[str]:
    return org_tree(ex).subtree(aggregate_root(ex, viewer))


def can_see_unit(ex: Extract, viewer: Viewer, unit_id: str) -> bool:
    return unit_id in aggregate_units(ex, viewer)


def require_unit(ex: Extract, viewer: Viewer, unit_id: str) -> None:
    if not can_see_unit(ex, viewer, unit_id):
        raise AccessDenied("enheden", unit_id)


def _row_filter(ex: Extract, viewer: Viewer, own: str) -> pl.Expr:
    """Everything for system, nothing for administration, the rows whose `own` column is the
    caseworker for a caseworker, and the subtree (by unit_id) for leaders."""
    if viewer.role == "system":
        return pl.lit(True)
    if viewer.role == "administration":
        return pl.lit(False)
    if viewer.role == "raadgiver":
        return pl.col(own) == viewer.employee_id
    units = pl.Series(sorted(org_tree(ex).subtree(viewer.unit_id or org_tree(ex).root)), dtype=pl.String)
    return pl.col("unit_id").is_in(units.implode())


def case_row_filter(ex: Extract, viewer: Viewer) -> pl.Expr:
    """A filter for case-based frames (with unit_id and caseworker_id) keeping the viewer's rows."""
    return _row_filter(ex, viewer, "caseworker_id")


def can_see_case(ex: Extract, viewer: Viewer, case_id: str) -> bool:
    return ex["cases"].filter((pl.col("case_id") == case_id) & case_row_filter(ex, viewer)).height == 1


def require_case(ex: Extract, viewer: Viewer, case_id: str) -> None:
    if not can_see_case(ex, viewer, case_id):
        raise AccessDenied("sagen", case_id)


def can_see_caseworker(ex: Extract, viewer: Viewer, employee_id: str) -> bool:
    """Whether the viewer may see this caseworker's case list."""
    if viewer.role == "system":
        return True
    if viewer.role == "administration":
        return False
    if viewer.role == "raadgiver":
        return employee_id == viewer.employee_id
    emp = ex["employees"].filter(pl.col("employee_id") == employee_id)
    return emp.height == 1 and can_see_unit(ex, viewer, emp["unit_id"][0])


def require_caseworker(ex: Extract, viewer: Viewer, employee_id: str) -> None:
    if not can_see_caseworker(ex, viewer, employee_id):
        raise AccessDenied("rådgiveren", employee_id)


def person_row_filter(ex: Extract, viewer: Viewer) -> pl.Expr:
    """A filter for person-level staff rows (employees, absences): own rows for a caseworker,
    the subtree for leaders, nothing for administration."""
    return _row_filter(ex, viewer, "employee_id")
