"""Cases, deadlines, notifications, staff and measurement KPIs (kpis.md).

Each `*_frames` function is pure: it takes already-scoped frames and as_of. The
functions without that suffix apply a scope to an extract.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta

import polars as pl

from metrics.extract import Extract
from metrics.org import org_tree
from metrics.scope import (
    Scope,
    scoped,
    scoped_deadlines_kpi,
    scoped_notifications_kpi,
    scoped_open_deadlines,
    scoped_year,
)
from metrics.staff import employed_on
from metrics.values import KpiValue, cutoff, ratio, year_start

DAY = timedelta(days=1)
HOURS_24 = timedelta(hours=24)


# --- cases and deadlines -------------------------------------------------------------


AsOf = date | pl.Expr  # a date, or a date column (a trend evaluates every month end at once)


def _lit(day: AsOf) -> pl.Expr:
    return day if isinstance(day, pl.Expr) else pl.lit(day)


def active_on(as_of: AsOf) -> pl.Expr:
    return (pl.col("opened_on") <= as_of) & (
        pl.col("closed_on").is_null() | (_lit(as_of) < pl.col("closed_on"))
    )


def aktive_sager_frames(cases: pl.DataFrame, as_of: date) -> KpiValue:
    n = cases.filter(active_on(as_of)).height
    return KpiValue(float(n), n)


def sager_pr_raadgiver_frames(cases: pl.DataFrame, employees: pl.DataFrame, as_of: date) -> KpiValue:
    assigned = cases.filter(active_on(as_of) & pl.col("caseworker_id").is_not_null()).height
    staff = employees.filter((pl.col("role") == "raadgiver") & employed_on(as_of))
    return ratio(float(assigned), float(staff["fte"].sum()), assigned + staff.height, scale=1.0)


def deadlines_met_pct_frames(
    deadlines: pl.DataFrame, as_of: date, kind: str | None = None, start: date | None = None
) -> KpiValue:
    """`start` replaces 1 January (a month's own value, kpis.md "A month's own value")."""
    d = deadlines if kind is None else deadlines.filter(pl.col("kind") == kind)
    eligible = d.filter(pl.col("due_on").is_between(start or year_start(as_of), as_of))
    met = eligible.filter(
        pl.col("done_on").is_not_null() & (pl.col("done_on") <= pl.min_horizontal("due_on", pl.lit(as_of)))
    ).height
    return ratio(float(met), float(eligible.height), eligible.height)


def overdue(as_of: date) -> pl.Expr:
    return (pl.col("due_on") < as_of) & (pl.col("done_on").is_null() | (pl.col("done_on") > as_of))


def frister_overskredne_frames(deadlines: pl.DataFrame, as_of: date) -> KpiValue:
    n = deadlines.filter(overdue(as_of)).height
    return KpiValue(float(n), n)


# --- notifications -------------------------------------------------------------------


def received_ytd(as_of: date, start: date | None = None) -> pl.Expr:
    """Received from 1 January (or `start`) through as_of, before T."""
    first = start or year_start(as_of)
    return (pl.col("received_at") >= datetime.combine(first, datetime.min.time())) & (
        pl.col("received_at") < cutoff(as_of)
    )


def assessed_before(as_of: date) -> pl.Expr:
    return pl.col("assessed_at").is_not_null() & (pl.col("assessed_at") < cutoff(as_of))


def on_time_24h(as_of: date) -> pl.Expr:
    return assessed_before(as_of) & ((pl.col("assessed_at") - pl.col("received_at")) <= HOURS_24)


def eligible_24h(as_of: date, start: date | None = None) -> pl.Expr:
    """Received in YTD, except unassessed ones whose 24 hours have not run out at T."""
    not_yet_due = ~assessed_before(as_of) & (pl.lit(cutoff(as_of)) - pl.col("received_at") < HOURS_24)
    return received_ytd(as_of, start) & ~not_yet_due


def underretninger_antal_frames(
    notifications: pl.DataFrame, as_of: date, start: date | None = None
) -> KpiValue:
    n = notifications.filter(received_ytd(as_of, start)).height
    return KpiValue(float(n), n)


def underretninger_24t_pct_frames(
    notifications: pl.DataFrame, as_of: date, start: date | None = None
) -> KpiValue:
    eligible = notifications.filter(eligible_24h(as_of, start))
    on_time = eligible.filter(on_time_24h(as_of)).height
    return ratio(float(on_time), float(eligible.height), eligible.height)


def overdue_unassessed(as_of: date) -> pl.Expr:
    """Received before T, not assessed before T, and more than 24 hours have passed at T."""
    return (
        (pl.col("received_at") < cutoff(as_of))
        & ~assessed_before(as_of)
        & (pl.lit(cutoff(as_of)) - pl.col("received_at") > HOURS_24)
    )


# --- staff ---------------------------------------------------------------------------


def _weekdays(lo: pl.Expr, hi: pl.Expr) -> pl.Expr:
    """Monday–Friday days in [lo, hi], 0 when hi < lo."""
    return pl.when(hi >= lo).then(pl.business_day_count(lo, hi + DAY)).otherwise(0)


def _employment_window(as_of: AsOf, start: AsOf | None = None) -> list[pl.Expr]:
    """The days of each employee's employment that count: from 1 January of as_of's year (or
    `start`, for a month's own value; a date column for every month at once) through as_of."""
    if isinstance(start, pl.Expr):
        first = start
    elif start is not None:
        first = pl.lit(start)
    elif isinstance(as_of, pl.Expr):
        first = pl.date(as_of.dt.year(), 1, 1)
    else:
        first = pl.lit(year_start(as_of))
    return [
        pl.max_horizontal(pl.col("employed_from"), first).alias("win_lo"),
        pl.min_horizontal(pl.col("employed_to").fill_null(_lit(as_of)), _lit(as_of)).alias("win_hi"),
    ]


def sygefravaer_parts(
    employees: pl.DataFrame,
    absences: pl.DataFrame,
    as_of: AsOf,
    by: Sequence[str] = (),
    start: AsOf | None = None,
) -> pl.DataFrame:
    """Per group of `by` (columns of `employees`; none: one row): scheduled and sick FTE-weekdays
    and the rows they rest on (employees, then sick spells inside their window). The one
    definition of sygefravaer_pct; `as_of` (and `start`) may be date columns of `employees` (one
    row per employee and date, grouped by it)."""
    by = list(by)
    group = by or [pl.lit(0).alias("_g")]
    key = by or ["_g"]
    emp = employees.select("employee_id", "fte", *by, *_employment_window(as_of, start))
    scheduled = emp.group_by(group).agg(
        (_weekdays(pl.col("win_lo"), pl.col("win_hi")) * pl.col("fte")).sum().alias("scheduled"),
        pl.len().alias("employees"),
    )
    spells = absences.filter(pl.col("kind") == "egen_sygdom").select("employee_id", "start_on", "end_on")
    # Overlapping spells count a day once: merge them into disjoint runs per employee, then
    # clip the runs to the employment window (clipped disjoint runs stay disjoint).
    runs = (
        spells.sort("employee_id", "start_on")
        .with_columns(
            (pl.col("start_on") > pl.col("end_on").cum_max().shift(1).over("employee_id"))
            .fill_null(True)
            .cum_sum()
            .over("employee_id")
            .alias("run")
        )
        .group_by("employee_id", "run")
        .agg(pl.col("start_on").min(), pl.col("end_on").max())
    )

    def in_window(df: pl.DataFrame) -> pl.DataFrame:
        return (
            df.join(emp, on="employee_id", how="inner")
            .with_columns(
                pl.max_horizontal("start_on", "win_lo").alias("lo"),
                pl.min_horizontal("end_on", "win_hi").alias("hi"),
            )
            .filter(pl.col("lo") <= pl.col("hi"))
        )

    sick = (
        in_window(runs)
        .group_by(group)
        .agg((_weekdays(pl.col("lo"), pl.col("hi")) * pl.col("fte")).sum().alias("sick"))
    )
    n_spells = in_window(spells).group_by(group).agg(pl.len().alias("spells"))
    return (
        scheduled.join(sick, on=key, how="full", coalesce=True, nulls_equal=True)
        .join(n_spells, on=key, how="full", coalesce=True, nulls_equal=True)
        .with_columns(pl.col("scheduled", "sick").fill_null(0.0), pl.col("employees", "spells").fill_null(0))
    )


def sygefravaer_value(sick: float, scheduled: float, employees: int, spells: int) -> KpiValue:
    return ratio(float(sick), float(scheduled), int(employees) + int(spells))


def sygefravaer_pct_frames(
    employees: pl.DataFrame, absences: pl.DataFrame, as_of: date, start: date | None = None
) -> KpiValue:
    parts = sygefravaer_parts(employees, absences, as_of, start=start)
    if parts.height == 0:
        return sygefravaer_value(0.0, 0.0, 0, 0)
    r = parts.row(0, named=True)
    return sygefravaer_value(r["sick"], r["scheduled"], r["employees"], r["spells"])


def personaleomsaetning_pct_frames(employees: pl.DataFrame, as_of: date) -> KpiValue:
    start = as_of - timedelta(days=365)
    leavers = employees.filter(
        pl.col("employed_to").is_not_null()
        & (pl.col("employed_to") > start)
        & (pl.col("employed_to") <= as_of)
    ).height
    hc_then = employees.filter(employed_on(start)).height
    hc_now = employees.filter(employed_on(as_of)).height
    return ratio(float(leavers), (hc_then + hc_now) / 2, leavers + hc_then + hc_now)


# --- measurements --------------------------------------------------------------------


def measurement_frames(
    measurements: pl.DataFrame, children: Mapping[str, Sequence[str]], unit_id: str, kpi_id: str, as_of: date
) -> KpiValue:
    """kpis.md 1.1, section Measurements. `measurements` holds the rows of unit_id's subtree,
    `children` the organisation's child units per unit.

    A unit with rows of its own (period_end ≤ as_of) takes its latest: one row is the value
    with its respondents as weight (null counts 1); several rows on that date give their
    weighted mean (null when the weights sum to 0) and the summed weight. A unit without
    rows takes the weighted mean of its children's values found by this same rule, and
    their summed weight; a weight of 0 contributes nothing. basis: the rows used.
    """
    return measurement_values(measurements, children, kpi_id, as_of)(unit_id)


def measurement_values(
    measurements: pl.DataFrame, children: Mapping[str, Sequence[str]], kpi_id: str, as_of: date
) -> Callable[[str], KpiValue]:
    """`measurement_frames` for any unit whose subtree's rows are in `measurements` (one pass
    over the rows, then the tree): what the cascade asks for each child."""
    m = measurements.filter((pl.col("kpi_id") == kpi_id) & (pl.col("period_end") <= as_of))
    own = {r["unit_id"]: r for r in measurement_latest(m).iter_rows(named=True)}
    return measurement_tree(own, children)


def measurement_latest(m: pl.DataFrame, by: Sequence[str] = ()) -> pl.DataFrame:
    """Per unit (and group of `by`) its rows on its latest period_end: their count, the first
    value, Σ value × weight and Σ weight (respondents, null counts 1). `m` holds one KPI's rows
    up to the date (for a trend: paired with each date in the `by` column)."""
    keys = [*by, "unit_id"]
    latest = m.filter(pl.col("period_end") == pl.col("period_end").max().over(keys))
    w = pl.col("respondents").fill_null(1).cast(pl.Float64)
    return latest.group_by(keys).agg(
        pl.len().alias("rows"),
        pl.col("value").first().alias("first"),
        (pl.col("value") * w).sum().alias("vw"),
        w.sum().alias("w"),
    )


def measurement_tree(
    own: Mapping[str, Mapping[str, float]], children: Mapping[str, Sequence[str]]
) -> Callable[[str], KpiValue]:
    """The value of any unit from the units' own latest rows (`measurement_latest`, by unit id)."""

    def value_of(u: str) -> KpiValue:
        if u in own:
            r = own[u]
            if r["rows"] == 1:  # u's own value, whatever its weight (the weight only counts above u)
                return KpiValue(float(r["first"]), 1, float(r["vw"]), float(r["w"]))
            return ratio(float(r["vw"]), float(r["w"]), r["rows"], scale=1.0)
        vw = weight = 0.0
        basis = 0
        for child in children.get(u, ()):
            c = value_of(child)
            if c.value is None or not c.denominator:
                continue
            vw += c.value * c.denominator
            weight += c.denominator
            basis += c.basis
        if basis == 0:
            return KpiValue(None, 0)
        return ratio(vw, weight, basis, scale=1.0)

    return value_of


# --- scoped wrappers -----------------------------------------------------------------


def aktive_sager(ex: Extract, scope: Scope, as_of: date) -> KpiValue:
    return aktive_sager_frames(scoped(ex, "cases", scope), as_of)


def sager_pr_raadgiver(ex: Extract, scope: Scope, as_of: date) -> KpiValue:
    return sager_pr_raadgiver_frames(scoped(ex, "cases", scope), scoped(ex, "employees", scope), as_of)


def frister_overholdt_pct(ex: Extract, scope: Scope, as_of: date) -> KpiValue:
    return deadlines_met_pct_frames(scoped_deadlines_kpi(ex, scope, as_of.year), as_of)


def undersoegelser_rettidige_pct(ex: Extract, scope: Scope, as_of: date) -> KpiValue:
    return deadlines_met_pct_frames(scoped_deadlines_kpi(ex, scope, as_of.year), as_of, "undersoegelse")


def opfoelgninger_rettidige_pct(ex: Extract, scope: Scope, as_of: date) -> KpiValue:
    return deadlines_met_pct_frames(scoped_deadlines_kpi(ex, scope, as_of.year), as_of, "opfoelgning")


def frister_overskredne(ex: Extract, scope: Scope, as_of: date) -> KpiValue:
    return frister_overskredne_frames(scoped_open_deadlines(ex, scope, as_of.year), as_of)


def underretninger_antal(ex: Extract, scope: Scope, as_of: date) -> KpiValue:
    return underretninger_antal_frames(scoped_notifications_kpi(ex, scope, as_of.year), as_of)


def underretninger_24t_pct(ex: Extract, scope: Scope, as_of: date) -> KpiValue:
    return underretninger_24t_pct_frames(scoped_notifications_kpi(ex, scope, as_of.year), as_of)


def sygefravaer_pct(ex: Extract, scope: Scope, as_of: date) -> KpiValue:
    return sygefravaer_pct_frames(
        scoped(ex, "employees", scope), scoped_year(ex, "absences", scope, as_of.year), as_of
    )


def personaleomsaetning_pct(ex: Extract, scope: Scope, as_of: date) -> KpiValue:
    return personaleomsaetning_pct_frames(scoped(ex, "employees", scope), as_of)


def measurement(kpi_id: str) -> Callable[[Extract, Scope, date], KpiValue]:
    def compute(ex: Extract, scope: Scope, as_of: date) -> KpiValue:
        if scope.unit_id is None:
            return KpiValue(None, 0)
        children = org_tree(ex).children
        return measurement_frames(scoped(ex, "measurements", scope), children, scope.unit_id, kpi_id, as_of)

    compute.__name__ = f"measurement_{kpi_id}"
    return compute
