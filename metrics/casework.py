"""Case-level views: one caseworker's cases (Rådgiveroverblik) and one case in detail (Sag).

Every function that returns case-level rows takes a Viewer and either raises
AccessDenied (a named case or caseworker outside the viewer's scope) or returns
only rows in scope. Facts dated after as_of are unknown (kpis.md "as_of"): a case
opened later, an intervention decided later, a deadline started later and a
payment posted later are left out; a `closed_on` or `done_on` after as_of reads
as "not yet".

Which cases a caseworker's list holds: the cases whose caseworker_id is that
employee (kpis.md caseworker scope) that are active on as_of, plus the cases
closed earlier that still carry cost in the year (actual or committed ≠ 0). A
team leader reviewing the year must see every krone of the caseworker's expected
cost, so the totals row equals the caseworker's economy figures; a case closed
in March after three months of a placement is a real cost this year.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

from metrics import registry
from metrics.access import (
    AccessDenied,
    Viewer,
    aggregate_root,
    case_row_filter,
    person_row_filter,
    require_case,
    require_caseworker,
    require_unit,
    scope_for,
)
from metrics.economy import (
    EconomyFigures,
    actual,
    committed,
    counted_in_actual,
    economy_table,
    month_share,
)
from metrics.extract import Extract
from metrics.kpis import active_on, overdue
from metrics.org import org_tree
from metrics.scope import Scope, row_keys, scoped
from metrics.staff import employed_on
from metrics.values import KpiValue, month_end

__all__ = [
    "DEADLINE_KIND_LABELS",
    "DEADLINE_STATUS_LABELS",
    "AccessDenied",
    "CaseDetail",
    "CaseFacts",
    "CaseNotKnownYet",
    "Caseload",
    "CaseworkerTotals",
    "case_detail",
    "caseload",
    "cases_visible",
    "caseworker_cases",
    "caseworker_totals",
    "caseworkers_visible",
    "require_known_case",
]

DEADLINE_KIND_LABELS: dict[str, str] = {
    "undersoegelse": "Børnefaglig undersøgelse",
    "handleplan": "Handleplan",
    "opfoelgning": "Opfølgning",
}
DEADLINE_STATUS_LABELS: dict[str, str] = {
    "met_on_time": "Overholdt",
    "met_late": "Afsluttet for sent",
    "open": "Åben",
    "overdue": "Overskredet",
}

CASEWORKER_CASE_COLUMNS: dict[str, pl.DataType] = {
    "case_id": pl.String(),
    "active": pl.Boolean(),
    "closed_on": pl.Date(),
    "age": pl.Int64(),
    "active_interventions": pl.UInt32(),
    "intervention_names": pl.String(),
    "monthly_cost_now": pl.Float64(),
    "actual": pl.Float64(),
    "committed": pl.Float64(),
    "expected": pl.Float64(),
    "next_deadline_due": pl.Date(),
    "next_deadline_kind": pl.String(),
    "overdue": pl.UInt32(),
}


# --- shared expressions ---------------------------------------------------------------


def known_case(as_of: date) -> pl.Expr:
    """Cases that exist at as_of."""
    return pl.col("opened_on") <= as_of


def known_intervention(as_of: date) -> pl.Expr:
    return pl.col("decided_on") <= as_of


def running_on(as_of: date) -> pl.Expr:
    """Interventions decided by as_of whose start..end covers as_of."""
    return (
        known_intervention(as_of)
        & (pl.col("start_on") <= as_of)
        & (pl.col("end_on").is_null() | (pl.lit(as_of) <= pl.col("end_on")))
    )


def known_deadline(as_of: date) -> pl.Expr:
    return pl.col("started_on") <= as_of


def open_deadline(as_of: date) -> pl.Expr:
    """Started by as_of and not done by as_of (a done_on after as_of is not known yet)."""
    return known_deadline(as_of) & (pl.col("done_on").is_null() | (pl.col("done_on") > as_of))


def deadline_status(as_of: date) -> pl.Expr:
    """kpis.md at as_of: met on time = done_on ≤ min(due_on, as_of); overdue = frister_overskredne's rule."""
    done = pl.col("done_on").is_not_null() & (pl.col("done_on") <= as_of)
    return (
        pl.when(done & (pl.col("done_on") <= pl.col("due_on")))
        .then(pl.lit("met_on_time"))
        .when(done)
        .then(pl.lit("met_late"))
        .when(overdue(as_of))
        .then(pl.lit("overdue"))
        .otherwise(pl.lit("open"))
        .alias("status")
    )


# --- caseworkers -----------------------------------------------------------------------


def _base_unit(ex: Extract, viewer: Viewer, unit_id: str | None) -> str:
    """The unit whose subtree a list covers: unit_id, which the viewer must be allowed to see,
    or the top of what the viewer may see."""
    if unit_id is None:
        return aggregate_root(ex, viewer)
    require_unit(ex, viewer, unit_id)
    return unit_id


def caseworkers_visible(ex: Extract, viewer: Viewer, as_of: date, unit_id: str | None = None) -> pl.DataFrame:
    """The caseworkers the viewer may pick: employees employed on as_of who are caseworkers
    (role raadgiver) or hold a case active on as_of, in unit_id's subtree when given; a
    raadgiver gets only themselves.

    Columns: employee_id, name, unit_id, unit_name. Sorted by name.
    """
    tree = org_tree(ex)
    unit = _base_unit(ex, viewer, unit_id)
    holders = scoped(ex, "cases", Scope.unit(unit)).filter(
        active_on(as_of) & pl.col("caseworker_id").is_not_null()
    )["caseworker_id"]
    staff = scoped(ex, "employees", Scope.unit(unit)).filter(
        employed_on(as_of)
        & ((pl.col("role") == "raadgiver") | pl.col("employee_id").is_in(holders.unique().implode()))
    )
    if viewer.role == "raadgiver":  # themselves, wherever the unit filter points
        staff = ex["employees"].filter(pl.col("employee_id") == viewer.employee_id)
    # person_row_filter is can_see_caseworker as an expression: self, the subtree, or nobody.
    return (
        staff.filter(person_row_filter(ex, viewer))
        .select(
            "employee_id",
            "name",
            "unit_id",
            pl.col("unit_id").replace_strict(tree.name, default=None).alias("unit_name"),
        )
        .sort("name", "employee_id")
    )


def caseworker_cases(ex: Extract, viewer: Viewer, caseworker_id: str, as_of: date) -> pl.DataFrame:
    """The caseworker's cases at as_of, one row per case (see the module docstring for which).

    Columns (CASEWORKER_CASE_COLUMNS): case_id; active (on as_of); closed_on (null when
    not closed by as_of); age (year(as_of) − birth_year: the age the child reaches this
    year); active_interventions and intervention_names (running on as_of);
    monthly_cost_now (Σ monthly_cost of those); actual, committed, expected (kpis.md,
    for the case); next_deadline_due/kind (the open deadline due first, overdue ones
    included); overdue (kpis.md frister_overskredne for the case). Sorted by case_id.
    """
    require_caseworker(ex, viewer, caseworker_id)
    scope = Scope.caseworker(caseworker_id)
    visible = case_row_filter(ex, viewer)
    cases = scoped(ex, "cases", scope).filter(visible & known_case(as_of))
    ids = cases["case_id"].implode()

    econ = (
        economy_table(ex, scope, as_of, by="case")
        .rename({"group": "case_id"})
        .select("case_id", "actual", "committed", "expected")
    )
    running = (
        scoped(ex, "interventions", scope)
        .filter(pl.col("case_id").is_in(ids) & running_on(as_of))
        .group_by("case_id")
        .agg(
            pl.len().alias("active_interventions"),
            pl.col("kind_name").unique().sort().str.join(", ").alias("intervention_names"),
            pl.col("monthly_cost").sum().alias("monthly_cost_now"),
        )
    )
    dl = scoped(ex, "deadlines", scope).filter(pl.col("case_id").is_in(ids))
    next_dl = (
        dl.filter(open_deadline(as_of))
        .sort("due_on", "kind", "deadline_id")
        .group_by("case_id", maintain_order=True)
        .first()
        .select(
            "case_id", pl.col("due_on").alias("next_deadline_due"), pl.col("kind").alias("next_deadline_kind")
        )
    )
    late = dl.filter(overdue(as_of)).group_by("case_id").agg(pl.len().alias("overdue"))

    out = (
        cases.select(
            "case_id",
            active_on(as_of).alias("active"),
            pl.when(pl.col("closed_on") <= as_of).then(pl.col("closed_on")).alias("closed_on"),
            (pl.lit(as_of.year) - pl.col("birth_year")).alias("age"),
        )
        .join(running, on="case_id", how="left")
        .join(econ, on="case_id", how="left")
        .join(next_dl, on="case_id", how="left")
        .join(late, on="case_id", how="left")
        .with_columns(
            pl.col("active_interventions").fill_null(0),
            pl.col("intervention_names").fill_null(""),
            pl.col("monthly_cost_now").fill_null(0.0),
            pl.col("actual").fill_null(0.0),
            pl.col("committed").fill_null(0.0),
            pl.col("expected").fill_null(0.0),
            pl.col("overdue").fill_null(0),
        )
        .filter(pl.col("active") | (pl.col("actual") != 0) | (pl.col("committed") != 0))
    )
    return out.select(pl.col(c).cast(t) for c, t in CASEWORKER_CASE_COLUMNS.items()).sort("case_id")


@dataclass(frozen=True)
class CaseworkerTotals:
    cases: int
    active_cases: int
    active_interventions: int
    monthly_cost_now: float
    actual: float
    committed: float
    expected: float
    overdue: int
    cases_with_overdue: int


def caseworker_totals(cases: pl.DataFrame) -> CaseworkerTotals:
    """The totals row of a caseworker_cases frame: sums and counts, no averaged ratios."""
    return CaseworkerTotals(
        cases=cases.height,
        active_cases=int(cases["active"].sum()),
        active_interventions=int(cases["active_interventions"].sum()),
        monthly_cost_now=float(cases["monthly_cost_now"].sum()),
        actual=float(cases["actual"].sum()),
        committed=float(cases["committed"].sum()),
        expected=float(cases["expected"].sum()),
        overdue=int(cases["overdue"].sum()),
        cases_with_overdue=int((cases["overdue"] > 0).sum()),
    )


@dataclass(frozen=True)
class Caseload:
    """The caseworker's caseload against their team's (kpis.md aktive_sager, sager_pr_raadgiver)."""

    caseworker_id: str
    team_id: str
    team_name: str
    active_cases: KpiValue
    cases_per_fte: KpiValue
    team_active_cases: KpiValue
    team_cases_per_fte: KpiValue


def caseload(ex: Extract, viewer: Viewer, caseworker_id: str, as_of: date) -> Caseload:
    """Aggregates for Scope.caseworker(id) and for the caseworker's unit ("the team"; in an older
    extract only the team's units the viewer may see today)."""
    require_caseworker(ex, viewer, caseworker_id)
    emp = ex["employees"].filter(pl.col("employee_id") == caseworker_id)
    team = str(emp["unit_id"][0])
    me, them = Scope.caseworker(caseworker_id), scope_for(ex, viewer, team)
    return Caseload(
        caseworker_id=caseworker_id,
        team_id=team,
        team_name=org_tree(ex).label(team),
        active_cases=registry.compute(ex, "aktive_sager", me, as_of),
        cases_per_fte=registry.compute(ex, "sager_pr_raadgiver", me, as_of),
        team_active_cases=registry.compute(ex, "aktive_sager", them, as_of),
        team_cases_per_fte=registry.compute(ex, "sager_pr_raadgiver", them, as_of),
    )


# --- one case --------------------------------------------------------------------------


def cases_visible(ex: Extract, viewer: Viewer, as_of: date, unit_id: str | None = None) -> pl.DataFrame:
    """The cases the viewer may open, known at as_of: case_id, caseworker_id, unit_id, active.
    Active cases first, then by case_id. A leader's list covers unit_id's subtree when given
    (AccessDenied for a unit they may not see); a raadgiver's is all their own cases."""
    if not viewer.sees_case_rows:
        return (
            ex["cases"]
            .clear()
            .select("case_id", "caseworker_id", "unit_id", active_on(as_of).alias("active"))
        )
    unit = _base_unit(ex, viewer, unit_id)
    if viewer.role == "raadgiver":  # their own cases, wherever the unit filter points
        assert viewer.employee_id is not None
        rows = scoped(ex, "cases", Scope.caseworker(viewer.employee_id))
    else:
        # A leader may see every case in their subtree, and `unit` lies in it (_base_unit):
        # the unit's cached scope is the visible set; case_row_filter states the same rule.
        rows = scoped(ex, "cases", Scope.unit(unit))
    return (
        rows.filter(case_row_filter(ex, viewer) & known_case(as_of))
        .select("case_id", "caseworker_id", "unit_id", active_on(as_of).alias("active"))
        .sort(["active", "case_id"], descending=[True, False])
    )


class CaseNotKnownYet(LookupError):
    """The case exists in the extract but was opened after as_of."""

    def __init__(self, case_id: str, opened_on: date) -> None:
        super().__init__(f"sagen {case_id} er oprettet efter opgørelsesdatoen")
        self.case_id = case_id
        self.opened_on = opened_on


@dataclass(frozen=True)
class CaseFacts:
    case_id: str
    child_id: str
    birth_year: int
    age: int  # year(as_of) − birth_year: the age reached this year
    unit_id: str
    unit_name: str
    caseworker_id: str | None
    caseworker_name: str | None
    opened_on: date
    closed_on: date | None  # None when not closed by as_of
    active: bool


@dataclass(frozen=True)
class CaseDetail:
    """One case at as_of.

    interventions: intervention_id, kind_name, category, account, provider, decided_on,
      start_on, end_on, open_ended, running, monthly_cost, bar_end (end_on, or
      timeline_end for an open end: where a timeline draws it to)
    monthly: month (first day), actual, planned — every month of the year
    payments: payment_id, intervention_id, kind_name, period, posted_on, amount, this_year
      (counted in this year's actual); newest first (by period, then posting date)
    deadlines: deadline_id, kind, kind_label, started_on, due_on, done_on, status, status_label
    """

    facts: CaseFacts
    interventions: pl.DataFrame
    monthly: pl.DataFrame
    payments: pl.DataFrame
    deadlines: pl.DataFrame
    total_since_opened: float
    economy: EconomyFigures  # this year's actual, committed, expected for the case
    timeline_start: date
    timeline_end: date


def _case_frame(ex: Extract, table: str, case_id: str) -> pl.DataFrame:
    """The case's rows of an enriched case table (interventions or deadlines)."""
    return scoped(ex, table, Scope()).filter(pl.col("case_id") == case_id)


def require_known_case(ex: Extract, viewer: Viewer, case_id: str, as_of: date) -> dict[str, Any]:
    """The case's row. Raises AccessDenied for an unknown case or one outside the viewer's
    scope (the same answer for both), CaseNotKnownYet for a visible case opened after as_of."""
    require_case(ex, viewer, case_id)
    row = ex["cases"].filter(pl.col("case_id") == case_id).row(0, named=True)
    if row["opened_on"] > as_of:
        raise CaseNotKnownYet(case_id, row["opened_on"])
    return row


def case_detail(ex: Extract, viewer: Viewer, case_id: str, as_of: date) -> CaseDetail:
    """Raises as require_known_case."""
    row = require_known_case(ex, viewer, case_id, as_of)
    tree = org_tree(ex)
    cw = row["caseworker_id"]
    cw_name = None
    if cw is not None:
        names = ex["employees"].filter(pl.col("employee_id") == cw)["name"]
        cw_name = str(names[0]) if names.len() else None
    closed = row["closed_on"] if row["closed_on"] is not None and row["closed_on"] <= as_of else None
    facts = CaseFacts(
        case_id=case_id,
        child_id=row["child_id"],
        birth_year=row["birth_year"],
        age=as_of.year - row["birth_year"],
        unit_id=row["unit_id"],
        unit_name=tree.label(row["unit_id"]),
        caseworker_id=cw,
        caseworker_name=cw_name,
        opened_on=row["opened_on"],
        closed_on=closed,
        active=closed is None,
    )

    year = as_of.year
    iv_all = _case_frame(ex, "interventions", case_id)
    iv = iv_all.filter(known_intervention(as_of))
    # Straight from the payments table by intervention: enriching the whole payment history
    # for one case would cost seconds on a large extract.
    # (by the intervention's row: payments keep intervention_id as it, see STORED_AS_ROWS)
    stored = ex.stored("payments")
    pay_all = ex.restore(
        "payments",
        stored.filter(
            row_keys(ex, "payments").is_in(iv_all["intervention_key"].implode())
            & (stored.get_column("posted_on") <= as_of)
        ),
    )
    timeline_start = min([row["opened_on"], *iv["start_on"].to_list()])
    timeline_end = max([month_end(year, 12), *iv["end_on"].drop_nulls().to_list()])

    interventions = iv.select(
        "intervention_id",
        "kind_name",
        "category",
        "account",
        "provider",
        "decided_on",
        "start_on",
        "end_on",
        pl.col("end_on").is_null().alias("open_ended"),
        running_on(as_of).alias("running"),
        "monthly_cost",
        pl.col("end_on").fill_null(pl.lit(timeline_end)).alias("bar_end"),
    ).sort("start_on", "intervention_id")

    months = pl.DataFrame({"month": [date(year, m, 1) for m in range(1, 13)]})
    act_m = (
        pay_all.filter(counted_in_actual(as_of))
        .group_by(pl.col("period").dt.truncate("1mo").alias("month"))
        .agg(pl.col("amount").sum().alias("actual"))
    )
    planned = [
        float(iv.select((pl.col("monthly_cost") * month_share(year, m)).sum()).item()) for m in range(1, 13)
    ]
    monthly = (
        months.join(act_m, on="month", how="left")
        .with_columns(pl.col("actual").fill_null(0.0), pl.Series("planned", planned, dtype=pl.Float64))
        .sort("month")
    )

    # Payments count whatever their intervention's decision date (as in economy.actual).
    kind_names = iv_all.select("intervention_id", "kind_name")
    payments = (
        pay_all.join(kind_names, on="intervention_id", how="left")
        .select(
            "payment_id",
            "intervention_id",
            "kind_name",
            "period",
            "posted_on",
            "amount",
            counted_in_actual(as_of).alias("this_year"),
        )
        .sort("period", "posted_on", "payment_id", descending=True)
    )
    deadlines = (
        _case_frame(ex, "deadlines", case_id)
        .filter(known_deadline(as_of))
        .select(
            "deadline_id",
            "kind",
            pl.col("kind").replace_strict(DEADLINE_KIND_LABELS, default=pl.col("kind")).alias("kind_label"),
            "started_on",
            "due_on",
            pl.when(pl.col("done_on") <= as_of).then(pl.col("done_on")).alias("done_on"),
            deadline_status(as_of),
        )
        .with_columns(pl.col("status").replace_strict(DEADLINE_STATUS_LABELS).alias("status_label"))
        .sort("due_on", "deadline_id")
    )

    act = actual(pay_all, as_of)
    com = committed(iv, pay_all, as_of)
    return CaseDetail(
        facts=facts,
        interventions=interventions,
        monthly=monthly,
        payments=payments,
        deadlines=deadlines,
        total_since_opened=float(pay_all["amount"].sum()),
        economy=EconomyFigures(None, act, com, act + com, None),
        timeline_start=timeline_start,
        timeline_end=timeline_end,
    )
