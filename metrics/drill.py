"""The rows behind a number (drill-through) and finding a case.

One function per KPI that has rows: each filters with the KPI's own predicates from
metrics.kpis (and metrics.economy), so the rows are exactly those counted, and keeps
only the rows the viewer may see (metrics.access). For a viewer who sees the whole
scope the rows add up to the KPI's numerator and denominator:

- `overdue_deadline_rows`: frister_overskredne (one row per deadline counted);
- `deadline_rows`: frister_overholdt_pct and its kinds (the eligible deadlines, `met`
  marks the numerator);
- `notification_24h_rows`: underretninger_24t_pct (the eligible notifications,
  `on_time` marks the numerator);
- `caseload_rows`: sager_pr_raadgiver (Σ active_cases = numerator, Σ fte = denominator);
- `economy_group_rows`: one row of the economy table by account, kind, category or
  child unit (Σ actual/committed/expected = the row's).

`search_cases` is Sag's case finder: server-side filtering and paging.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from metrics.access import Viewer, case_row_filter, person_row_filter, require_unit
from metrics.casework import DEADLINE_KIND_LABELS, known_case
from metrics.economy import economy_group_cases
from metrics.extract import Extract
from metrics.kpis import active_on, eligible_24h, on_time_24h, overdue
from metrics.org import org_tree
from metrics.scope import Scope, row_keys, scoped, scoped_year
from metrics.staff import employed_on
from metrics.values import cutoff, year_start

# KPI metric id → which rows stand behind it ("oekonomi": the Økonomi page itself).
DRILLS: dict[str, str] = {
    "frister_overskredne": "overdue_deadlines",
    "frister_overholdt_pct": "deadlines",
    "undersoegelser_rettidige_pct": "deadlines",
    "opfoelgninger_rettidige_pct": "deadlines",
    "underretninger_24t_pct": "notifications_24h",
    "sager_pr_raadgiver": "caseload",
    "aktive_sager": "caseload",
    "sygefravaer_pct": "long_sick_spells",
    "oekonomi_forventet_pct": "oekonomi",
    "udgift_pr_sag": "oekonomi",
    "udgift_pr_sag_aendring_pct": "oekonomi",
}
DEADLINE_KINDS: dict[str, str | None] = {
    "frister_overholdt_pct": None,
    "undersoegelser_rettidige_pct": "undersoegelse",
    "opfoelgninger_rettidige_pct": "opfoelgning",
}


def _names(ex: Extract) -> pl.DataFrame:
    return ex["employees"].select(
        pl.col("employee_id").alias("caseworker_id"), pl.col("name").alias("caseworker_name")
    )


def _unit_name(ex: Extract) -> pl.Expr:
    return pl.col("unit_id").replace_strict(org_tree(ex).name, default=None).alias("unit_name")


def _deadline_columns(ex: Extract, df: pl.DataFrame) -> pl.DataFrame:
    return df.join(_names(ex), on="caseworker_id", how="left").with_columns(
        _unit_name(ex),
        pl.col("kind").replace_strict(DEADLINE_KIND_LABELS, default=pl.col("kind")).alias("kind_label"),
    )


DEADLINE_ROW_COLUMNS = (
    "case_id",
    "deadline_id",
    "kind_label",
    "started_on",
    "due_on",
    "done_on",
    "caseworker_name",
    "unit_name",
)


def overdue_deadline_rows(ex: Extract, viewer: Viewer, scope: Scope, as_of: date) -> pl.DataFrame:
    """The deadlines frister_overskredne counts (due before as_of, not done by as_of) that the
    viewer may see; days_overdue = as_of − due_on. done_on shows only a date ≤ as_of. Longest
    overdue first."""
    rows = scoped(ex, "deadlines", scope).filter(overdue(as_of) & case_row_filter(ex, viewer))
    return (
        _deadline_columns(ex, rows)
        .with_columns(
            pl.when(pl.col("done_on") <= as_of).then(pl.col("done_on")).alias("done_on"),
            (pl.lit(as_of) - pl.col("due_on")).dt.total_days().alias("days_overdue"),
        )
        .select(*DEADLINE_ROW_COLUMNS, "days_overdue")
        .sort(["due_on", "deadline_id"])
    )


def deadline_rows(
    ex: Extract, viewer: Viewer, scope: Scope, as_of: date, kind: str | None = None
) -> pl.DataFrame:
    """The deadlines eligible for frister_overholdt_pct (kind None) or its kind (due this year
    through as_of) that the viewer may see; met = done_on ≤ min(due_on, as_of), the KPI's
    numerator. The missed ones first (oldest due date first), then the met ones."""
    d = scoped_year(ex, "deadlines", scope, as_of.year)
    if kind is not None:
        d = d.filter(pl.col("kind") == kind)
    rows = d.filter(pl.col("due_on").is_between(year_start(as_of), as_of) & case_row_filter(ex, viewer))
    met = pl.col("done_on").is_not_null() & (pl.col("done_on") <= pl.min_horizontal("due_on", pl.lit(as_of)))
    return (
        _deadline_columns(ex, rows)
        .with_columns(
            met.alias("met"),
            pl.when(pl.col("done_on") <= as_of).then(pl.col("done_on")).alias("done_on"),
        )
        .with_columns(
            pl.when(pl.col("met"))
            .then(pl.lit("Overholdt"))
            .otherwise(pl.lit("⚠ Ikke overholdt"))
            .alias("met_label")
        )
        .select(*DEADLINE_ROW_COLUMNS, "met", "met_label")
        .sort(["met", "due_on", "deadline_id"])
    )


def notification_24h_rows(ex: Extract, viewer: Viewer, scope: Scope, as_of: date) -> pl.DataFrame:
    """The notifications eligible for underretninger_24t_pct that the viewer may see (own cases'
    notifications for a caseworker, the subtree for leaders); on_time = the KPI's numerator.
    hours = hours from receipt to assessment, or to T when not assessed before T. Late first."""
    t = cutoff(as_of)
    rows = scoped_year(ex, "notifications", scope, as_of.year).filter(
        eligible_24h(as_of) & case_row_filter(ex, viewer)
    )
    assessed = pl.col("assessed_at").is_not_null() & (pl.col("assessed_at") < t)
    return (
        rows.with_columns(
            on_time_24h(as_of).alias("on_time"),
            pl.when(assessed).then(pl.col("assessed_at")).alias("assessed_at"),
            _unit_name(ex),
        )
        .with_columns(
            (
                (
                    pl.when(pl.col("assessed_at").is_not_null())
                    .then(pl.col("assessed_at"))
                    .otherwise(pl.lit(t))
                )
                - pl.col("received_at")
            )
            .dt.total_seconds()
            .truediv(3600)
            .alias("hours"),
            pl.when(pl.col("on_time"))
            .then(pl.lit("Inden for 24 timer"))
            .otherwise(pl.lit("⚠ Ikke inden for 24 timer"))
            .alias("on_time_label"),
        )
        .select(
            "notification_id",
            "case_id",
            "child_id",
            "unit_name",
            "received_at",
            "assessed_at",
            "hours",
            "on_time",
            "on_time_label",
        )
        .sort(["on_time", "received_at", "notification_id"])
    )


def caseload_rows(ex: Extract, viewer: Viewer, scope: Scope, as_of: date) -> pl.DataFrame:
    """sager_pr_raadgiver per caseworker: active_cases = the scope's cases active on as_of with
    this caseworker (the numerator's cases), fte = the employee's fte when they count in the
    denominator (role raadgiver, employed on as_of, in scope), else 0. A caseworker with cases
    but no fte in scope (e.g. in another unit) and a caseworker in scope without cases both
    get a row. Only rows the viewer may see (a caseworker: themselves). Most cases first."""
    counted = (
        scoped(ex, "cases", scope)
        .filter(active_on(as_of) & pl.col("caseworker_id").is_not_null() & case_row_filter(ex, viewer))
        .group_by("caseworker_id")
        .agg(pl.len().cast(pl.Int64).alias("active_cases"))
    )
    staff = (
        scoped(ex, "employees", scope)
        .filter((pl.col("role") == "raadgiver") & employed_on(as_of) & person_row_filter(ex, viewer))
        .select(pl.col("employee_id").alias("caseworker_id"), pl.col("fte").cast(pl.Float64))
    )
    emp = ex["employees"].select(pl.col("employee_id").alias("caseworker_id"), "name", "unit_id")
    out = (
        counted.join(staff, on="caseworker_id", how="full", coalesce=True)
        .with_columns(pl.col("active_cases").fill_null(0), pl.col("fte").fill_null(0.0))
        .join(emp, on="caseworker_id", how="left")
        .with_columns(
            _unit_name(ex),
            pl.when(pl.col("fte") > 0).then(pl.col("active_cases") / pl.col("fte")).alias("cases_per_fte"),
        )
    )
    if viewer.role == "raadgiver":
        out = out.filter(pl.col("caseworker_id") == viewer.employee_id)
    return out.select("caseworker_id", "name", "unit_name", "active_cases", "fte", "cases_per_fte").sort(
        ["active_cases", "name", "caseworker_id"], descending=[True, False, False], nulls_last=True
    )


def economy_group_rows(
    ex: Extract, viewer: Viewer, scope: Scope, as_of: date, by: str, group: str | None
) -> pl.DataFrame:
    """The cases behind one row of the economy table (metrics.economy.economy_group_cases)
    that the viewer may see, with unit and caseworker names. Highest expected first."""
    cases = (
        scoped(ex, "cases", scope)
        .filter(case_row_filter(ex, viewer))
        .select("case_id", "unit_id", "caseworker_id")
    )
    return (
        economy_group_cases(ex, scope, as_of, by, group)
        .join(cases, on="case_id", how="inner")
        .join(_names(ex), on="caseworker_id", how="left")
        .with_columns(_unit_name(ex))
        .select("case_id", "unit_name", "caseworker_name", "actual", "committed", "expected")
        .sort(["expected", "case_id"], descending=[True, False])
    )


# --- finding a case ---------------------------------------------------------------------

SEARCH_COLUMNS = ("case_id", "child_id", "caseworker_name", "unit_name", "active", "status", "last_activity")


@dataclass(frozen=True)
class CaseSearch:
    rows: pl.DataFrame  # one page, SEARCH_COLUMNS
    total: int  # matches in all
    offset: int


def last_activity(ex: Extract, as_of: date) -> pl.DataFrame:
    """Per case known at as_of: the latest of its opening, its closing, an intervention's
    decision, a payment's posting, a deadline's start or completion, all ≤ as_of.
    Cached per extract and date (one pass over the payments)."""
    key = ("last_activity", as_of)
    hit = ex._cache.get(key)
    if isinstance(hit, pl.DataFrame):
        return hit
    # by the intervention's row (payments keep intervention_id as it, see STORED_AS_ROWS)
    iv = ex["interventions"].select("case_id").with_row_index("row")
    pay = (
        pl.DataFrame({"row": row_keys(ex, "payments"), "posted_on": ex.stored("payments")["posted_on"]})
        .filter(pl.col("posted_on") <= as_of)
        .group_by("row")
        .agg(pl.col("posted_on").max().alias("d"))
        .join(iv, on="row", how="inner")
        .select("case_id", "d")
    )
    decided = (
        ex["interventions"]
        .filter(pl.col("decided_on") <= as_of)
        .select("case_id", pl.col("decided_on").alias("d"))
    )
    dl = ex["deadlines"]
    started = dl.filter(pl.col("started_on") <= as_of).select("case_id", pl.col("started_on").alias("d"))
    done = dl.filter(pl.col("done_on") <= as_of).select("case_id", pl.col("done_on").alias("d"))
    cases = ex["cases"].filter(known_case(as_of))
    opened = cases.select("case_id", pl.col("opened_on").alias("d"))
    closed = cases.filter(pl.col("closed_on") <= as_of).select("case_id", pl.col("closed_on").alias("d"))
    out = (
        pl.concat([opened, closed, decided, pay, started, done])
        .group_by("case_id")
        .agg(pl.col("d").max().alias("last_activity"))
    )
    ex._cache[key] = out
    return out


def search_cases(
    ex: Extract,
    viewer: Viewer,
    as_of: date,
    unit_id: str,
    query: str = "",
    *,
    offset: int = 0,
    limit: int = 50,
) -> CaseSearch:
    """The cases known at as_of in unit_id's subtree that the viewer may open (AccessDenied for
    a unit they may not see) whose case id, child pseudonym or caseworker name contains
    `query` (case-insensitive, literal; empty: all). Newest activity first (`last_activity`),
    then case_id; the page from `offset`, `limit` rows."""
    require_unit(ex, viewer, unit_id)
    scope = (
        Scope.caseworker(viewer.employee_id)
        if viewer.role == "raadgiver" and viewer.employee_id
        else Scope.unit(unit_id)
    )
    cases = (
        scoped(ex, "cases", scope)
        .filter(case_row_filter(ex, viewer) & known_case(as_of))
        .join(_names(ex), on="caseworker_id", how="left")
    )
    q = query.strip().lower()
    if q:
        cases = cases.filter(
            pl.col("case_id").str.to_lowercase().str.contains(q, literal=True)
            | pl.col("child_id").str.to_lowercase().str.contains(q, literal=True)
            | pl.col("caseworker_name").fill_null("").str.to_lowercase().str.contains(q, literal=True)
        )
    ranked = (
        cases.join(last_activity(ex, as_of), on="case_id", how="left")
        .with_columns(active_on(as_of).alias("active"), _unit_name(ex))
        .with_columns(pl.when(pl.col("active")).then(pl.lit("Aktiv")).otherwise(pl.lit("Lukket")).alias("status"))
        .sort(["last_activity", "case_id"], descending=[True, False], nulls_last=True)
    )
    offset = max(0, min(offset, max(ranked.height - 1, 0)))
    return CaseSearch(ranked.slice(offset, limit).select(SEARCH_COLUMNS), ranked.height, offset)
