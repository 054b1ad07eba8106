"""Economy: actual (forbrug), committed (disponeret), expected, budget, deviation.

Definitions: kpis.md, section Economy. Pure functions take already-scoped frames;
`economy_table` and `economy_total` apply a scope to an extract.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from metrics.extract import Extract
from metrics.org import org_tree
from metrics.scope import Scope, scoped, scoped_interventions_year, scoped_payments_year
from metrics.values import KpiValue, month_end, one_year_earlier, ratio

GROUPINGS: dict[str, str] = {
    "account": "account",
    "kind_id": "kind_id",
    "category": "category",
    "unit": "unit_id",
    "child_unit": "child_unit",
    "caseworker": "caseworker_id",
    "case": "case_id",
}
BUDGETED_GROUPINGS = ("account", "unit", "child_unit")
ECONOMY_COLUMNS = ("group", "budget", "actual", "committed", "expected", "deviation")


def counted_in_actual(as_of: date) -> pl.Expr:
    """Payments that count in actual at as_of: posted by as_of, covering a month of as_of's year."""
    return (pl.col("posted_on") <= as_of) & (pl.col("period").dt.year() == as_of.year)


def actual(payments: pl.DataFrame, as_of: date) -> float:
    return float(payments.filter(counted_in_actual(as_of))["amount"].sum())


def remaining_months_share(as_of: date) -> pl.Expr:
    """Σ over the months after M of the share of the month's days the intervention covers."""
    year = as_of.year
    terms: list[pl.Expr] = []
    for m in range(as_of.month + 1, 13):
        first, last = date(year, m, 1), month_end(year, m)
        lo = pl.max_horizontal(pl.col("start_on"), pl.lit(first))
        hi = pl.min_horizontal(pl.col("end_on").fill_null(pl.lit(last)), pl.lit(last))
        days = ((hi - lo).dt.total_days() + 1).clip(lower_bound=0)
        terms.append(days / last.day)
    if not terms:
        return pl.lit(0.0)
    return pl.sum_horizontal(terms)


def committed_amount(as_of: date) -> pl.Expr:
    """Per intervention: monthly_cost × remaining share; 0 for interventions decided after as_of."""
    return (
        pl.when(pl.col("decided_on") <= as_of)
        .then(pl.col("monthly_cost") * remaining_months_share(as_of))
        .otherwise(0.0)
        .alias("committed")
    )


def committed(interventions: pl.DataFrame, as_of: date) -> float:
    return float(interventions.select(committed_amount(as_of).sum()).item())


def budget(budgets: pl.DataFrame, year: int) -> float:
    return float(budgets.filter(pl.col("year") == year)["amount"].sum())


@dataclass(frozen=True)
class EconomyFigures:
    budget: float | None
    actual: float
    committed: float
    expected: float
    deviation: float | None


def _has_budget(scope: Scope) -> bool:
    return scope.caseworker_id is None


def economy_total(ex: Extract, scope: Scope, as_of: date) -> EconomyFigures:
    act = actual(scoped_payments_year(ex, scope, as_of.year), as_of)
    com = committed(scoped_interventions_year(ex, scope, as_of.year), as_of)
    bud = budget(scoped(ex, "budgets", scope), as_of.year) if _has_budget(scope) else None
    exp = act + com
    return EconomyFigures(bud, act, com, exp, None if bud is None else bud - exp)


def _with_group(ex: Extract, df: pl.DataFrame, scope: Scope, by: str) -> pl.DataFrame:
    if by != "child_unit":
        return df.with_columns(pl.col(GROUPINGS[by]).alias("group"))
    if scope.unit_id is None:
        raise ValueError("grouping by child_unit needs a unit scope")
    mapping = org_tree(ex).child_of(scope.unit_id)
    return df.with_columns(pl.col("unit_id").replace_strict(mapping, default=None).alias("group"))


def economy_table(ex: Extract, scope: Scope, as_of: date, by: str) -> pl.DataFrame:
    """One row per group with budget, actual, committed, expected, deviation.

    Budget is null when grouped by kind, category, caseworker or case (and for a
    caseworker scope); otherwise a group without budget rows has budget 0.
    """
    if by not in GROUPINGS:
        raise ValueError(f"unknown grouping {by!r}; choose one of {', '.join(GROUPINGS)}")
    pay = _with_group(
        ex, scoped_payments_year(ex, scope, as_of.year).filter(counted_in_actual(as_of)), scope, by
    )
    act = pay.group_by("group").agg(pl.col("amount").sum().alias("actual"))
    iv = _with_group(ex, scoped_interventions_year(ex, scope, as_of.year), scope, by)
    com = iv.group_by("group").agg(committed_amount(as_of).sum().alias("committed"))
    out = act.join(com, on="group", how="full", coalesce=True, nulls_equal=True)
    budgeted = by in BUDGETED_GROUPINGS and _has_budget(scope)
    if budgeted:
        bud_rows = scoped(ex, "budgets", scope).filter(pl.col("year") == as_of.year)
        if by == "account":
            bud_rows = bud_rows.with_columns(pl.col("account").alias("group"))
        else:
            bud_rows = _with_group(ex, bud_rows, scope, by)
        bud = bud_rows.group_by("group").agg(pl.col("amount").sum().alias("budget"))
        out = out.join(bud, on="group", how="full", coalesce=True, nulls_equal=True)
    else:
        out = out.with_columns(pl.lit(None, dtype=pl.Float64).alias("budget"))
    out = out.with_columns(
        pl.col("actual").fill_null(0.0),
        pl.col("committed").fill_null(0.0),
        pl.col("budget").fill_null(0.0) if budgeted else pl.col("budget"),
    ).with_columns((pl.col("actual") + pl.col("committed")).alias("expected"))
    out = out.with_columns((pl.col("budget") - pl.col("expected")).alias("deviation"))
    return out.select(ECONOMY_COLUMNS).sort("group", nulls_last=True)


# --- KPIs ---------------------------------------------------------------------------


def oekonomi_forventet_pct(ex: Extract, scope: Scope, as_of: date) -> KpiValue:
    fig = economy_total(ex, scope, as_of)
    pay = scoped_payments_year(ex, scope, as_of.year).filter(counted_in_actual(as_of)).height
    if fig.budget is None:
        return KpiValue(None, pay)
    return ratio(fig.expected, fig.budget, pay)


def udgift_pr_sag_frames(payments: pl.DataFrame, as_of: date) -> KpiValue:
    counted = payments.filter(counted_in_actual(as_of))
    # case_key (an integer per case, added when payments are enriched) counts the same cases faster
    cases = counted["case_key" if "case_key" in counted.columns else "case_id"].n_unique()
    return ratio(float(counted["amount"].sum()), cases, counted.height, scale=1.0)


def udgift_pr_sag(ex: Extract, scope: Scope, as_of: date) -> KpiValue:
    return udgift_pr_sag_frames(scoped_payments_year(ex, scope, as_of.year), as_of)


def udgift_pr_sag_aendring_pct(ex: Extract, scope: Scope, as_of: date) -> KpiValue:
    earlier = one_year_earlier(as_of)
    now = udgift_pr_sag_frames(scoped_payments_year(ex, scope, as_of.year), as_of)
    before = udgift_pr_sag_frames(scoped_payments_year(ex, scope, earlier.year), earlier)
    basis = now.basis + before.basis
    if now.value is None or before.value is None or before.value == 0:
        return KpiValue(None, basis, now.value, before.value)
    return KpiValue((now.value / before.value - 1) * 100, basis, now.value, before.value)
