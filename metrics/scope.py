"""Scopes (a unit's subtree, or one caseworker's cases) and the scoped, enriched frames.

Per kpis.md: cases, interventions, payments and deadlines belong to the unit of
their case; notifications, employees, budgets and measurements to their own
unit_id. A caseworker scope means the cases whose caseworker_id is that employee;
for the tables that are not case-based it means: notifications and contacts linked
to those cases, and the caseworker as the only employee (their own absences).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import polars as pl

from metrics.extract import Extract
from metrics.org import org_tree

CASE_TABLES = ("cases", "interventions", "payments", "deadlines")
_SCOPED_CACHE_SIZE = 96
_LOCK = threading.Lock()


class UnknownScope(ValueError):
    """A unit or caseworker that is not in the extract."""


@dataclass(frozen=True)
class Scope:
    unit_id: str | None = None
    caseworker_id: str | None = None

    @classmethod
    def unit(cls, unit_id: str) -> Scope:
        return cls(unit_id=unit_id)

    @classmethod
    def caseworker(cls, employee_id: str) -> Scope:
        return cls(caseworker_id=employee_id)


def _enriched(ex: Extract, table: str) -> pl.DataFrame:
    """The table joined with what scoping and grouping need. Cached per extract."""
    key = f"enriched:{table}"
    hit = ex._cache.get(key)
    if isinstance(hit, pl.DataFrame):
        return hit
    cases = ex["cases"].select("case_id", "unit_id", "caseworker_id")
    # An integer per case: counting distinct cases over millions of payments is ~10x
    # faster on it than on the string ids.
    case_keys = ex["cases"].select("case_id").with_row_index("case_key")
    kinds = ex["intervention_kinds"].select(
        "kind_id", "category", "account", pl.col("name").alias("kind_name")
    )
    if table == "interventions":
        out = (
            ex["interventions"]
            .join(cases, on="case_id", how="left")
            .join(case_keys, on="case_id", how="left")
            .join(kinds, on="kind_id", how="left")
        )
    elif table == "payments":
        out = _join_payments(ex, ex["payments"])
    elif table == "deadlines":
        out = ex["deadlines"].join(cases, on="case_id", how="left")
    elif table in ("notifications", "contacts"):
        out = ex[table].join(cases.select("case_id", "caseworker_id"), on="case_id", how="left")
    elif table == "absences":
        emp = ex["employees"].select("employee_id", "unit_id", "fte", "employed_from", "employed_to")
        out = ex["absences"].join(emp, on="employee_id", how="left")
    else:
        out = ex[table]
    ex._cache[key] = out
    return out


def _join_payments(ex: Extract, payments: pl.DataFrame) -> pl.DataFrame:
    iv = _enriched(ex, "interventions").select(
        "intervention_id", "case_id", "case_key", "kind_id", "category", "account", "unit_id", "caseworker_id"
    )
    return payments.join(iv, on="intervention_id", how="left").with_columns(
        pl.col("period").dt.year().alias("period_year")
    )


def _payments_year(ex: Extract, year: int) -> pl.DataFrame:
    """Enriched payments covering a month of `year`. Joining one year's rows instead of the
    whole history keeps the first page view fast on large extracts."""
    key = f"enriched:payments:{year}"
    hit = ex._cache.get(key)
    if isinstance(hit, pl.DataFrame):
        return hit
    full = ex._cache.get("enriched:payments")
    if isinstance(full, pl.DataFrame):
        out = full.filter(pl.col("period_year") == year)
    else:
        out = _join_payments(ex, ex["payments"].filter(pl.col("period").dt.year() == year))
    ex._cache[key] = out
    return out


def check_scope(ex: Extract, scope: Scope) -> None:
    tree = org_tree(ex)
    if scope.unit_id is not None and scope.unit_id not in tree:
        raise UnknownScope(f"ukendt enhed: {scope.unit_id!r}")
    if scope.caseworker_id is not None and (
        ex["employees"].filter(pl.col("employee_id") == scope.caseworker_id).height == 0
    ):
        raise UnknownScope(f"ukendt medarbejder: {scope.caseworker_id!r}")


def units_in(ex: Extract, scope: Scope) -> frozenset[str] | None:
    """The units of a unit scope (None = no unit restriction)."""
    if scope.unit_id is None:
        return None
    return org_tree(ex).subtree(scope.unit_id)


def _memo(ex: Extract, key: tuple[str, Scope], build: Callable[[], pl.DataFrame]) -> pl.DataFrame:
    """A small LRU per extract. The extract is shared by every session of the app, hence the lock;
    building twice in a race is harmless."""
    with _LOCK:
        cache: OrderedDict[tuple[str, Scope], pl.DataFrame] = ex._cache.setdefault("scoped", OrderedDict())  # type: ignore[assignment]
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
    df = build()
    with _LOCK:
        cache[key] = df
        if len(cache) > _SCOPED_CACHE_SIZE:
            cache.popitem(last=False)
    return df


def _filter_scope(ex: Extract, table: str, scope: Scope, df: pl.DataFrame | None = None) -> pl.DataFrame:
    check_scope(ex, scope)
    df = _enriched(ex, table) if df is None else df
    units = units_in(ex, scope)
    if units is not None and len(units) < len(org_tree(ex).parent):
        df = df.filter(pl.col("unit_id").is_in(pl.Series(sorted(units), dtype=pl.String).implode()))
    if scope.caseworker_id is not None:
        if table in (*CASE_TABLES, "notifications", "contacts"):
            df = df.filter(pl.col("caseworker_id") == scope.caseworker_id)
        elif table in ("employees", "absences"):
            df = df.filter(pl.col("employee_id") == scope.caseworker_id)
        else:  # budgets and measurements have no caseworker
            df = df.clear()
    return df


def scoped(ex: Extract, table: str, scope: Scope) -> pl.DataFrame:
    """Rows of `table` in scope, enriched with unit_id/caseworker_id/account/category where relevant."""
    return _memo(ex, (table, scope), lambda: _filter_scope(ex, table, scope))


def scoped_payments_year(ex: Extract, scope: Scope, year: int) -> pl.DataFrame:
    """Payments in scope covering a month of `year` (cached: the hot path of every economy figure)."""
    return _memo(
        ex,
        (f"payments:{year}", scope),
        lambda: _filter_scope(ex, "payments", scope, _payments_year(ex, year)),
    )


def overlaps_year(year: int) -> pl.Expr:
    return (pl.col("start_on") <= date(year, 12, 31)) & (
        pl.col("end_on").is_null() | (pl.col("end_on") >= date(year, 1, 1))
    )


# Rows of a table that can matter for a figure of `year`. Only a pre-filter: every KPI
# applies its own full rule afterwards, and each rule implies its table's predicate here.
_YEAR_FILTERS = {
    "interventions": overlaps_year,
    "absences": overlaps_year,
    "deadlines": lambda year: pl.col("due_on").dt.year() == year,
    "notifications": lambda year: pl.col("received_at").dt.year() == year,
    "contacts": lambda year: pl.col("received_at").dt.year() == year,
}


def scoped_year(ex: Extract, table: str, scope: Scope, year: int) -> pl.DataFrame:
    """`scoped(ex, table, scope)` restricted to rows that can count in `year` (cached)."""
    if table == "payments":
        return scoped_payments_year(ex, scope, year)
    return _memo(
        ex, (f"{table}:{year}", scope), lambda: scoped(ex, table, scope).filter(_YEAR_FILTERS[table](year))
    )


def scoped_interventions_year(ex: Extract, scope: Scope, year: int) -> pl.DataFrame:
    """Interventions in scope running on at least one day of `year` (all that committed can count)."""
    return scoped_year(ex, "interventions", scope, year)
