"""A month's own value (kpis.md 1.1) and the scorecard tile's signal mark.

A KPI that counts over YTD gets, for month m, the same definition over the days of m
(up to as_of in M); point-in-time and rolling KPIs (and measurements) take their value
at the month's last day (as_of for M); `udgift_pr_sag` is the actual of payments with
`period` in m ÷ the distinct cases with such a payment. The signal mark applies the
capability rules 1 and 2 (`metrics.capability`) to the own values of up to 24 months
ending with M, leaving out the months before the extract's first data.

Sits beside `metrics.scorecard`: it asks the registry for the point-in-time values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import polars as pl

from metrics import demand, kpis, registry
from metrics.capability import CapabilityFigures, capability_figures
from metrics.extract import Extract
from metrics.scope import Scope, check_scope, scoped, scoped_payments_year, scoped_year
from metrics.values import KpiValue, cutoff, month_end, ratio

MARK_MONTHS = 24

# Own value over [start, end] (the days of the month, end = its last day or as_of) with
# `as_of` still the reporting date for what is known.
OwnCompute = Callable[[Extract, Scope, date, date, date], KpiValue]


def _deadlines(kind: str | None) -> OwnCompute:
    def compute(ex: Extract, scope: Scope, start: date, end: date, as_of: date) -> KpiValue:
        d = scoped_year(ex, "deadlines", scope, start.year).filter(pl.col("due_on") <= end)
        return kpis.deadlines_met_pct_frames(d, as_of, kind, start=start)

    return compute


def _received_by(table: str, end: date) -> Callable[[Extract, Scope, int], pl.DataFrame]:
    def rows(ex: Extract, scope: Scope, year: int) -> pl.DataFrame:
        return scoped_year(ex, table, scope, year).filter(pl.col("received_at") < cutoff(end))

    return rows


def _underretninger_antal(ex: Extract, scope: Scope, start: date, end: date, as_of: date) -> KpiValue:
    rows = _received_by("notifications", end)(ex, scope, start.year)
    return kpis.underretninger_antal_frames(rows, as_of, start=start)


def _underretninger_24t_pct(ex: Extract, scope: Scope, start: date, end: date, as_of: date) -> KpiValue:
    rows = _received_by("notifications", end)(ex, scope, start.year)
    return kpis.underretninger_24t_pct_frames(rows, as_of, start=start)


def _sygefravaer_pct(ex: Extract, scope: Scope, start: date, end: date, as_of: date) -> KpiValue:
    # The employment window runs to its as_of argument: here the month's last day.
    return kpis.sygefravaer_pct_frames(
        scoped(ex, "employees", scope), scoped_year(ex, "absences", scope, start.year), end, start=start
    )


def _henvendelser_antal(ex: Extract, scope: Scope, start: date, end: date, as_of: date) -> KpiValue:
    rows = _received_by("contacts", end)(ex, scope, start.year)
    return demand.henvendelser_antal_frames(rows, as_of, start=start)


def _fejlefterspoergsel_pct(ex: Extract, scope: Scope, start: date, end: date, as_of: date) -> KpiValue:
    rows = _received_by("contacts", end)(ex, scope, start.year)
    return demand.fejlefterspoergsel_pct_frames(rows, as_of, start=start)


def _udgift_pr_sag(ex: Extract, scope: Scope, start: date, end: date, as_of: date) -> KpiValue:
    paid = scoped_payments_year(ex, scope, start.year).filter(
        (pl.col("period") == start) & (pl.col("posted_on") <= as_of)
    )
    cases = paid["case_key" if "case_key" in paid.columns else "case_id"].n_unique()
    return ratio(float(paid["amount"].sum()), cases, paid.height, scale=1.0)


OVER_MONTH: dict[str, OwnCompute] = {
    "frister_overholdt_pct": _deadlines(None),
    "undersoegelser_rettidige_pct": _deadlines("undersoegelse"),
    "opfoelgninger_rettidige_pct": _deadlines("opfoelgning"),
    "underretninger_antal": _underretninger_antal,
    "underretninger_24t_pct": _underretninger_24t_pct,
    "sygefravaer_pct": _sygefravaer_pct,
    "henvendelser_antal": _henvendelser_antal,
    "fejlefterspoergsel_pct": _fejlefterspoergsel_pct,
    "udgift_pr_sag": _udgift_pr_sag,
}


# The same own values for several months of one year in one grouped pass (the signal mark asks
# for 24): each row belongs to the one month its date falls in, so the months are groups, not
# windows computed one by one. Each form keeps its per-month function's filters and rules;
# tests/test_trends.py checks them month by month against `own_value`.
OverMonths = Callable[[Extract, Scope, Sequence[date], date], list[KpiValue]]
M = "_month"


def _per_month(df: pl.DataFrame, months: Sequence[date]) -> list[dict[str, Any] | None]:
    got = {r[M]: r for r in df.iter_rows(named=True)}
    return [got.get(m) for m in months]


def _received_month(column: str = "received_at") -> pl.Expr:
    return pl.col(column).dt.date().dt.month_start().alias(M)


def _deadlines_over_months(kind: str | None) -> OverMonths:
    def over(ex: Extract, scope: Scope, months: Sequence[date], as_of: date) -> list[KpiValue]:
        # month m: due_on in [m, min(m's last day, as_of)]; met: done_on ≤ min(due_on, as_of)
        d = scoped_year(ex, "deadlines", scope, months[0].year).select("kind", "due_on", "done_on")
        if kind is not None:
            d = d.filter(pl.col("kind") == kind)
        met = pl.col("done_on").is_not_null() & (
            pl.col("done_on") <= pl.min_horizontal("due_on", pl.lit(as_of))
        )
        per = (
            d.filter(pl.col("due_on") <= as_of)
            .group_by(pl.col("due_on").dt.month_start().alias(M))
            .agg(pl.len().alias("eligible"), met.sum().alias("met"))
        )
        return [
            ratio(float(r["met"]), float(r["eligible"]), int(r["eligible"])) if r else ratio(0.0, 0.0, 0)
            for r in _per_month(per, months)
        ]

    return over


def _underretninger_antal_over_months(
    ex: Extract, scope: Scope, months: Sequence[date], as_of: date
) -> list[KpiValue]:
    rows = scoped_year(ex, "notifications", scope, months[0].year).filter(
        pl.col("received_at") < cutoff(as_of)
    )
    per = rows.group_by(_received_month()).agg(pl.len().alias("n"))
    return [KpiValue(float(r["n"]), int(r["n"])) if r else KpiValue(0.0, 0) for r in _per_month(per, months)]


def _underretninger_24t_over_months(
    ex: Extract, scope: Scope, months: Sequence[date], as_of: date
) -> list[KpiValue]:
    # received in the month (before T); not yet due and on time are judged at T of as_of
    rows = scoped_year(ex, "notifications", scope, months[0].year).filter(
        kpis.eligible_24h(as_of, date(months[0].year, 1, 1))
    )
    per = rows.group_by(_received_month()).agg(
        pl.len().alias("eligible"), kpis.on_time_24h(as_of).sum().alias("on_time")
    )
    return [
        ratio(float(r["on_time"]), float(r["eligible"]), int(r["eligible"])) if r else ratio(0.0, 0.0, 0)
        for r in _per_month(per, months)
    ]


def _sygefravaer_over_months(
    ex: Extract, scope: Scope, months: Sequence[date], as_of: date
) -> list[KpiValue]:
    # each employee once per month, the window from the month's first day to its last (or as_of)
    windows = pl.DataFrame(
        {M: list(months), "_end": [min(month_end(m.year, m.month), as_of) for m in months]},
        schema={M: pl.Date, "_end": pl.Date},
    )
    emp = scoped(ex, "employees", scope).select("employee_id", "fte", "employed_from", "employed_to")
    absences = scoped_year(ex, "absences", scope, months[0].year)
    parts = kpis.sygefravaer_parts(
        emp.join(windows, how="cross"), absences, pl.col("_end"), [M], start=pl.col(M)
    )
    empty = {"sick": 0.0, "scheduled": 0.0, "employees": 0, "spells": 0}
    return [kpis.sygefravaer_value(*((r or empty)[k] for k in empty)) for r in _per_month(parts, months)]


def _contacts_over_months(ex: Extract, scope: Scope, months: Sequence[date], as_of: date) -> pl.DataFrame:
    rows = scoped_year(ex, "contacts", scope, months[0].year).filter(
        demand.received_between(date(months[0].year, 1, 1), as_of)
    )
    return rows.group_by(_received_month()).agg(
        pl.len().alias("n"), (pl.col("demand_type") == demand.FAILURE).sum().alias("failure")
    )


def _henvendelser_over_months(
    ex: Extract, scope: Scope, months: Sequence[date], as_of: date
) -> list[KpiValue]:
    per = _per_month(_contacts_over_months(ex, scope, months, as_of), months)
    return [KpiValue(float(r["n"]), int(r["n"])) if r else KpiValue(0.0, 0) for r in per]


def _fejl_over_months(ex: Extract, scope: Scope, months: Sequence[date], as_of: date) -> list[KpiValue]:
    per = _per_month(_contacts_over_months(ex, scope, months, as_of), months)
    return [ratio(float(r["failure"]), float(r["n"]), int(r["n"])) if r else ratio(0.0, 0.0, 0) for r in per]


def _udgift_over_months(ex: Extract, scope: Scope, months: Sequence[date], as_of: date) -> list[KpiValue]:
    paid = scoped_payments_year(ex, scope, months[0].year).filter(pl.col("posted_on") <= as_of)
    case = "case_key" if "case_key" in paid.columns else "case_id"
    per = paid.group_by(pl.col("period").alias(M)).agg(
        pl.col("amount").sum(), pl.col(case).n_unique().alias("cases"), pl.len().alias("n")
    )
    return [
        ratio(float(r["amount"]), r["cases"], int(r["n"]), scale=1.0) if r else ratio(0.0, 0, 0, scale=1.0)
        for r in _per_month(per, months)
    ]


OVER_MONTHS: dict[str, OverMonths] = {
    "frister_overholdt_pct": _deadlines_over_months(None),
    "undersoegelser_rettidige_pct": _deadlines_over_months("undersoegelse"),
    "opfoelgninger_rettidige_pct": _deadlines_over_months("opfoelgning"),
    "underretninger_antal": _underretninger_antal_over_months,
    "underretninger_24t_pct": _underretninger_24t_over_months,
    "sygefravaer_pct": _sygefravaer_over_months,
    "henvendelser_antal": _henvendelser_over_months,
    "fejlefterspoergsel_pct": _fejl_over_months,
    "udgift_pr_sag": _udgift_over_months,
}


def own_value(ex: Extract, metric_id: str, scope: Scope, month: date, as_of: date) -> KpiValue:
    """The own value of month `month` (its first day), as known at as_of (month ≤ as_of's month)."""
    start = date(month.year, month.month, 1)
    end = min(month_end(start.year, start.month), as_of)
    over_month = OVER_MONTH.get(metric_id)
    if over_month is not None:
        return over_month(ex, scope, start, end, as_of)
    # Point-in-time, rolling, measurement KPIs and udgift_pr_sag_aendring_pct: at the month's end.
    return registry.compute(ex, metric_id, scope, end)


def first_data_month(ex: Extract) -> date | None:
    """The first month of the extract's data: the earliest dated fact among payments,
    notifications, deadlines, absences, contacts and measurements (cases and employments
    that began long before are states, not the start of the data)."""
    firsts: list[date] = []
    for table, column in (
        ("payments", "period"),
        ("notifications", "received_at"),
        ("deadlines", "started_on"),
        ("absences", "start_on"),
        ("contacts", "received_at"),
        ("measurements", "period_end"),
    ):
        value = ex.stored(table)[column].min()
        if isinstance(value, datetime):
            firsts.append(value.date())
        elif isinstance(value, date):
            firsts.append(value)
    if not firsts:
        return None
    first = min(firsts)
    return date(first.year, first.month, 1)


def mark_months(ex: Extract, as_of: date, count: int = MARK_MONTHS) -> list[date]:
    """First days of the up to `count` months ending with as_of's month, none before the first data."""
    months: list[date] = []
    m = date(as_of.year, as_of.month, 1)
    for _ in range(count):
        months.append(m)
        m = (m - timedelta(days=1)).replace(day=1)
    first = first_data_month(ex)
    return [m for m in reversed(months) if first is None or m >= first]


def own_values(
    ex: Extract, metric_id: str, scope: Scope, as_of: date, count: int = MARK_MONTHS
) -> pl.DataFrame:
    """month (first day), value (null when undefined) for the months of `mark_months`."""
    check_scope(ex, scope)
    months = mark_months(ex, as_of, count)
    if metric_id in OVER_MONTH:  # one grouped pass per year (OVER_MONTHS), as own_value
        over = OVER_MONTHS[metric_id]
        values = []
        for year in sorted({m.year for m in months}):
            values.extend(v.value for v in over(ex, scope, [m for m in months if m.year == year], as_of))
    else:  # the value at each month's end: one grouped pass per year (metrics.trends), as own_value
        ends = [min(month_end(m.year, m.month), as_of) for m in months]
        values = [v.value for v in registry.values_at(ex, metric_id, scope, ends)]
    return pl.DataFrame({"month": months, "value": values}, schema={"month": pl.Date, "value": pl.Float64})


@dataclass(frozen=True)
class SignalMark:
    """Rules 1 and 2 on a KPI's own monthly values; `shown` when the last month (M) carries a signal."""

    own: pl.DataFrame  # month, value, rule_1, rule_2 (rules judged on the months with a value)
    figures: CapabilityFigures
    shown: bool
    rules: tuple[int, ...]  # the rules the last month breaks


def signal_mark(ex: Extract, metric_id: str, scope: Scope, as_of: date) -> SignalMark:
    own = own_values(ex, metric_id, scope, as_of)
    # A month without a value (a ratio with nothing to count) is no point of the series.
    valued = own.with_row_index("_row").filter(pl.col("value").is_not_null())
    figures = capability_figures(valued["value"].to_list())
    rows = valued["_row"].to_list()
    rule_rows = {r: {rows[s.position - 1] for s in figures.signals if s.rule == r} for r in (1, 2)}
    marked = own.with_row_index("_row").with_columns(
        pl.col("_row").is_in(list(rule_rows[1])).alias("rule_1"),
        pl.col("_row").is_in(list(rule_rows[2])).alias("rule_2"),
    )
    last = own.height - 1
    rules = tuple(r for r in (1, 2) if own.height and last in rule_rows[r])
    return SignalMark(marked.drop("_row"), figures, bool(rules), rules)
