"""The figures of the report pages Økonomi, Underretninger and Sygefravær beyond the
registry's KPIs. Definitions follow kpis.md; where a report needs more (a monthly path,
a per-month share) the docstring says exactly what is computed.

Aggregates take a Scope. Functions returning case- or person-level rows also take a
Viewer and return only rows in its scope (metrics.access).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import polars as pl

from metrics import registry
from metrics.access import Viewer, case_row_filter, person_row_filter
from metrics.economy import (
    EconomyFigures,
    committed_month_amount,
    counted_in_actual,
    economy_table,
    economy_total,
    with_prepaid,
)
from metrics.export import budget_status_text, with_total_row
from metrics.extract import Extract
from metrics.grouped import visible_children
from metrics.kpis import (
    HOURS_24,
    _weekdays,
    active_on,
    eligible_24h,
    on_time_24h,
    overdue_unassessed,
    received_ytd,
)
from metrics.org import org_tree
from metrics.scope import Scope, check_scope, scoped, scoped_interventions_year, scoped_payments_year
from metrics.values import KpiValue, cutoff, trend_dates, year_start

# --- labels ---------------------------------------------------------------------------

# Function names of the municipal chart of accounts (Budget- og regnskabssystem for kommuner).
ACCOUNT_NAMES: dict[str, str] = {
    "5.28.20": "Opholdssteder for børn og unge",
    "5.28.21": "Forebyggende foranstaltninger for børn og unge",
    "5.28.22": "Plejefamilier",
    "5.28.23": "Døgninstitutioner for børn og unge",
    "5.28.24": "Sikrede døgninstitutioner for børn og unge",
}
CATEGORY_LABELS: dict[str, str] = {
    "anbringelse": "Anbringelse",
    "forebyggende": "Forebyggende",
    "andet": "Andet",
}
SOURCE_LABELS: dict[str, str] = {
    "skole": "Skole",
    "dagtilbud": "Dagtilbud",
    "sundhed": "Sundhed",
    "politi": "Politi",
    "forælder": "Forælder",
    "anonym": "Anonym",
    "andet": "Andet",
}
# The economy groupings the Økonomi page offers, with their Danish names.
ECONOMY_GROUPINGS: dict[str, str] = {
    "account": "Konto",
    "kind_id": "Indsatstype",
    "category": "Kategori",
    "child_unit": "Underenhed",
}
NO_GROUP = "(uden gruppe)"


def account_label(account: str) -> str:
    """ "5.28.22 Plejefamilier"; an account without a known name shows as its number."""
    name = ACCOUNT_NAMES.get(account)
    return f"{account} {name}" if name else account


def _label_map(ex: Extract, scope: Scope, by: str, groups: list[str]) -> dict[str, str]:
    if by == "account":
        return {g: account_label(g) for g in groups}
    if by == "kind_id":
        kinds = ex["intervention_kinds"]
        names = dict(zip(kinds["kind_id"].to_list(), kinds["name"].to_list(), strict=True))
        return {g: names.get(g, g) for g in groups}
    if by == "category":
        return {g: CATEGORY_LABELS.get(g, g) for g in groups}
    tree = org_tree(ex)
    # The scope unit itself appears as a group for facts booked directly on it.
    return {g: (f"{tree.label(g)} (direkte)" if g == scope.unit_id else tree.label(g)) for g in groups}


# --- economy --------------------------------------------------------------------------

ECONOMY_BY_COLUMNS = (
    "group",
    "label",
    "budget",
    "actual",
    "committed",
    "expected",
    "deviation",
    "expected_pct",
)


def economy_headline(ex: Extract, scope: Scope, as_of: date) -> tuple[EconomyFigures, KpiValue]:
    """Budget, actual, committed, expected, deviation for the scope, and expected ÷ budget × 100."""
    return economy_total(ex, scope, as_of), registry.compute(ex, "oekonomi_forventet_pct", scope, as_of)


def economy_by(ex: Extract, scope: Scope, as_of: date, by: str) -> pl.DataFrame:
    """metrics.economy.economy_table with a Danish label per group and expected_pct =
    expected ÷ budget × 100 per group (null when the group has no budget or budget 0).

    Columns ECONOMY_BY_COLUMNS, sorted by label.
    """
    if by not in ECONOMY_GROUPINGS:
        raise ValueError(f"unknown grouping {by!r}; choose one of {', '.join(ECONOMY_GROUPINGS)}")
    table = economy_table(ex, scope, as_of, by)
    groups = [g for g in table["group"].to_list() if g is not None]
    labels = _label_map(ex, scope, by, groups)
    return (
        table.with_columns(
            pl.col("group").replace_strict(labels, default=NO_GROUP, return_dtype=pl.String).alias("label"),
            pl.when(pl.col("budget") > 0)
            .then(pl.col("expected") / pl.col("budget") * 100)
            .otherwise(None)
            .alias("expected_pct"),
        )
        .select(ECONOMY_BY_COLUMNS)
        .sort("label")
    )


def economy_by_with_total(ex: Extract, scope: Scope, as_of: date, by: str) -> pl.DataFrame:
    """`economy_by` with over_budget (expected > budget; null without a budget), its word and
    icon in budget_status (metrics.export.budget_status_text), and an "I alt" row
    (metrics.export.with_total_row, marked is_total): the sums, expected_pct recomputed from
    them, budget and deviation only where the grouping has a budget."""
    table = economy_by(ex, scope, as_of, by)
    over = pl.when(pl.col("budget").is_null()).then(None).otherwise(pl.col("expected") > pl.col("budget"))
    table = table.with_columns(over.alias("over_budget")).with_columns(
        budget_status_text(pl.col("over_budget")).alias("budget_status")
    )
    budgeted = table["budget"].null_count() < table.height
    sums = ["actual", "committed", "expected", *(["budget", "deviation"] if budgeted else [])]
    return with_total_row(
        table,
        "label",
        sums,
        {"expected_pct": ("expected", "budget")},
        flags={"over_budget": over, "budget_status": budget_status_text(over)},
    )


MONTHLY_ECONOMY_SCHEMA = {
    "month": pl.Date(),
    "actual_cum": pl.Float64(),
    "committed_cum": pl.Float64(),
    "expected_cum": pl.Float64(),
    "budget": pl.Float64(),
    "budget_path": pl.Float64(),
    "is_actual": pl.Boolean(),
}


def economy_monthly(ex: Extract, scope: Scope, as_of: date) -> pl.DataFrame:
    """The year's cumulative spending path against the budget, one row per month m = 1..12.

    With M the month of as_of and kpis.md's definitions:
    - actual_cum(m) = Σ amount of the payments counted in actual at as_of (posted_on ≤
      as_of, year(period) = year) whose period month is ≤ m. A payment posted ahead for a
      later month counts in the month it covers.
    - committed_cum(m) = 0 for m ≤ M; for m > M, Σ_{k=M+1..m} Σ over interventions
      decided by as_of of max(0, monthly_cost × f(k) − prepaid(k)) (kpis.md f, prepaid).
    - expected_cum(m) = actual_cum(m) + committed_cum(m). So expected_cum(12) = actual +
      committed = kpis.md expected, and expected_cum(M) includes no committed amount.
    - budget = the year's budget for the scope (null for a caseworker scope);
      budget_path(m) = budget × m ÷ 12, a straight line reaching budget in December.
    - is_actual = m ≤ M (the point rests on postings; later points add commitments).
    """
    year, big_m = as_of.year, as_of.month
    pay_year = scoped_payments_year(ex, scope, year)
    pay = (
        pay_year.filter(counted_in_actual(as_of))
        .group_by(pl.col("period").dt.month().alias("m"))
        .agg(pl.col("amount").sum())
    )
    by_month = dict(zip(pay["m"].to_list(), pay["amount"].to_list(), strict=True))
    iv = scoped_interventions_year(ex, scope, year).filter(pl.col("decided_on") <= as_of)
    later = list(range(big_m + 1, 13))
    com_month: dict[int, float] = {}
    if later and iv.height:
        row = (
            with_prepaid(iv, pay_year, as_of)
            .select(committed_month_amount(as_of, m).sum().alias(str(m)) for m in later)
            .row(0)
        )
        com_month = {m: float(v) for m, v in zip(later, row, strict=True)}
    figures = economy_total(ex, scope, as_of)
    months, act, com = [], [], []
    a = c = 0.0
    for m in range(1, 13):
        a += float(by_month.get(m, 0.0))
        c += com_month.get(m, 0.0)
        months.append(date(year, m, 1))
        act.append(a)
        com.append(c)
    bud = figures.budget
    return pl.DataFrame(
        {
            "month": months,
            "actual_cum": act,
            "committed_cum": com,
            "expected_cum": [x + y for x, y in zip(act, com, strict=True)],
            "budget": [bud] * 12,
            "budget_path": [None if bud is None else bud * m / 12 for m in range(1, 13)],
            "is_actual": [m <= big_m for m in range(1, 13)],
        },
        schema=MONTHLY_ECONOMY_SCHEMA,
    )


TOP_CASE_COLUMNS = {
    "case_id": pl.String(),
    "unit_id": pl.String(),
    "unit_name": pl.String(),
    "caseworker_name": pl.String(),
    "opened_on": pl.Date(),
    "interventions": pl.String(),
    "actual": pl.Float64(),
    "committed": pl.Float64(),
    "expected": pl.Float64(),
}


def top_cases(ex: Extract, viewer: Viewer, scope: Scope, as_of: date, n: int = 10) -> pl.DataFrame:
    """The n cases in scope active on as_of (kpis.md) with the highest expected cost this
    year (actual + committed of the case, kpis.md), among the cases the viewer may see
    (none for administration). Ties by case_id. Columns TOP_CASE_COLUMNS; interventions
    lists the kinds decided by as_of that have cost this year or run past as_of.
    """
    tree = org_tree(ex)
    cases = scoped(ex, "cases", scope).filter(active_on(as_of) & case_row_filter(ex, viewer))
    econ = economy_table(ex, scope, as_of, "case").rename({"group": "case_id"})
    top = (
        cases.join(econ.select("case_id", "actual", "committed", "expected"), on="case_id", how="left")
        .with_columns(pl.col("actual", "committed", "expected").fill_null(0.0))
        .sort(["expected", "case_id"], descending=[True, False])
        .head(n)
    )
    ids = top["case_id"].implode()
    kinds = (
        scoped(ex, "interventions", scope)
        .filter(
            pl.col("case_id").is_in(ids)
            & (pl.col("decided_on") <= as_of)
            & (pl.col("end_on").is_null() | (pl.col("end_on") >= year_start(as_of)))
        )
        .group_by("case_id")
        .agg(pl.col("kind_name").unique().sort().str.join(", ").alias("interventions"))
    )
    staff = ex["employees"].select("employee_id", pl.col("name").alias("caseworker_name"))
    out = (
        top.join(kinds, on="case_id", how="left")
        .join(staff, left_on="caseworker_id", right_on="employee_id", how="left")
        .with_columns(
            pl.col("unit_id").replace_strict(tree.name, default=None).alias("unit_name"),
            pl.col("interventions").fill_null(""),
        )
        .sort(["expected", "case_id"], descending=[True, False])
    )
    return out.select(pl.col(c).cast(t) for c, t in TOP_CASE_COLUMNS.items())


# --- notifications --------------------------------------------------------------------

NOTIFICATION_MONTH_SCHEMA = {
    "month": pl.Date(),
    "as_of": pl.Date(),
    "received": pl.Int64(),
    "eligible": pl.Int64(),
    "on_time": pl.Int64(),
    "pct_24h": pl.Float64(),
    "ytd_pct_24h": pl.Float64(),
}


def notifications_monthly(ex: Extract, scope: Scope, as_of: date) -> pl.DataFrame:
    """One row per month m of the year up to M, evaluated at d_m = the month's last day
    (as_of itself for M), with T_m = d_m + 1 day 00:00:

    - received: notifications in scope received in month m before T_m;
    - eligible, on_time: of those, kpis.md's underretninger_24t_pct rule at d_m (a
      notification received in the last 24 hours before T_m and not yet assessed is not
      eligible; on time = assessed before T_m within 24 hours of receipt);
    - pct_24h = on_time ÷ eligible × 100 for the month (null when eligible = 0);
    - ytd_pct_24h = the KPI underretninger_24t_pct itself at d_m (year to date), the
      scorecard trend.
    """
    days = trend_dates(as_of)
    cuts = pl.Series("T", [cutoff(d) for d in days], dtype=pl.Datetime("us"))
    never = len(days)
    year_from = datetime.combine(year_start(as_of), datetime.min.time())
    notes = scoped(ex, "notifications", scope).filter(
        (pl.col("received_at") >= year_from) & (pl.col("received_at") < cutoff(as_of))
    )
    received, assessed = notes["received_at"], notes["assessed_at"]
    # Both conditions of the rule only ever turn true as T grows, so each notification has a
    # first month end from which it is eligible (assessed before T, or 24 hours passed by T)
    # and, when assessed within 24 hours, one from which it is on time (assessed before T).
    k_received = cuts.search_sorted(received, side="right")  # first k with received < T_k
    k_assessed = cuts.search_sorted(assessed.fill_null(datetime.max), side="right")  # assessed < T_k
    k_due = cuts.search_sorted(received + HOURS_24, side="left")  # received + 24 h <= T_k
    within = assessed.is_not_null() & ((assessed - received) <= HOURS_24)
    k = pl.DataFrame(
        {"k_received": k_received, "k_assessed": k_assessed, "k_due": k_due, "within": within}
    ).select(
        pl.col("k_received").cast(pl.Int64),
        pl.min_horizontal("k_assessed", "k_due").cast(pl.Int64).alias("k_eligible"),
        pl.when("within").then(pl.col("k_assessed")).otherwise(never).cast(pl.Int64).alias("k_on_time"),
    )
    in_month = k.group_by("k_received").agg(
        pl.len().alias("received"),
        (pl.col("k_eligible") <= pl.col("k_received")).sum().alias("eligible"),
        (pl.col("k_on_time") <= pl.col("k_received")).sum().alias("on_time"),
    )
    first_eligible = k.group_by("k_eligible").agg(pl.len().alias("_e"))
    first_on_time = k.group_by("k_on_time").agg(pl.len().alias("_o"))
    pct = lambda num, den: pl.when(pl.col(den) > 0).then(pl.col(num) / pl.col(den) * 100)  # noqa: E731
    out = (
        pl.DataFrame({"k": list(range(never)), "as_of": days}, schema={"k": pl.Int64, "as_of": pl.Date})
        .join(in_month, left_on="k", right_on="k_received", how="left")
        .join(first_eligible, left_on="k", right_on="k_eligible", how="left")
        .join(first_on_time, left_on="k", right_on="k_on_time", how="left")
        .sort("k")
        .with_columns(pl.col("received", "eligible", "on_time", "_e", "_o").fill_null(0))
        .with_columns(
            pl.col("_e").cum_sum().alias("_ytd_e"),
            pl.col("_o").cum_sum().alias("_ytd_o"),
            pl.col("as_of").dt.month_start().alias("month"),
        )
        .with_columns(
            pct("on_time", "eligible").alias("pct_24h"), pct("_ytd_o", "_ytd_e").alias("ytd_pct_24h")
        )
    )
    return out.select(pl.col(c).cast(t) for c, t in NOTIFICATION_MONTH_SCHEMA.items())


SOURCE_SCHEMA = {
    "source": pl.String(),
    "label": pl.String(),
    "received": pl.Int64(),
    "eligible": pl.Int64(),
    "on_time": pl.Int64(),
    "pct_24h": pl.Float64(),
    "share_pct": pl.Float64(),
}


def notifications_by_source(ex: Extract, scope: Scope, as_of: date) -> pl.DataFrame:
    """Per source, the notifications received in YTD (kpis.md underretninger_antal) with
    the 24-hour rule at as_of recomputed per source, and share_pct = the source's share
    of all received. Sorted by received, descending, then label."""
    notes = scoped(ex, "notifications", scope).filter(received_ytd(as_of))
    total = notes.height
    out = (
        notes.with_columns(
            eligible_24h(as_of).alias("_e"), (eligible_24h(as_of) & on_time_24h(as_of)).alias("_o")
        )
        .group_by("source")
        .agg(
            pl.len().cast(pl.Int64).alias("received"),
            pl.col("_e").sum().cast(pl.Int64).alias("eligible"),
            pl.col("_o").sum().cast(pl.Int64).alias("on_time"),
        )
        .with_columns(
            pl.col("source").replace_strict(SOURCE_LABELS, default=pl.col("source")).alias("label"),
            pl.when(pl.col("eligible") > 0)
            .then(pl.col("on_time") / pl.col("eligible") * 100)
            .alias("pct_24h"),
            (pl.col("received") / total * 100 if total else pl.lit(None, dtype=pl.Float64)).alias(
                "share_pct"
            ),
        )
    )
    return out.select(pl.col(c).cast(t) for c, t in SOURCE_SCHEMA.items()).sort(
        ["received", "label"], descending=[True, False]
    )


def overdue_unassessed_count(ex: Extract, scope: Scope, as_of: date) -> int:
    """Notifications in scope received before T, not assessed before T, more than 24 hours ago."""
    return scoped(ex, "notifications", scope).filter(overdue_unassessed(as_of)).height


OVERDUE_NOTIFICATION_COLUMNS = {
    "notification_id": pl.String(),
    "child_id": pl.String(),
    "case_id": pl.String(),
    "unit_name": pl.String(),
    "source_label": pl.String(),
    "received_at": pl.Datetime("us"),
    "hours_waiting": pl.Float64(),
}


def overdue_unassessed_rows(ex: Extract, viewer: Viewer, scope: Scope, as_of: date) -> pl.DataFrame:
    """The notifications counted by overdue_unassessed_count that the viewer may see
    (metrics.access.case_row_filter: own cases' notifications for a caseworker, the
    subtree for leaders, none for administration). hours_waiting = hours from receipt
    to T. Oldest first."""
    tree = org_tree(ex)
    t = cutoff(as_of)
    rows = scoped(ex, "notifications", scope).filter(overdue_unassessed(as_of) & case_row_filter(ex, viewer))
    out = rows.with_columns(
        pl.col("unit_id").replace_strict(tree.name, default=None).alias("unit_name"),
        pl.col("source").replace_strict(SOURCE_LABELS, default=pl.col("source")).alias("source_label"),
        ((pl.lit(t) - pl.col("received_at")).dt.total_seconds() / 3600).alias("hours_waiting"),
    ).sort("received_at", "notification_id")
    return out.select(pl.col(c).cast(k) for c, k in OVERDUE_NOTIFICATION_COLUMNS.items())


# --- sick leave -----------------------------------------------------------------------

SICK_MONTH_SCHEMA = {
    "unit_id": pl.String(),
    "unit_name": pl.String(),
    "is_total": pl.Boolean(),
    "month": pl.Date(),
    "as_of": pl.Date(),
    "sick": pl.Float64(),
    "scheduled": pl.Float64(),
    "pct": pl.Float64(),
    "ytd_pct": pl.Float64(),
}


def _sick_by_month(employees: pl.DataFrame, absences: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """kpis.md sygefravaer_pct's numerator (sick) and denominator (scheduled) per group
    (column _g) and month m, over the weekdays of month m up to d_m only: sums over days,
    so the months add up to the year-to-date KPI at as_of."""
    days = trend_dates(as_of)
    months = pl.DataFrame(
        {"as_of": days, "_mlo": [date(d.year, d.month, 1) for d in days]},
        schema={"as_of": pl.Date(), "_mlo": pl.Date()},
    )
    emp = employees.select("employee_id", "fte", "_g", "employed_from", "employed_to").filter(
        (pl.col("employed_from") <= as_of)
        & (pl.col("employed_to").is_null() | (pl.col("employed_to") >= year_start(as_of)))
    )

    def fte_days(frame: pl.DataFrame, lo: list[pl.Expr], hi: list[pl.Expr], name: str) -> pl.DataFrame:
        return (
            frame.join(months, how="cross")
            .with_columns(pl.max_horizontal(lo).alias("_lo"), pl.min_horizontal(hi).alias("_hi"))
            .group_by("_g", "as_of")
            .agg((_weekdays(pl.col("_lo"), pl.col("_hi")) * pl.col("fte")).sum().cast(pl.Float64).alias(name))
        )

    employed_to = pl.col("employed_to").fill_null(pl.col("as_of"))
    scheduled = fte_days(
        emp, [pl.col("employed_from"), pl.col("_mlo")], [employed_to, pl.col("as_of")], "scheduled"
    )
    # Overlapping spells count a day once: merge them into disjoint runs per employee.
    runs = (
        absences.filter(pl.col("kind") == "egen_sygdom")
        .select("employee_id", "start_on", "end_on")
        .sort("employee_id", "start_on")
        .with_columns(
            (pl.col("start_on") > pl.col("end_on").cum_max().shift(1).over("employee_id"))
            .fill_null(True)
            .cum_sum()
            .over("employee_id")
            .alias("_run")
        )
        .group_by("employee_id", "_run")
        .agg(pl.col("start_on").min(), pl.col("end_on").max())
        # only runs that touch the months counted
        .filter((pl.col("end_on") >= year_start(as_of)) & (pl.col("start_on") <= as_of))
        .join(emp, on="employee_id", how="inner")
    )
    sick = fte_days(
        runs,
        [pl.col("start_on"), pl.col("employed_from"), pl.col("_mlo")],
        [pl.col("end_on"), employed_to, pl.col("as_of")],
        "sick",
    )
    return scheduled.join(sick, on=["_g", "as_of"], how="left").with_columns(pl.col("sick").fill_null(0.0))


def sick_leave_monthly(ex: Extract, scope: Scope, as_of: date) -> pl.DataFrame:
    """Sick leave % per month m of the year up to M (as_of for M), for the scope unit
    (is_total) and each of its child units (a child covers its subtree; the unit's own
    employees form the group "<unit> (direkte)" when it has any).

    For a group and month: sick and scheduled are kpis.md's sygefravaer_pct numerator
    and denominator over the weekdays of month m up to d_m only (so the months add up to
    the year-to-date KPI); pct = sick ÷ scheduled × 100 (null when nobody was scheduled);
    ytd_pct = Σ sick ÷ Σ scheduled over months 1..m = kpis.md sygefravaer_pct at d_m (the
    trend). Never an average of units or months: the total is recomputed from the sums.
    """
    check_scope(ex, scope)
    if scope.unit_id is None:
        raise ValueError("sick leave per unit needs a unit scope")
    tree = org_tree(ex)
    mapping = tree.child_of(scope.unit_id)
    group = pl.col("unit_id").replace_strict(mapping, default=None).alias("_g")
    emp = scoped(ex, "employees", scope).with_columns(group)
    absn = scoped(ex, "absences", scope).with_columns(group)
    per_group = _sick_by_month(emp, absn, as_of)
    total = per_group.group_by("as_of").agg(pl.col("sick").sum(), pl.col("scheduled").sum())
    kids = sorted(visible_children(ex, scope.unit_id, scope.within), key=tree.label)
    has_direct = emp.filter(pl.col("_g") == scope.unit_id).height > 0
    order = [scope.unit_id] + kids + ([scope.unit_id] if kids and has_direct else [])
    total_key = "\u0000total"  # not a unit_id: the whole scope
    rows = pl.concat([total.with_columns(pl.lit(total_key).alias("_g")), per_group], how="diagonal_relaxed")
    names = [tree.label(order[0])] + [
        f"{tree.label(g)} (direkte)" if g == scope.unit_id else tree.label(g) for g in order[1:]
    ]
    groups = pl.DataFrame(
        {
            "_g": [total_key, *order[1:]],
            "unit_id": order,
            "unit_name": names,
            "is_total": [True] + [False] * (len(order) - 1),
            "_rank": list(range(len(order))),
        }
    )
    days = pl.DataFrame({"as_of": trend_dates(as_of)}, schema={"as_of": pl.Date()})
    out = (
        groups.join(days, how="cross")
        .join(rows, on=["_g", "as_of"], how="left")
        .sort("_rank", "as_of")
        .with_columns(
            pl.col("sick", "scheduled").fill_null(0.0),
            pl.col("as_of").dt.month_start().alias("month"),
        )
        .with_columns(
            pl.when(pl.col("scheduled") > 0).then(pl.col("sick") / pl.col("scheduled") * 100).alias("pct"),
            # The months add up to the year to date, so this is the KPI at each month end.
            pl.when(pl.col("scheduled").cum_sum().over("_rank") > 0)
            .then(pl.col("sick").cum_sum().over("_rank") / pl.col("scheduled").cum_sum().over("_rank") * 100)
            .alias("ytd_pct"),
        )
    )
    return out.select(pl.col(c).cast(t) for c, t in SICK_MONTH_SCHEMA.items())


LONG_SPELL_COLUMNS = {
    "employee_id": pl.String(),
    "name": pl.String(),
    "unit_name": pl.String(),
    "start_on": pl.Date(),
    "end_on": pl.Date(),
    "ongoing": pl.Boolean(),
    "ongoing_label": pl.String(),
    "days": pl.Int64(),
}


def long_sick_spells(
    ex: Extract, viewer: Viewer, scope: Scope, as_of: date, min_days: int = 14
) -> pl.DataFrame:
    """Own-sickness absences longer than min_days calendar days this year, person-level
    rows the viewer may see (metrics.access.person_row_filter).

    An absence is a run of egen_sygdom spells of one employee merged where they overlap
    or touch (the next starts at most one day after the last ended; a day counts once),
    as known at as_of: spells starting after as_of are unknown, and a run still going at
    as_of ends at as_of (ongoing = True, end_on null). days = end − start + 1 calendar
    days through min(end, as_of). Listed: runs with days > min_days that reach into the
    year (end ≥ 1 January). Longest first.
    """
    tree = org_tree(ex)
    spells = (
        scoped(ex, "absences", scope)
        .filter(
            (pl.col("kind") == "egen_sygdom") & (pl.col("start_on") <= as_of) & person_row_filter(ex, viewer)
        )
        .select("employee_id", "unit_id", "start_on", "end_on")
        .sort("employee_id", "start_on")
    )
    runs = (
        spells.with_columns(
            (
                pl.col("start_on")
                > (pl.col("end_on").cum_max().shift(1).over("employee_id") + timedelta(days=1))
            )
            .fill_null(True)
            .cum_sum()
            .over("employee_id")
            .alias("_run")
        )
        .group_by("employee_id", "_run")
        .agg(pl.col("unit_id").first(), pl.col("start_on").min(), pl.col("end_on").max())
        .with_columns(
            (pl.col("end_on") > as_of).alias("ongoing"),
            pl.min_horizontal("end_on", pl.lit(as_of)).alias("_until"),
        )
        .with_columns(((pl.col("_until") - pl.col("start_on")).dt.total_days() + 1).alias("days"))
        .filter((pl.col("days") > min_days) & (pl.col("_until") >= year_start(as_of)))
    )
    staff = ex["employees"].select("employee_id", "name")
    out = (
        runs.join(staff, on="employee_id", how="left")
        .with_columns(
            pl.col("unit_id").replace_strict(tree.name, default=None).alias("unit_name"),
            pl.when(pl.col("ongoing")).then(None).otherwise(pl.col("end_on")).alias("end_on"),
            pl.when(pl.col("ongoing"))
            .then(pl.lit("Igangværende"))
            .otherwise(pl.lit("Afsluttet"))
            .alias("ongoing_label"),
        )
        .sort(["days", "employee_id", "start_on"], descending=[True, False, False])
    )
    return out.select(pl.col(c).cast(t) for c, t in LONG_SPELL_COLUMNS.items())


@dataclass(frozen=True)
class Target:
    """A scorecard KPI's target for a report (from config/scorecard.toml)."""

    value: float
    direction: str
    tolerance: float
    name: str


def scorecard_target(metric_id: str) -> Target | None:
    """The target of the first scorecard KPI computed from metric_id; None when the
    scorecard file has none or can't be read."""
    from metrics.scorecard import ScorecardError, load_scorecard

    try:
        card = load_scorecard()
    except ScorecardError:
        return None
    for k in card.kpis:
        if k.metric == metric_id:
            return Target(k.target, k.direction, k.tolerance, k.name)
    return None
