"""Who may see what. Enforced here, in the data layer: every function that returns
case-level or person-level rows takes a Viewer and can only return rows in its scope.

- raadgiver: case rows of their own cases; aggregate figures for their own unit's subtree.
- teamleder, leder: everything in their unit's subtree.
- administration: aggregate figures for the whole organisation, no case-level rows.
- system: the command line and benchmarks, run by whoever holds the extract files.

Access follows the person as they are today: a viewer is looked up in the newest extract
that loads, and that lookup stamps their scope there on the Viewer (`Today`). An older
extract is then shown only within that scope, matched by unit ids: a unit that still exists
is visible if it is in today's scope; a unit that no longer exists only to a leader whose
scope today holds its nearest old ancestor that still exists. `aggregate_units` applies
this to whatever extract it is given, so pages, exports and compare all get it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Literal

import polars as pl

from metrics.extract import Extract
from metrics.org import OrgTree, org_tree
from metrics.scope import Scope
from metrics.staff import employed_on

Role = Literal["raadgiver", "teamleder", "leder", "administration", "system"]
LEADER_ROLES = frozenset({"teamleder", "leder"})
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
class Today:
    """Where the viewer stands in the newest extract that loads (today's truth)."""

    as_of: date
    units: frozenset[str]  # every unit of that extract
    scope: frozenset[str]  # the units the viewer may see there


@dataclass(frozen=True)
class Viewer:
    employee_id: str | None
    name: str
    role: Role
    unit_id: str | None
    email: str | None = None
    demo: bool = False  # chosen with "vis som" on a synthetic extract, not logged in
    today: Today | None = None  # scope in the newest extract; None: judged in each extract alone

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


def _viewer_from_row(ex: Extract, row: dict[str, object]) -> Viewer:
    viewer = Viewer(
        employee_id=str(row["employee_id"]),
        name=str(row["name"]),
        role=row["role"],  # type: ignore[arg-type]
        unit_id=str(row["unit_id"]),
        email=None if row["email"] is None else str(row["email"]),
    )
    return with_today(ex, viewer)


def with_today(newest: Extract, viewer: Viewer) -> Viewer:
    """The viewer with their scope in `newest` stamped on, so that every older extract is
    judged by it (see the module docstring)."""
    tree = org_tree(newest)
    units = frozenset(tree.parent)
    legacy = replace(viewer, today=None)
    return replace(viewer, today=Today(newest.as_of, units, _own_units(tree, legacy)))


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
    return _viewer_from_row(ex, hits.row(0, named=True))


def viewer_for_employee(ex: Extract, employee_id: str, as_of: date | None = None) -> Viewer | None:
    day = as_of or ex.as_of
    hits = ex["employees"].filter((pl.col("employee_id") == employee_id) & employed_on(day))
    if hits.height != 1:
        return None
    return _viewer_from_row(ex, hits.row(0, named=True))


def _own_units(tree: OrgTree, viewer: Viewer) -> frozenset[str]:
    """The viewer's subtree in this tree alone (everything for system and administration)."""
    if viewer.role in ("system", "administration") or viewer.unit_id is None:
        return tree.subtree(tree.root)
    if viewer.unit_id not in tree:
        return frozenset()
    return tree.subtree(viewer.unit_id)


def aggregate_units(ex: Extract, viewer: Viewer) -> frozenset[str]:
    """The units of `ex` whose figures the viewer may see: their subtree in the newest
    extract, carried over to `ex` by unit id (see the module docstring)."""
    tree = org_tree(ex)
    today = viewer.today
    if today is None:
        return _own_units(tree, viewer)
    if viewer.role in ("system", "administration") or today.scope >= today.units:
        return frozenset(tree.parent)  # the whole organisation today covers every old unit
    key = ("allowed_units", viewer.role in LEADER_ROLES, today)
    cached = ex._cache.get(key)
    if isinstance(cached, frozenset):
        return cached
    allowed: set[str] = set()
    for unit in tree.parent:
        if unit not in today.units and viewer.role not in LEADER_ROLES:
            continue  # a unit that is gone is for the leaders above it only
        u: str | None = unit
        while u is not None and u not in today.units:  # up to the nearest unit that still exists
            u = tree.parent.get(u)
        if u is not None and u in today.scope:
            allowed.add(unit)
    out = frozenset(allowed)
    ex._cache[key] = out
    return out


def aggregate_root(ex: Extract, viewer: Viewer) -> str:
    """The top unit whose aggregate figures the viewer may see (the first, in display order,
    if their scope carried over to an older extract is split). AccessDenied if none."""
    tree = org_tree(ex)
    allowed = aggregate_units(ex, viewer)
    if tree.root in allowed:
        return tree.root
    if viewer.today is None and viewer.unit_id in allowed:
        return viewer.unit_id
    for unit, _ in tree.depth_first():
        if unit in allowed and tree.parent.get(unit) not in allowed:
            return unit
    raise AccessDenied("udtrækket", ex.as_of.isoformat())


def within_for(ex: Extract, viewer: Viewer, unit_id: str) -> frozenset[str] | None:
    """The units of unit_id's subtree in `ex` the viewer may see, when that is not all of it (an
    older extract where part of the subtree lies outside today's scope); None when it is all."""
    subtree = org_tree(ex).subtree(unit_id)
    allowed = aggregate_units(ex, viewer)
    return None if subtree <= allowed else subtree & allowed


def scope_for(ex: Extract, viewer: Viewer | None, unit_id: str) -> Scope:
    """The scope of unit_id's aggregate figures in `ex` for this viewer: its subtree, without the
    units outside the viewer's scope today (see the module docstring). No viewer: the subtree."""
    return Scope.unit(unit_id, None if viewer is None else within_for(ex, viewer, unit_id))


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
    units = pl.Series(sorted(aggregate_units(ex, viewer)), dtype=pl.String)
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
