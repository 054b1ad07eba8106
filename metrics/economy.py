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
from metrics.scope import (
    Scope,
    _memo,
    scoped,
    scoped_interventions_economy,
    scoped_interventions_year,
    scoped_payments_economy,
    scoped_payments_udgift,
    scoped_payments_year,
)
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
    # a range of dates, not period.dt.year(): the same rows, without a per-row calendar conversion
    return (pl.col("posted_on") <= as_of) & pl.col("period").is_between(
        date(as_of.year, 1, 1), date(as_of.year, 12, 31)
    )


def actual(payments: pl.DataFrame, as_of: date) -> float:
    return float(payments.select(pl.col("amount").filter(counted_in_actual(as_of)).sum()).item())


def month_share(year: int, month: int) -> pl.Expr:
    """kpis.md f(m): the share of month m's days with start_on ≤ d and (end_on null or d ≤ end_on)."""
    first, last = date(year, month, 1), month_end(year, month)
    lo = pl.max_horizontal(pl.col("start_on"), pl.lit(first))
    hi = pl.min_horizontal(pl.col("end_on").fill_null(pl.lit(last)), pl.lit(last))
    return ((hi - lo).dt.total_days() + 1).clip(lower_bound=0) / last.day


def committed_months(as_of: date) -> list[int]:
    """The months m = M+1 … 12 of as_of's year that committed covers."""
    return list(range(as_of.month + 1, 13))


def _prepaid_col(m: int) -> str:
    return f"prepaid_{m}"


def with_prepaid(interventions: pl.DataFrame, payments: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """`interventions` with one column prepaid_<m> per month m after M (kpis.md prepaid(m)):
    max(0, Σ amount of the intervention's payments with period = month m of year, posted_on ≤ as_of).

    Few payments are posted ahead, so they are summed per (intervention, month) once and joined
    onto the interventions; `committed_amount` and `committed_month_amount` need these columns.
    """
    later = committed_months(as_of)
    cols = [_prepaid_col(m) for m in later]
    if not later:
        return interventions
    # the enriched frames carry intervention_key, the intervention's row: an integer to join on
    key = (
        "intervention_key"
        if "intervention_key" in interventions.columns and "intervention_key" in payments.columns
        else "intervention_id"
    )
    # plain date comparisons: this scans every payment of the scope's year
    ahead = payments.filter(
        (pl.col("period") >= date(as_of.year, later[0], 1))
        & (pl.col("period") <= date(as_of.year, 12, 31))
        & (pl.col("posted_on") <= as_of)
    )
    sums = ahead.group_by(key, pl.col("period").dt.month().alias("m")).agg(pl.col("amount").sum())
    wide = (
        sums.select(
            key,
            *[
                pl.when(pl.col("m") == m).then(pl.col("amount").clip(lower_bound=0.0)).otherwise(0.0).alias(c)
                for m, c in zip(later, cols, strict=True)
            ],
        )
        .group_by(key)
        .agg(pl.col(cols).sum())
    )
    if wide.height == 0:
        return interventions.drop(cols, strict=False).with_columns(pl.lit(0.0).alias(c) for c in cols)
    return (
        interventions.drop(cols, strict=False)
        .join(wide, on=key, how="left", maintain_order="left")
        .with_columns(pl.col(cols).fill_null(0.0))
    )


def _month_due(as_of: date, m: int) -> pl.Expr:
    return (pl.col("monthly_cost") * month_share(as_of.year, m) - pl.col(_prepaid_col(m))).clip(
        lower_bound=0.0
    )


def committed_month_amount(as_of: date, m: int) -> pl.Expr:
    """Per intervention (with prepaid columns): month m's max(0, monthly_cost × f(m) − prepaid(m));
    0 for interventions decided after as_of."""
    return pl.when(pl.col("decided_on") <= as_of).then(_month_due(as_of, m)).otherwise(0.0)


def committed_amount(as_of: date) -> pl.Expr:
    """Per intervention (with prepaid columns, see `with_prepaid`): kpis.md committed, the sum of
    `committed_month_amount` over the months after M."""
    later = committed_months(as_of)
    if not later:
        return pl.lit(0.0).alias("committed")
    due = pl.sum_horizontal([_month_due(as_of, m) for m in later])
    return pl.when(pl.col("decided_on") <= as_of).then(due).otherwise(0.0).alias("committed")


def committed(interventions: pl.DataFrame, payments: pl.DataFrame, as_of: date) -> float:
    """kpis.md committed of `interventions`; `payments` must hold (at least) their payments."""
    return float(with_prepaid(interventions, payments, as_of).select(committed_amount(as_of).sum()).item())


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
    pay = scoped_payments_economy(ex, scope, as_of.year)
    act = actual(pay, as_of)
    com = committed(scoped_interventions_economy(ex, scope, as_of.year), pay, as_of)
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
    pay_year = scoped_payments_year(ex, scope, as_of.year)
    pay = _with_group(ex, pay_year.filter(counted_in_actual(as_of)), scope, by)
    act = pay.group_by("group").agg(pl.col("amount").sum().alias("actual"))
    iv = with_prepaid(
        _with_group(ex, scoped_interventions_year(ex, scope, as_of.year), scope, by), pay_year, as_of
    )
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



def economy_group_cases(ex: Extract, scope: Scope, as_of: date, by: str, group: str | None) -> pl.DataFrame:
    """The cases behind one row of `economy_table(ex, scope, as_of, by)`: per case its
    actual, committed and expected within that group (group None: the row without a group).
    Summed over the cases, actual and committed equal the row's. Columns case_id, actual,
    committed, expected; sorted by expected (highest first), then case_id."""
    if by not in GROUPINGS:
        raise ValueError(f"unknown grouping {by!r}; choose one of {', '.join(GROUPINGS)}")
    in_group = pl.col("group").is_null() if group is None else pl.col("group") == group
    pay_year = scoped_payments_year(ex, scope, as_of.year)
    pay = _with_group(ex, pay_year.filter(counted_in_actual(as_of)), scope, by).filter(in_group)
    act = pay.group_by("case_id").agg(pl.col("amount").sum().alias("actual"))
    iv = _with_group(ex, scoped_interventions_year(ex, scope, as_of.year), scope, by).filter(in_group)
    com = with_prepaid(iv, pay_year, as_of).group_by("case_id").agg(committed_amount(as_of).sum())
    return (
        act.join(com, on="case_id", how="full", coalesce=True)
        .with_columns(pl.col("actual").fill_null(0.0), pl.col("committed").fill_null(0.0))
        .with_columns((pl.col("actual") + pl.col("committed")).alias("expected"))
        .filter((pl.col("actual") != 0) | (pl.col("committed") != 0))
        .select("case_id", "actual", "committed", "expected")
        .sort(["expected", "case_id"], descending=[True, False])
    )

# --- KPIs ---------------------------------------------------------------------------


def oekonomi_forventet_pct(ex: Extract, scope: Scope, as_of: date) -> KpiValue:
    fig = economy_total(ex, scope, as_of)
    pay = int(scoped_payments_economy(ex, scope, as_of.year).select(counted_in_actual(as_of).sum()).item())
    if fig.budget is None:
        return KpiValue(None, pay)
    return ratio(fig.expected, fig.budget, pay)


def _distinct_keys(keys: pl.Series) -> int:
    """n_unique of a dense non-negative integer key (case_key), by a bitmap: about twice as fast
    as hashing on large frames. A null counts as one value, as in n_unique."""
    nulls = keys.null_count()
    keys = keys.drop_nulls()
    if keys.len() == 0:
        return int(nulls > 0)
    seen = pl.zeros(int(keys.max()) + 1, dtype=pl.Boolean, eager=True).scatter(keys, True)  # type: ignore[arg-type]
    return int(seen.sum()) + (1 if nulls else 0)


def udgift_pr_sag_frames(payments: pl.DataFrame, as_of: date) -> KpiValue:
    # case_key (an integer per case, added when payments are enriched) counts the same cases faster
    key = "case_key" if "case_key" in payments.columns else "case_id"
    # one mask, then the two columns: a lazy filter would sum the amounts in parallel chunks,
    # which moves the last bits of the sum
    counted = payments.select("amount", key).filter(payments.select(counted_in_actual(as_of)).to_series())
    amount, n = counted["amount"].sum(), counted.height
    cases = _distinct_keys(counted[key]) if key == "case_key" else counted[key].n_unique()
    return ratio(float(amount), cases, int(n), scale=1.0)


def _udgift_at(ex: Extract, scope: Scope, as_of: date) -> KpiValue:
    """udgift_pr_sag at as_of, once per scope and date (the KPI and its change both need it);
    kept with the scoped frames, so clearing those clears it."""
    found = _memo(
        ex,
        (f"udgift_pr_sag:{as_of.isoformat()}", scope),
        lambda: pl.DataFrame(
            [udgift_pr_sag_frames(scoped_payments_udgift(ex, scope, as_of.year), as_of).__dict__]
        ),
    )
    return KpiValue(**found.row(0, named=True))


def udgift_pr_sag(ex: Extract, scope: Scope, as_of: date) -> KpiValue:
    return _udgift_at(ex, scope, as_of)


def udgift_pr_sag_aendring_pct(ex: Extract, scope: Scope, as_of: date) -> KpiValue:
    return udgift_change(_udgift_at(ex, scope, as_of), _udgift_at(ex, scope, one_year_earlier(as_of)))


def udgift_change(now: KpiValue, before: KpiValue) -> KpiValue:
    """udgift_pr_sag_aendring_pct from udgift_pr_sag at as_of and one year earlier."""
    basis = now.basis + before.basis
    if now.value is None or before.value is None or before.value == 0:
        return KpiValue(None, basis, now.value, before.value)
    return KpiValue((now.value / before.value - 1) * 100, basis, now.value, before.value)
