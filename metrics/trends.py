"""A KPI at several dates of one year in one grouped pass (the monthly trend, kpis.md
Scorecard status): the same definitions as `kpis` and `economy`, evaluated for every date at
once instead of once per date. A metric without a form here is evaluated date by date.

Two ways, by the shape of the rule:
- facts that count once their date has passed (payments by `posted_on`): each row goes to the
  first date on or after its own, the buckets are summed and accumulated;
- any other rule: the year's rows, only the columns the rule needs, paired with every date
  (`d`), and grouped by `d`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from itertools import accumulate

import polars as pl

from metrics import economy, kpis
from metrics.extract import Extract
from metrics.org import org_tree
from metrics.scope import (
    Scope,
    scoped,
    scoped_deadlines_kpi,
    scoped_interventions_economy,
    scoped_notifications_kpi,
    scoped_payments_economy,
    scoped_payments_udgift,
    scoped_year,
)
from metrics.staff import employed_on
from metrics.values import KpiValue, one_year_earlier, ratio, year_start

OverDates = Callable[[Extract, Scope, Sequence[date]], list[KpiValue]]
D = "d"


def _dates(days: Sequence[date]) -> pl.DataFrame:
    return pl.DataFrame({D: list(days)}, schema={D: pl.Date})


def _by_date(df: pl.DataFrame, days: Sequence[date]) -> list[dict[str, object] | None]:
    got = {r[D]: r for r in df.iter_rows(named=True)}
    return [got.get(d) for d in days]


def _udgift_parts(payments: pl.DataFrame, days: Sequence[date]) -> list[tuple[float, int, int]]:
    """(actual, distinct cases, rows) of `economy.udgift_pr_sag_frames` at each day; `payments`
    are one year's (period), the days within that year, ascending."""
    counted = payments.select("posted_on", "amount", "case_key").filter(pl.col("posted_on") <= days[-1])
    idx = pl.Series(list(days), dtype=pl.Date).search_sorted(counted["posted_on"], side="left")
    counted = counted.with_columns(idx.alias("b"))
    per = counted.group_by("b").agg(pl.col("amount").sum(), pl.len().alias("n"))
    first = counted.group_by("case_key").agg(pl.col("b").min()).group_by("b").len().rename({"len": "cases"})
    amount = dict(per.select("b", "amount").iter_rows())
    rows = dict(per.select("b", "n").iter_rows())
    cases = dict(first.iter_rows())
    out, a, n, c = [], 0.0, 0, 0
    for i in range(len(days)):
        a += float(amount.get(i, 0.0))
        n += int(rows.get(i, 0))
        c += int(cases.get(i, 0))
        out.append((a, c, n))
    return out


def _udgift_values(ex: Extract, scope: Scope, days: Sequence[date]) -> list[KpiValue]:
    parts = _udgift_parts(scoped_payments_udgift(ex, scope, days[0].year), days)
    return [ratio(a, c, n, scale=1.0) for a, c, n in parts]


def udgift_pr_sag(ex: Extract, scope: Scope, days: Sequence[date]) -> list[KpiValue]:
    return _udgift_values(ex, scope, days)


def udgift_pr_sag_aendring_pct(ex: Extract, scope: Scope, days: Sequence[date]) -> list[KpiValue]:
    now = _udgift_values(ex, scope, days)
    before = _udgift_values(ex, scope, [one_year_earlier(d) for d in days])
    return [economy.udgift_change(a, b) for a, b in zip(now, before, strict=True)]


def sygefravaer_pct(ex: Extract, scope: Scope, days: Sequence[date]) -> list[KpiValue]:
    emp = scoped(ex, "employees", scope).select("employee_id", "fte", "employed_from", "employed_to")
    absences = scoped_year(ex, "absences", scope, days[0].year)
    parts = kpis.sygefravaer_parts(emp.join(_dates(days), how="cross"), absences, pl.col(D), [D])
    empty = {"sick": 0.0, "scheduled": 0.0, "employees": 0, "spells": 0}
    return [
        kpis.sygefravaer_value(*((r or empty)[k] for k in empty))  # type: ignore[arg-type]
        for r in _by_date(parts, days)
    ]


def _active_counts(cases: pl.DataFrame, days: Sequence[date]) -> list[int]:
    """Cases active (kpis.active_on: opened_on ≤ d < closed_on) at each of `days` (ascending).
    A case counts from the first day on or after its opening up to the last one before its
    closing: counted by those two day indexes, without pairing every case with every day (at
    the national root that pairing was 5.6 million rows)."""
    day = pl.Series(list(days), dtype=pl.Date)
    cases = cases.filter(pl.col("opened_on").is_not_null())
    after_last = days[-1] + timedelta(days=1)
    spans = pl.DataFrame(
        {
            "start": day.search_sorted(cases["opened_on"], side="left"),
            "stop": day.search_sorted(cases["closed_on"].fill_null(after_last), side="left"),
        }
    ).filter(pl.col("stop") > pl.col("start"))
    change = [0] * (len(days) + 1)
    for k, n in spans.group_by("start").len().iter_rows():
        change[k] += n
    for k, n in spans.group_by("stop").len().iter_rows():
        change[k] -= n
    return list(accumulate(change[: len(days)]))


def aktive_sager(ex: Extract, scope: Scope, days: Sequence[date]) -> list[KpiValue]:
    counts = _active_counts(scoped(ex, "cases", scope).select("opened_on", "closed_on"), days)
    return [KpiValue(float(n), n) for n in counts]


def sager_pr_raadgiver(ex: Extract, scope: Scope, days: Sequence[date]) -> list[KpiValue]:
    """Assigned active cases ÷ the FTE of caseworkers employed, at each day (kpis.sager_pr_raadgiver_frames)."""
    cases = scoped(ex, "cases", scope).filter(pl.col("caseworker_id").is_not_null())
    assigned = _active_counts(cases.select("opened_on", "closed_on"), days)
    staff = scoped(ex, "employees", scope).filter(pl.col("role") == "raadgiver")
    fte = _by_date(
        staff.select("employed_from", "employed_to", "fte")
        .join(_dates(days), how="cross")
        .filter(employed_on(pl.col(D)))
        .group_by(D)
        .agg(pl.col("fte").sum(), pl.len().alias("n")),
        days,
    )
    out = []
    for n_cases, s in zip(assigned, fte, strict=True):
        total, n_staff = (float(s["fte"]), int(s["n"])) if s else (0.0, 0)  # type: ignore[call-overload]
        out.append(ratio(float(n_cases), total, n_cases + n_staff, scale=1.0))
    return out


def personaleomsaetning_pct(ex: Extract, scope: Scope, days: Sequence[date]) -> list[KpiValue]:
    """Leavers in the 365 days up to each day ÷ the mean headcount then and now
    (kpis.personaleomsaetning_pct_frames)."""
    start = pl.col(D) - pl.duration(days=365)
    got = _by_date(
        scoped(ex, "employees", scope)
        .select("employed_from", "employed_to")
        .join(_dates(days), how="cross")
        .group_by(D)
        .agg(
            (
                pl.col("employed_to").is_not_null()
                & (pl.col("employed_to") > start)
                & (pl.col("employed_to") <= pl.col(D))
            )
            .sum()
            .alias("leavers"),
            employed_on(start).sum().alias("then"),
            employed_on(pl.col(D)).sum().alias("now"),
        ),
        days,
    )
    out = []
    for r in got:
        leavers, then, now = (int(r["leavers"]), int(r["then"]), int(r["now"])) if r else (0, 0, 0)  # type: ignore[call-overload]
        out.append(ratio(float(leavers), (then + now) / 2, leavers + then + now))
    return out


def measurement(kpi_id: str) -> OverDates:
    """A measurement KPI at each day (kpis.measurement_frames): each unit's latest rows up to the
    day in one grouped pass, then the tree rule per day."""

    def over(ex: Extract, scope: Scope, days: Sequence[date]) -> list[KpiValue]:
        if scope.unit_id is None:
            return [KpiValue(None, 0) for _ in days]
        unit_id = scope.unit_id
        m = scoped(ex, "measurements", scope).filter(
            (pl.col("kpi_id") == kpi_id) & (pl.col("period_end") <= days[-1])
        )
        paired = m.join(_dates(days), how="cross").filter(pl.col("period_end") <= pl.col(D))
        own: dict[date, dict[str, dict[str, object]]] = {d: {} for d in days}
        for r in kpis.measurement_latest(paired, [D]).iter_rows(named=True):
            own[r[D]][r["unit_id"]] = r
        children = org_tree(ex).children
        return [kpis.measurement_tree(own[d], children)(unit_id) for d in days]  # type: ignore[arg-type]

    return over


def _cumulative(df: pl.DataFrame, days: Sequence[date], column: str, exprs: list[pl.Expr]) -> pl.DataFrame:
    """`exprs` summed over the rows whose `column` ≤ each day: bucket per row (the first day on or
    after it), sums per bucket, accumulated. One row per day, in order, column `i` its index."""
    idx = pl.Series(list(days), dtype=pl.Date).search_sorted(df[column], side="left")
    per = df.with_columns(idx.alias("i")).group_by("i").agg(exprs)
    names = [e.meta.output_name() for e in exprs]
    return (
        pl.DataFrame({"i": range(len(days))}, schema={"i": pl.UInt32})
        .join(per.with_columns(pl.col("i").cast(pl.UInt32)), on="i", how="left")
        .sort("i")
        .with_columns(pl.col(names).fill_null(0).cum_sum())
    )


def oekonomi_forventet_pct(ex: Extract, scope: Scope, days: Sequence[date]) -> list[KpiValue]:
    """expected ÷ budget at every day: actual accumulated by posted_on; committed as the dues of
    the months after each day's month of interventions decided by it, less what was prepaid by it
    (max(0, due − prepaid) = due − min(due, prepaid), as due and prepaid are ≥ 0)."""
    year = days[0].year
    pay = scoped_payments_economy(ex, scope, year).select("intervention_key", "period", "posted_on", "amount")
    pay = pay.filter(pl.col("posted_on") <= days[-1])
    act = _cumulative(pay, days, "posted_on", [pl.col("amount").sum(), pl.len().alias("n")])
    months = range(1, 13)
    due = [(pl.col("monthly_cost") * economy.month_share(year, m)).alias(f"due_{m}") for m in months]
    iv = scoped_interventions_economy(ex, scope, year).select(
        "intervention_key", "decided_on", "start_on", "end_on", "monthly_cost"
    )
    dues = _cumulative(iv, days, "decided_on", [e.sum() for e in due])
    month_of = [d.month for d in days]
    committed = [sum(float(dues[f"due_{m}"][i]) for m in months if m > month_of[i]) for i in range(len(days))]
    # paid for a month after the one it was posted in: only these can be prepaid at some day
    ahead = pay.filter(pl.col("period") > pl.col("posted_on").dt.month_start())
    if ahead.height:
        ahead = ahead.with_columns(
            pl.Series(list(days), dtype=pl.Date).search_sorted(ahead["posted_on"], side="left").alias("b"),
            pl.col("period").dt.month().alias("m"),
        )
        dates = pl.DataFrame({"i": range(len(days)), "M": month_of}, schema={"i": pl.Int64, "M": pl.Int8})
        ivs = iv.filter(pl.col("intervention_key").is_in(ahead["intervention_key"].unique().implode()))
        ivs = ivs.with_columns(
            pl.Series(list(days), dtype=pl.Date).search_sorted(ivs["decided_on"], side="left").alias("dec"),
            *due,
        )
        due_m = pl.coalesce([pl.when(pl.col("m") == m).then(pl.col(f"due_{m}")) for m in months])
        prepaid = (
            ahead.join(dates, how="cross")
            .filter((pl.col("b") <= pl.col("i")) & (pl.col("m") > pl.col("M")))
            .group_by("i", "intervention_key", "m")
            .agg(pl.col("amount").sum().clip(lower_bound=0.0).alias("p"))
            .join(ivs, on="intervention_key", how="inner")
            .filter(pl.col("dec") <= pl.col("i"))
            .group_by("i")
            .agg(pl.min_horizontal(due_m, pl.col("p")).sum().alias("less"))
        )
        for i, less in prepaid.iter_rows():
            committed[i] -= float(less)
    bud = economy.budget(scoped(ex, "budgets", scope), year) if scope.caseworker_id is None else None
    out = []
    for i in range(len(days)):
        n = int(act["n"][i])
        if bud is None:
            out.append(KpiValue(None, n))
        else:
            out.append(ratio(float(act["amount"][i]) + committed[i], bud, n))
    return out


def _deadlines_met(kind: str | None) -> OverDates:
    """eligible at d: due_on in [1 January, d]; met: done_on ≤ min(due_on, d), which for a
    due_on ≤ d is done_on ≤ due_on. Both grow with due_on: accumulated by it."""

    def over(ex: Extract, scope: Scope, days: Sequence[date]) -> list[KpiValue]:
        d = scoped_deadlines_kpi(ex, scope, days[0].year).select("kind", "due_on", "done_on")
        if kind is not None:
            d = d.filter(pl.col("kind") == kind)
        d = d.filter(pl.col("due_on").is_between(year_start(days[0]), days[-1]))
        met = pl.col("done_on").is_not_null() & (pl.col("done_on") <= pl.col("due_on"))
        acc = _cumulative(d, days, "due_on", [pl.len().alias("eligible"), met.sum().alias("met")])
        return [ratio(float(m), float(e), int(e)) for e, m in acc.select("eligible", "met").iter_rows()]

    return over


def underretninger_antal(ex: Extract, scope: Scope, days: Sequence[date]) -> list[KpiValue]:
    """received_at in YTD before T = d + 1 day: the received date ≤ d."""
    n = scoped_notifications_kpi(ex, scope, days[0].year).select(pl.col("received_at").dt.date().alias("day"))
    acc = _cumulative(n.filter(pl.col("day") <= days[-1]), days, "day", [pl.len().alias("n")])
    return [KpiValue(float(k), int(k)) for k in acc["n"]]


OVER_DATES: dict[str, OverDates] = {
    "frister_overholdt_pct": _deadlines_met(None),
    "undersoegelser_rettidige_pct": _deadlines_met("undersoegelse"),
    "opfoelgninger_rettidige_pct": _deadlines_met("opfoelgning"),
    "underretninger_antal": underretninger_antal,
    "oekonomi_forventet_pct": oekonomi_forventet_pct,
    "udgift_pr_sag": udgift_pr_sag,
    "udgift_pr_sag_aendring_pct": udgift_pr_sag_aendring_pct,
    "sygefravaer_pct": sygefravaer_pct,
    "aktive_sager": aktive_sager,
    "sager_pr_raadgiver": sager_pr_raadgiver,
    "personaleomsaetning_pct": personaleomsaetning_pct,
}
