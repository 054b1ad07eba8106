"""The row rules of data-contract.md as dataframely schemas, one per contract table.

Each schema holds what can be checked on one row by itself: types, nullability,
ranges, enums, the account pattern, finite floats and date order. Rules that need
more — the primary key (`PRIMARY_KEYS`, see `primary_key_rule`), foreign keys
(checked against the *accepted* rows of the referenced table), the manifest's as_of
and the org tree — are added per load by `metrics.loader`, which also maps
dataframely's rule names to the stable names below (`stable_rule_name`).

The primary key is not declared with dataframely's `primary_key=True`: its rule,
`pl.struct(key).is_unique()`, costs over a second and 800 MB on 5 million payments
and also flags rows whose key is null. The loader instead finds the repeated keys
through hashes (a fraction of that) and sets aside every row carrying one of them.

Stable rule names are `"<column>|<rule>"` (or `primary_key`):

    <col>|nullability   null in a non-nullable column
    <col>|min, <col>|max   range (fte, monthly_cost, budgets.amount, respondents, birth_year)
    <col>|nan, <col>|inf   NaN / ±inf in a float column
    <col>|enum          value not among the allowed ones (level, role, category, kind,
                        channel, demand_type)
    account|regex       account does not match ^\\d\\.\\d{2}\\.\\d{2}$
    period|first_of_month   payments.period is not the first day of a month
    <col>|date_order    dates in the wrong order (see each schema)
    primary_key         duplicate primary key (every row sharing the key)

Added by the loader: `<col>|foreign_key`, `birth_year|max`, `posted_on|max`,
`parent_id|multiple_roots`, `parent_id|cycle`, `parent_id|foreign_key`,
`parent_id|parent_rejected`, and the plausible values of data-contract.md 1.1
(`plausibility_rules`, applied to every column by its kind, so a new table gets them
from its contract columns alone):

    <col>|date_range    a date of a fact outside 1900-01-01 … 31 Dec of the year after
                        as_of; a planned date (PLANNED_DATES) outside 1900-01-01 … 2100-12-31
    received_at|max     received at or after the end of the as_of day
    <col>|max_abs       money (MONEY_COLUMNS) with |x| ≥ 10^10
    <col>|max_length    text over 1,000 characters, an identifier (`*_id`) over 100
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta

import dataframely as dy
import polars as pl

from metrics.contract import (
    ABSENCE_KINDS,
    ACCOUNT_PATTERN,
    CATEGORIES,
    CHANNELS,
    DEADLINE_KINDS,
    DEMAND_TYPES,
    ROLES,
    TABLES,
    UNIT_LEVELS,
)

BIRTH_YEAR_MIN = 1990

# Plausible values (data-contract.md 1.1)
EARLIEST_FACT = date(1900, 1, 1)
LATEST_PLAN = date(2100, 12, 31)
PLANNED_DATES: frozenset[tuple[str, str]] = frozenset(
    {("interventions", "end_on"), ("deadlines", "due_on"), ("employees", "employed_to")}
)
MONEY_COLUMNS = frozenset({"amount", "monthly_cost"})
MONEY_LIMIT = 1e10
TEXT_MAX, ID_MAX = 1000, 100
FTE_MIN = 0.01

Check = Callable[[pl.Expr], pl.Expr]


def _one_of(values: Sequence[str]) -> dict[str, Check]:
    allowed = list(values)
    return {"enum": lambda c: c.is_in(pl.Series(allowed, dtype=pl.String).implode())}


def _float(
    *,
    nullable: bool = False,
    min: float | None = None,
    min_exclusive: float | None = None,
    max: float | None = None,
) -> dy.Float64:
    """A Float64 column; NaN and ±inf are rejected (rules `nan`, `inf`).

    Range rules are named `min`/`max` (also for an exclusive lower bound) and only
    judge finite values, so a NaN or infinity is counted once, under `nan`/`inf`.
    """
    checks: dict[str, Check] = {}
    if min is not None:
        lo = min
        checks["min"] = lambda c: (c >= lo) | ~c.is_finite()
    if min_exclusive is not None:
        lo_x = min_exclusive
        checks["min"] = lambda c: (c > lo_x) | ~c.is_finite()
    if max is not None:
        hi = max
        checks["max"] = lambda c: (c <= hi) | ~c.is_finite()
    return dy.Float64(nullable=nullable, allow_nan=False, allow_inf=False, check=checks or None)


def _not_before(later: str, earlier: str) -> pl.Expr:
    """`later` ≥ `earlier`; a null on either side is valid (nullability is its own rule)."""
    return pl.col(later) >= pl.col(earlier)


class OrgUnitsSchema(dy.Schema):
    unit_id = dy.String()
    parent_id = dy.String(nullable=True)
    name = dy.String()
    level = dy.String(check=_one_of(UNIT_LEVELS))


class EmployeesSchema(dy.Schema):
    employee_id = dy.String()
    name = dy.String()
    email = dy.String(nullable=True)
    unit_id = dy.String()
    role = dy.String(check=_one_of(ROLES))
    fte = _float(min=FTE_MIN, max=1.0)
    employed_from = dy.Date()
    employed_to = dy.Date(nullable=True)

    @dy.rule()
    def employed_to__date_order(cls) -> pl.Expr:
        return _not_before("employed_to", "employed_from")


class CasesSchema(dy.Schema):
    case_id = dy.String()
    child_id = dy.String()
    unit_id = dy.String()
    caseworker_id = dy.String(nullable=True)
    birth_year = dy.Int64(min=BIRTH_YEAR_MIN)  # the upper bound (year of as_of) is per load
    opened_on = dy.Date()
    closed_on = dy.Date(nullable=True)

    @dy.rule()
    def closed_on__date_order(cls) -> pl.Expr:
        return _not_before("closed_on", "opened_on")


class InterventionKindsSchema(dy.Schema):
    kind_id = dy.String()
    name = dy.String()
    category = dy.String(check=_one_of(CATEGORIES))
    account = dy.String(regex=ACCOUNT_PATTERN)
    legal_basis = dy.String(nullable=True)


class InterventionsSchema(dy.Schema):
    intervention_id = dy.String()
    case_id = dy.String()
    kind_id = dy.String()
    provider = dy.String(nullable=True)
    decided_on = dy.Date()
    start_on = dy.Date()
    end_on = dy.Date(nullable=True)
    monthly_cost = _float(min=0.0)

    @dy.rule()
    def decided_on__date_order(cls) -> pl.Expr:
        return _not_before("start_on", "decided_on")

    @dy.rule()
    def end_on__date_order(cls) -> pl.Expr:
        return _not_before("end_on", "start_on")


class PaymentsSchema(dy.Schema):
    payment_id = dy.String()
    intervention_id = dy.String()
    period = dy.Date(check={"first_of_month": lambda c: c.dt.day() == 1})
    posted_on = dy.Date()  # ≤ manifest as_of is added per load
    amount = _float()


class BudgetsSchema(dy.Schema):
    year = dy.Int64()
    unit_id = dy.String()
    account = dy.String(regex=ACCOUNT_PATTERN)
    amount = _float(min=0.0)


class NotificationsSchema(dy.Schema):
    notification_id = dy.String()
    child_id = dy.String()
    case_id = dy.String(nullable=True)
    unit_id = dy.String()
    source = dy.String()  # free text in the contract: no enum
    received_at = dy.Datetime(time_unit="us")
    assessed_at = dy.Datetime(nullable=True, time_unit="us")

    @dy.rule()
    def assessed_at__date_order(cls) -> pl.Expr:
        return _not_before("assessed_at", "received_at")


class DeadlinesSchema(dy.Schema):
    deadline_id = dy.String()
    case_id = dy.String()
    kind = dy.String(check=_one_of(DEADLINE_KINDS))
    started_on = dy.Date()
    due_on = dy.Date()
    done_on = dy.Date(nullable=True)

    @dy.rule()
    def due_on__date_order(cls) -> pl.Expr:
        return _not_before("due_on", "started_on")

    @dy.rule()
    def done_on__date_order(cls) -> pl.Expr:
        return _not_before("done_on", "started_on")


class AbsencesSchema(dy.Schema):
    employee_id = dy.String()
    kind = dy.String(check=_one_of(ABSENCE_KINDS))
    start_on = dy.Date()
    end_on = dy.Date()

    @dy.rule()
    def end_on__date_order(cls) -> pl.Expr:
        return _not_before("end_on", "start_on")


class MeasurementsSchema(dy.Schema):
    kpi_id = dy.String()
    unit_id = dy.String()
    period_end = dy.Date()
    value = _float()
    respondents = dy.Int64(nullable=True, min=0)


class ContactsSchema(dy.Schema):
    contact_id = dy.String()
    unit_id = dy.String()
    case_id = dy.String(nullable=True)
    received_at = dy.Datetime(time_unit="us")
    channel = dy.String(check=_one_of(CHANNELS))
    demand_type = dy.String(check=_one_of(DEMAND_TYPES))
    reason = dy.String()  # free text from the unit's own short list: no enum


SCHEMAS: dict[str, type[dy.Schema]] = {
    "org_units": OrgUnitsSchema,
    "employees": EmployeesSchema,
    "cases": CasesSchema,
    "intervention_kinds": InterventionKindsSchema,
    "interventions": InterventionsSchema,
    "payments": PaymentsSchema,
    "budgets": BudgetsSchema,
    "notifications": NotificationsSchema,
    "deadlines": DeadlinesSchema,
    "absences": AbsencesSchema,
    "measurements": MeasurementsSchema,
    "contacts": ContactsSchema,
}

# (table, column) -> (referenced table, referenced key column), in the contract's words
# "existing unit / case / employee / kind / intervention". Null in a nullable FK is fine.
FOREIGN_KEYS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "org_units": (),  # parent_id is checked as a tree by the loader
    "employees": (("unit_id", "org_units", "unit_id"),),
    "cases": (("unit_id", "org_units", "unit_id"), ("caseworker_id", "employees", "employee_id")),
    "intervention_kinds": (),
    "interventions": (("case_id", "cases", "case_id"), ("kind_id", "intervention_kinds", "kind_id")),
    "payments": (("intervention_id", "interventions", "intervention_id"),),
    "budgets": (("unit_id", "org_units", "unit_id"),),
    "notifications": (("case_id", "cases", "case_id"), ("unit_id", "org_units", "unit_id")),
    "deadlines": (("case_id", "cases", "case_id"),),
    "absences": (("employee_id", "employees", "employee_id"),),
    "measurements": (("unit_id", "org_units", "unit_id"),),
    "contacts": (("unit_id", "org_units", "unit_id"), ("case_id", "cases", "case_id")),
}


# Primary keys in the contract's words ("primary key"; budgets: "(year, unit_id, account) is
# unique"). absences and measurements have no key.
PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "org_units": ("unit_id",),
    "employees": ("employee_id",),
    "cases": ("case_id",),
    "intervention_kinds": ("kind_id",),
    "interventions": ("intervention_id",),
    "payments": ("payment_id",),
    "budgets": ("year", "unit_id", "account"),
    "notifications": ("notification_id",),
    "deadlines": ("deadline_id",),
    "absences": (),
    "measurements": (),
    "contacts": ("contact_id",),
}

# dataframely reserves the rule name `primary_key` for its own key rule, so ours is
# registered under this name and reported as `primary_key`.
PRIMARY_KEY_RULE = "duplicate_key"


# --- plausible values: one builder per column kind ------------------------------------------


def date_range_rule(column: str, dtype: pl.DataType, lo: date, hi: date) -> pl.Expr:
    """lo ≤ value ≤ hi (whole days; a timestamp counts by its day). Null is not judged."""
    c = pl.col(column)
    if isinstance(dtype, pl.Datetime):
        return (c >= datetime.combine(lo, datetime.min.time())) & (
            c < datetime.combine(hi + timedelta(days=1), datetime.min.time())
        )
    return (c >= pl.lit(lo, dtype=pl.Date)) & (c <= pl.lit(hi, dtype=pl.Date))


def max_abs_rule(column: str, limit: float = MONEY_LIMIT) -> pl.Expr:
    """|value| < limit; NaN and ±inf are left to their own rules (counted once)."""
    c = pl.col(column)
    return (c.abs() < limit) | ~c.is_finite()


def max_length_rule(column: str) -> pl.Expr:
    """Characters, not bytes: an identifier at most ID_MAX, other text at most TEXT_MAX."""
    return pl.col(column).str.len_chars() <= (ID_MAX if column.endswith("_id") else TEXT_MAX)


def plausibility_rules(table: str, as_of: date | None) -> dict[str, pl.Expr]:
    """The plausible-value rules for every contract column of `table`, by its kind. Date rules
    need the manifest's as_of (None: skipped; the extract is refused anyway)."""
    rules: dict[str, pl.Expr] = {}
    for col in TABLES[table]:
        name, dtype = col.name, col.dtype
        if dtype == pl.String():
            rules[f"{name}|max_length"] = max_length_rule(name)
        elif name in MONEY_COLUMNS:
            rules[f"{name}|max_abs"] = max_abs_rule(name)
        elif isinstance(dtype, pl.Date | pl.Datetime) and as_of is not None:
            hi = LATEST_PLAN if (table, name) in PLANNED_DATES else date(as_of.year + 1, 12, 31)
            rules[f"{name}|date_range"] = date_range_rule(name, dtype, EARLIEST_FACT, hi)
            if name == "received_at":
                rules["received_at|max"] = pl.col(name) < datetime.combine(
                    as_of + timedelta(days=1), datetime.min.time()
                )
    return rules


def stable_rule_name(dy_name: str) -> str:
    """Map a dataframely rule name to the stable `"<column>|<rule>"` name.

    `fte|check__min` -> `fte|min`; schema-level `closed_on__date_order` ->
    `closed_on|date_order`; `primary_key` and native names (`x|nullability`) unchanged.
    """
    if dy_name == PRIMARY_KEY_RULE:
        return "primary_key"
    if "|" in dy_name:
        column, rule = dy_name.split("|", 1)
        return f"{column}|{rule.removeprefix('check__')}"
    if "__" in dy_name:
        column, rule = dy_name.rsplit("__", 1)
        return f"{column}|{rule}"
    return dy_name
