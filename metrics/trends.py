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
from datetime import date

import polars as pl

from metrics import economy, kpis
from metrics.extract import Extract
from metrics.scope import Scope, scoped, scoped_payments_year, scoped_year
from metrics.values import KpiValue, one_year_earlier, ratio

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
    parts = _udgift_parts(scoped_payments_year(ex, scope, days[0].year), days)
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


def aktive_sager(ex: Extract, scope: Scope, days: Sequence[date]) -> list[KpiValue]:
    cases = scoped(ex, "cases", scope).select("opened_on", "closed_on")
    cases = cases.filter(
        (pl.col("opened_on") <= days[-1]) & (pl.col("closed_on").is_null() | (pl.col("closed_on") > days[0]))
    )
    got = _by_date(
        cases.join(_dates(days), how="cross").filter(kpis.active_on(pl.col(D))).group_by(D).len(), days
    )
    return [KpiValue(float(r["len"]), int(r["len"])) if r else KpiValue(0.0, 0) for r in got]  # type: ignore[call-overload]


OVER_DATES: dict[str, OverDates] = {
    "udgift_pr_sag": udgift_pr_sag,
    "udgift_pr_sag_aendring_pct": udgift_pr_sag_aendring_pct,
    "sygefravaer_pct": sygefravaer_pct,
    "aktive_sager": aktive_sager,
}
