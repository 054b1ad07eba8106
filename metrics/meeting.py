"""The biweekly economy meeting: the agenda for one unit and one extract against the
previous extract (or none, for a first extract).

Every figure comes from the modules below (scorecard, economy, reports, compare); this
module selects, joins and adds up what the meeting talks about:

- KPIs that need talking about: the scorecard's KPIs (config/scorecard.toml) whose status
  is red or yellow, or whose value moved in the worse direction since the previous
  extract (each extract at its own as_of, as metrics.compare does).
- The child unit × account matrix of expected against budget: one row per child unit
  (and "(direkte)" for facts booked on the unit itself), one column per account, an
  "I alt" row and column that add up the parts; deviation = budget − expected and
  deviation_pct = deviation ÷ budget × 100 recomputed from the sums (null without
  budget); over_budget = expected > budget.
- What moved most: accounts and child units by |change in expected|.
- New since the previous extract: interventions decided after its as_of and on or
  before this as_of (yearly cost = monthly_cost × 12, top 10); cases that became one
  of the 10 most expensive; notifications whose 24 hours ran out in between without
  an assessment within 24 hours; deadlines that became overdue.
- The most expensive cases for the joint review.

Aggregates (counts, sums) cover the whole unit; rows of cases, notifications and
deadlines are case-level data and only hold what metrics.access lets the viewer see
(nothing for administration). Each line carries `link_page` and `link_params` (a URL
query string of the page's own parameters: `kpi`, `gruppering`, `enhed`, `sag`); the page
adds the extract, date and unit in force.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

import polars as pl

from metrics import registry
from metrics.access import AccessDenied, Viewer, case_row_filter, require_unit, scope_for
from metrics.compare import account_changes, check_comparable, judge
from metrics.economy import EconomyFigures, economy_table, economy_total
from metrics.export import with_total_row
from metrics.extract import Extract
from metrics.grouped import visible_children
from metrics.kpis import HOURS_24, on_time_24h, overdue
from metrics.org import org_tree
from metrics.reports import SOURCE_LABELS, account_label, economy_by, economy_monthly, top_cases
from metrics.scope import Scope, scoped
from metrics.scorecard import Scorecard, evaluate_scorecard, for_extract
from metrics.values import cutoff

# Who holds the meeting: leaders and team leaders; administration sees aggregates only.
MEETING_ROLES = ("teamleder", "leder", "administration", "system")
TOP_N = 10
MOVES_N = 5
NO_ACCOUNT = "(uden konto)"

# Link targets (url_path of the page) and their own URL parameters.
PAGE_SCORECARD, PAGE_ECONOMY, PAGE_CASE, PAGE_NOTIFICATIONS = "scorecard", "oekonomi", "sag", "underretninger"
P_KPI, P_GROUPING, P_UNIT, P_CASE = "kpi", "gruppering", "enhed", "sag"

KPI_SCHEMA: dict[str, pl.DataType] = {
    "kpi_id": pl.String(),
    "perspective": pl.String(),
    "name": pl.String(),
    "metric": pl.String(),
    "format": pl.String(),
    "direction": pl.String(),
    "status": pl.String(),  # green / yellow / red / none (metrics.scorecard.status)
    "value": pl.Float64(),
    "target": pl.Float64(),
    "before": pl.Float64(),  # at the previous extract's as_of; null for a first extract
    "change": pl.Float64(),  # value − before; percentage points for % KPIs
    "judgement": pl.String(),  # metrics.compare.JUDGEMENTS
    "to_discuss": pl.Boolean(),  # red or yellow, or worsened
    "link_page": pl.String(),
    "link_params": pl.String(),
}
MATRIX_SCHEMA: dict[str, pl.DataType] = {
    "row_id": pl.String(),  # the child unit; the unit itself for "direkte" and "I alt"
    "row_label": pl.String(),
    "row_kind": pl.String(),  # unit / direct / total
    "account": pl.String(),  # null in the "I alt" column
    "account_label": pl.String(),
    "budget": pl.Float64(),
    "expected": pl.Float64(),
    "deviation": pl.Float64(),  # budget − expected
    "deviation_pct": pl.Float64(),  # deviation ÷ budget × 100; null when budget is 0
    "over_budget": pl.Boolean(),  # expected > budget
    "link_page": pl.String(),
    "link_params": pl.String(),
}
ACCOUNT_SCHEMA: dict[str, pl.DataType] = {
    "group": pl.String(),
    "label": pl.String(),
    "budget": pl.Float64(),
    "actual": pl.Float64(),
    "committed": pl.Float64(),
    "expected": pl.Float64(),
    "deviation": pl.Float64(),
    "deviation_pct": pl.Float64(),
    "over_budget": pl.Boolean(),
    "is_total": pl.Boolean(),
    "link_page": pl.String(),
    "link_params": pl.String(),
}
MOVE_SCHEMA: dict[str, pl.DataType] = {
    "kind": pl.String(),  # account / unit
    "id": pl.String(),
    "label": pl.String(),
    "expected_before": pl.Float64(),
    "expected_now": pl.Float64(),
    "expected_change": pl.Float64(),
    "link_page": pl.String(),
    "link_params": pl.String(),
}
NEW_INTERVENTION_SCHEMA: dict[str, pl.DataType] = {
    "intervention_id": pl.String(),
    "case_id": pl.String(),
    "unit_name": pl.String(),
    "kind_name": pl.String(),
    "account": pl.String(),
    "decided_on": pl.Date(),
    "start_on": pl.Date(),
    "monthly_cost": pl.Float64(),
    "yearly_cost": pl.Float64(),  # monthly_cost × 12
    "link_page": pl.String(),
    "link_params": pl.String(),
}
CASE_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.String(),
    "unit_name": pl.String(),
    "caseworker_name": pl.String(),
    "interventions": pl.String(),
    "actual": pl.Float64(),
    "committed": pl.Float64(),
    "expected": pl.Float64(),
    "link_page": pl.String(),
    "link_params": pl.String(),
}
LATE_NOTIFICATION_SCHEMA: dict[str, pl.DataType] = {
    "notification_id": pl.String(),
    "case_id": pl.String(),
    "unit_name": pl.String(),
    "source_label": pl.String(),
    "received_at": pl.Datetime("us"),
    "assessed_at": pl.Datetime("us"),  # null while not assessed (as known at as_of)
    "link_page": pl.String(),
    "link_params": pl.String(),
}
OVERDUE_SCHEMA: dict[str, pl.DataType] = {
    "deadline_id": pl.String(),
    "case_id": pl.String(),
    "unit_name": pl.String(),
    "kind": pl.String(),
    "due_on": pl.Date(),
    "days_overdue": pl.Int64(),  # as_of − due_on
    "link_page": pl.String(),
    "link_params": pl.String(),
}


@dataclass(frozen=True)
class NewSince:
    """Counts over the whole unit (aggregates) and the case-level rows the viewer may see."""

    interventions: int
    interventions_yearly_cost: float
    intervention_rows: pl.DataFrame  # NEW_INTERVENTION_SCHEMA, top 10 by yearly cost
    top_cases: pl.DataFrame  # CASE_SCHEMA: cases now among the 10 most expensive that were not before
    late_notifications: int
    late_notification_rows: pl.DataFrame  # LATE_NOTIFICATION_SCHEMA
    overdue_deadlines: int
    overdue_rows: pl.DataFrame  # OVERDUE_SCHEMA


@dataclass(frozen=True)
class Agenda:
    unit_id: str
    unit_name: str
    municipality: str
    extract_as_of: date
    as_of: date
    previous_as_of: date | None  # None: a first extract, nothing to compare with
    scorecard_title: str
    scorecard: pl.DataFrame  # KPI_SCHEMA, every scorecard KPI in the file's order
    economy: EconomyFigures
    accounts: pl.DataFrame  # ACCOUNT_SCHEMA, by account, "I alt" last
    matrix: pl.DataFrame  # MATRIX_SCHEMA, long: rows × (accounts + "I alt")
    moves: pl.DataFrame  # MOVE_SCHEMA, accounts then units, biggest |change| first
    new: NewSince | None  # None for a first extract
    monthly: pl.DataFrame  # metrics.reports.economy_monthly: the year's path against the budget
    top_cases: pl.DataFrame | None  # CASE_SCHEMA; None when the viewer may not see case rows
    case_rows_shown: bool

    @property
    def over_budget(self) -> bool | None:
        """Expected over budget for the whole unit; None without a budget."""
        if not self.economy.budget:
            return None
        return self.economy.expected > self.economy.budget

    @property
    def kpis(self) -> pl.DataFrame:
        """The KPIs that need talking about."""
        return self.scorecard.filter(pl.col("to_discuss"))

    def case_ids(self) -> list[str]:
        """Every case id in the agenda's case-level rows (for the audit log)."""
        frames: list[pl.DataFrame] = []
        if self.top_cases is not None:
            frames.append(self.top_cases)
        if self.new is not None:
            n = self.new
            frames += [n.intervention_rows, n.top_cases, n.late_notification_rows, n.overdue_rows]
        ids = [c for f in frames for c in f["case_id"].drop_nulls().to_list()]
        return list(dict.fromkeys(ids))

    def notification_ids_without_case(self) -> list[str]:
        if self.new is None:
            return []
        rows = self.new.late_notification_rows
        return rows.filter(pl.col("case_id").is_null())["notification_id"].to_list()


# status and judgement → icon + word: never colour alone
STATUS_WORDS: dict[str, str] = {
    "green": "Grøn – på mål",
    "yellow": "Gul – tæt på målet",
    "red": "Rød – ikke på mål",
    "none": "Ingen data",
}
STATUS_ICONS: dict[str, str] = {"green": "🟢", "yellow": "🟡", "red": "🔴", "none": "⚪"}
JUDGEMENT_WORDS: dict[str, str] = {
    "improved": "Forbedret",
    "worsened": "Forværret",
    "unchanged": "Uændret",
    "no_direction": "Ændret (ingen retning)",
    "no_data": "Intet at sammenligne med",
}
JUDGEMENT_ICONS: dict[str, str] = {
    "improved": "✅",
    "worsened": "🔻",
    "unchanged": "➖",
    "no_direction": "🔄",
    "no_data": "⚪",
}


class MeetingRefused(AccessDenied):
    """A role that does not hold the economy meeting (caseworkers)."""


def can_hold_meeting(viewer: Viewer) -> bool:
    return viewer.role in MEETING_ROLES


def link(**params: str) -> str:
    return urlencode(params)


def _link_cols(page: str | pl.Expr, params: pl.Expr) -> list[pl.Expr]:
    p = pl.lit(page) if isinstance(page, str) else page
    return [p.alias("link_page"), params.alias("link_params")]


def _case_link() -> list[pl.Expr]:
    return _link_cols(PAGE_CASE, pl.lit(f"{P_CASE}=") + pl.col("case_id"))


def _cast(df: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return df.select(pl.col(c).cast(t) for c, t in schema.items())


# --- KPIs ------------------------------------------------------------------------------


def _before_value(prev: Extract | None, metric: str, unit_id: str, viewer: Viewer | None) -> float | None:
    if prev is None or unit_id not in org_tree(prev):
        return None
    if metric not in registry.REGISTRY and metric not in registry.measurement_ids(prev):
        return None
    if not registry.available(prev, metric):  # e.g. no contacts at the previous extract
        return None
    v = registry.compute(prev, metric, scope_for(prev, viewer, unit_id), prev.as_of).value
    return None if v is None or v != v else v


def scorecard_kpis(
    now: Extract,
    prev: Extract | None,
    card: Scorecard,
    unit_id: str,
    as_of: date,
    viewer: Viewer | None = None,
) -> pl.DataFrame:
    """Every scorecard KPI at as_of with its value at the previous extract's own as_of,
    the change and its judgement (metrics.compare.judge); to_discuss = red or yellow or
    worsened. KPIs whose optional table the extract lacks are left out, as on Scorecard. With a
    viewer, each extract's figures only over the units they may see there."""
    card = for_extract(now, card)
    rows = evaluate_scorecard(now, card, unit_id, as_of, scope_for(now, viewer, unit_id).within)
    perspective = {p.id: p.name for p in card.perspectives}
    out = []
    for spec, row in zip(card.kpis, rows, strict=True):
        before = _before_value(prev, spec.metric, unit_id, viewer)
        change = None if before is None or row.value is None else row.value - before
        _, judgement = judge(change, spec.direction)
        out.append(
            {
                "kpi_id": spec.id,
                "perspective": perspective[spec.perspective],
                "name": spec.name,
                "metric": spec.metric,
                "format": registry.get(spec.metric).format,
                "direction": spec.direction,
                "status": row.status,
                "value": row.value,
                "target": spec.target,
                "before": before,
                "change": change,
                "judgement": judgement,
                "to_discuss": row.status in ("red", "yellow") or judgement == "worsened",
                "link_page": PAGE_SCORECARD,
                "link_params": link(**{P_KPI: spec.id, P_UNIT: unit_id}),
            }
        )
    return pl.DataFrame(out, schema=KPI_SCHEMA)


# --- economy ---------------------------------------------------------------------------


def _budget_flags() -> list[pl.Expr]:
    return [
        pl.when(pl.col("budget") != 0)
        .then(pl.col("deviation") / pl.col("budget") * 100)
        .otherwise(None)
        .alias("deviation_pct"),
        (pl.col("expected") > pl.col("budget")).alias("over_budget"),
    ]


def accounts_with_total(ex: Extract, unit_id: str, as_of: date, viewer: Viewer | None = None) -> pl.DataFrame:
    """metrics.reports.economy_by(…, "account") with deviation_pct and over_budget, and an
    "I alt" row adding up the accounts."""
    table = economy_by(ex, scope_for(ex, viewer, unit_id), as_of, "account").with_columns(_budget_flags())
    out = with_total_row(
        table.drop("expected_pct"),
        "label",
        ["budget", "actual", "committed", "expected", "deviation"],
        {"deviation_pct": ("deviation", "budget")},
        flags={"over_budget": pl.col("expected") > pl.col("budget")},
    )
    grouping = pl.when(pl.col("is_total")).then(pl.lit("child_unit")).otherwise(pl.lit("account"))
    params = pl.lit(f"{P_UNIT}={unit_id}&{P_GROUPING}=") + grouping
    return _cast(out.with_columns(_link_cols(PAGE_ECONOMY, params)), ACCOUNT_SCHEMA)


def _by_account(ex: Extract, scope: Scope, as_of: date) -> pl.DataFrame:
    return economy_table(ex, scope, as_of, "account").select(
        pl.col("group").fill_null(NO_ACCOUNT).alias("account"), "budget", "expected"
    )


def economy_matrix(ex: Extract, unit_id: str, as_of: date, viewer: Viewer | None = None) -> pl.DataFrame:
    """Child units × accounts (see the module docstring). The "(direkte)" row is the unit's
    figures minus its children's, shown only when it is not all zero. With a viewer, only the
    units they may see (and the children holding one)."""
    tree = org_tree(ex)
    within = scope_for(ex, viewer, unit_id).within
    kids = sorted(visible_children(ex, unit_id, within), key=lambda u: (tree.label(u), u))
    parts = [
        _by_account(ex, Scope.unit(k, within), as_of).with_columns(
            pl.lit(k).alias("row_id"),
            pl.lit(tree.label(k)).alias("row_label"),
            pl.lit("unit").alias("row_kind"),
        )
        for k in kids
    ]
    whole = _by_account(ex, Scope.unit(unit_id, within), as_of)
    if parts:
        kids_sum = pl.concat(parts).group_by("account").agg(pl.col("budget", "expected").sum())
        direct = (
            whole.join(kids_sum, on="account", how="full", coalesce=True, nulls_equal=True, suffix="_kids")
            .with_columns(pl.col("budget", "expected", "budget_kids", "expected_kids").fill_null(0.0))
            .select(
                "account",
                (pl.col("budget") - pl.col("budget_kids")).alias("budget"),
                (pl.col("expected") - pl.col("expected_kids")).alias("expected"),
            )
        )
    else:
        direct = whole
    if direct.filter((pl.col("budget") != 0) | (pl.col("expected") != 0)).height:
        label = f"{tree.label(unit_id)} (direkte)" if parts else tree.label(unit_id)
        parts.append(
            direct.with_columns(
                pl.lit(unit_id).alias("row_id"),
                pl.lit(label).alias("row_label"),
                pl.lit("direct").alias("row_kind"),
            )
        )
    cols = ["row_id", "row_label", "row_kind", "account", "budget", "expected"]
    body = (
        pl.concat([p.select(cols) for p in parts])
        if parts
        else pl.DataFrame(schema={c: MATRIX_SCHEMA[c] for c in cols})
    )
    # Every row gets every account (0 where it has none), so the table is rectangular.
    accounts = body.select("account").unique()
    rows = body.select("row_id", "row_label", "row_kind").unique(maintain_order=True)
    body = (
        rows.join(accounts, how="cross")
        .join(body, on=["row_id", "row_kind", "row_label", "account"], how="left", nulls_equal=True)
        .with_columns(pl.col("budget", "expected").fill_null(0.0))
    )
    total_row = (
        body.group_by("account")
        .agg(pl.col("budget", "expected").sum())
        .with_columns(
            pl.lit(unit_id).alias("row_id"),
            pl.lit("I alt").alias("row_label"),
            pl.lit("total").alias("row_kind"),
        )
    )
    cells = pl.concat([body, total_row.select(body.columns)])
    total_col = (
        cells.group_by("row_id", "row_label", "row_kind", maintain_order=True)
        .agg(pl.col("budget", "expected").sum())
        .with_columns(pl.lit(None, dtype=pl.String).alias("account"))
    )
    order = {"unit": 0, "direct": 1, "total": 2}
    row_order = {k: i for i, k in enumerate(kids)}
    labels = {a: account_label(a) for a in accounts["account"].to_list() if a != NO_ACCOUNT}
    out = (
        pl.concat([cells, total_col.select(cells.columns)])
        .with_columns((pl.col("budget") - pl.col("expected")).alias("deviation"))
        .with_columns(_budget_flags())
        .with_columns(
            pl.when(pl.col("account").is_null())
            .then(pl.lit("I alt"))
            .otherwise(pl.col("account").replace_strict(labels, default=NO_ACCOUNT, return_dtype=pl.String))
            .alias("account_label"),
            pl.col("row_kind").replace_strict(order, return_dtype=pl.Int64).alias("_k"),
            pl.col("row_id").replace_strict(row_order, default=len(kids), return_dtype=pl.Int64).alias("_r"),
            pl.col("account").is_null().alias("_c"),
        )
    )
    # a row (child unit) opens that unit on Økonomi per account; the "(direkte)" and
    # "I alt" rows open the unit itself per child unit
    params = (
        pl.lit(f"{P_UNIT}=")
        + pl.col("row_id")
        + pl.lit(f"&{P_GROUPING}=")
        + pl.when(pl.col("row_kind") == "unit").then(pl.lit("account")).otherwise(pl.lit("child_unit"))
    )
    out = out.sort("_k", "_r", "_c", "account").with_columns(_link_cols(PAGE_ECONOMY, params))
    return _cast(out, MATRIX_SCHEMA)


def matrix_wide(matrix: pl.DataFrame, value: str) -> pl.DataFrame:
    """The matrix as a table: row_label, row_kind, then one column per account label and
    "I alt", holding `value` (e.g. deviation)."""
    labels = list(dict.fromkeys(matrix["account_label"].to_list()))
    return matrix.pivot(
        on="account_label", index=["row_id", "row_label", "row_kind"], values=value, maintain_order=True
    ).select("row_id", "row_label", "row_kind", *labels)


def matrix_table(matrix: pl.DataFrame) -> pl.DataFrame:
    """matrix_wide of the deviation, plus `over_budget_accounts`: the accounts (by number)
    where that row is over budget, "" when none; the "I alt" column is not named there."""
    wide = matrix_wide(matrix, "deviation")
    over = (
        matrix.filter(pl.col("over_budget") & pl.col("account").is_not_null())
        .group_by("row_id", "row_kind", maintain_order=True)
        .agg(pl.col("account").sort().str.join(", ").alias("over_budget_accounts"))
    )
    return wide.join(over, on=["row_id", "row_kind"], how="left", maintain_order="left").with_columns(
        pl.col("over_budget_accounts").fill_null("")
    )


def moves(
    now: Extract, prev: Extract, unit_id: str, n: int = MOVES_N, viewer: Viewer | None = None
) -> pl.DataFrame:
    """The n accounts and the n child units whose expected figure moved most (nonzero); with a
    viewer, over the units they may see in each extract."""
    acc = account_changes(now, prev, unit_id, viewer).select(
        pl.lit("account").alias("kind"),
        pl.col("group").alias("id"),
        "label",
        "expected_before",
        "expected_now",
        "expected_change",
        *_link_cols(PAGE_ECONOMY, pl.lit(f"{P_UNIT}={unit_id}&{P_GROUPING}=account")),
    )
    tree = org_tree(now)
    b = economy_table(prev, scope_for(prev, viewer, unit_id), prev.as_of, "child_unit").select(
        "group", pl.col("expected").alias("b")
    )
    a = economy_table(now, scope_for(now, viewer, unit_id), now.as_of, "child_unit").select(
        "group", pl.col("expected").alias("a")
    )
    units = (
        b.join(a, on="group", how="full", coalesce=True, nulls_equal=True)
        .filter(pl.col("group").is_not_null())
        .with_columns(pl.col("a", "b").fill_null(0.0))
    )
    labels = {
        g: (f"{tree.label(g)} (direkte)" if g == unit_id else tree.label(g)) for g in units["group"].to_list()
    }
    uni = units.select(
        pl.lit("unit").alias("kind"),
        pl.col("group").alias("id"),
        pl.col("group").replace_strict(labels, return_dtype=pl.String).alias("label"),
        pl.col("b").alias("expected_before"),
        pl.col("a").alias("expected_now"),
        (pl.col("a") - pl.col("b")).alias("expected_change"),
        *_link_cols(PAGE_ECONOMY, pl.lit(f"{P_UNIT}=") + pl.col("group") + pl.lit(f"&{P_GROUPING}=account")),
    )

    def top(df: pl.DataFrame) -> pl.DataFrame:
        return (
            df.filter(pl.col("expected_change") != 0)
            .sort(pl.col("expected_change").abs(), pl.col("id"), descending=[True, False], nulls_last=True)
            .head(n)
        )

    return _cast(pl.concat([top(acc), top(uni)], how="vertical_relaxed"), MOVE_SCHEMA)


# --- new since the previous extract ------------------------------------------------------


def _unit_names(ex: Extract) -> dict[str, str]:
    return org_tree(ex).name


def _cases(df: pl.DataFrame) -> pl.DataFrame:
    return _cast(df.with_columns(_case_link()), CASE_SCHEMA)


def new_since(
    now: Extract, prev: Extract, unit_id: str, viewer: Viewer, as_of: date, n: int = TOP_N
) -> NewSince:
    scope = scope_for(now, viewer, unit_id)
    names = _unit_names(now)
    rows_ok = case_row_filter(now, viewer)

    iv = (
        scoped(now, "interventions", scope)
        .filter((pl.col("decided_on") > prev.as_of) & (pl.col("decided_on") <= as_of))
        .with_columns((pl.col("monthly_cost") * 12).alias("yearly_cost"))
    )
    iv_rows = (
        iv.filter(rows_ok)
        .sort(["yearly_cost", "intervention_id"], descending=[True, False])
        .head(n)
        .with_columns(pl.col("unit_id").replace_strict(names, default=None).alias("unit_name"), *_case_link())
    )

    top_now = top_cases(now, viewer, scope, as_of, TOP_N)
    before_ids: Iterable[str] = []
    if unit_id in org_tree(prev):
        before_ids = top_cases(prev, viewer, scope_for(prev, viewer, unit_id), prev.as_of, TOP_N)[
            "case_id"
        ].to_list()
    became = top_now.filter(~pl.col("case_id").is_in(list(before_ids)))

    t_prev, t_now = cutoff(prev.as_of), cutoff(as_of)
    # the 24 hours ran out after the previous extract's cut-off and by this one's, and the
    # notification was not assessed within them (as known at as_of)
    late = scoped(now, "notifications", scope).filter(
        (pl.col("received_at") + HOURS_24 > t_prev)
        & (pl.col("received_at") + HOURS_24 <= t_now)
        & ~on_time_24h(as_of)
    )
    late_rows = (
        late.filter(rows_ok)
        .with_columns(
            pl.col("unit_id").replace_strict(names, default=None).alias("unit_name"),
            pl.col("source").replace_strict(SOURCE_LABELS, default=pl.col("source")).alias("source_label"),
            pl.when(pl.col("assessed_at") < t_now)
            .then(pl.col("assessed_at"))
            .otherwise(None)
            .alias("assessed_at"),
            *_link_cols(
                pl.when(pl.col("case_id").is_null())
                .then(pl.lit(PAGE_NOTIFICATIONS))
                .otherwise(pl.lit(PAGE_CASE)),
                pl.when(pl.col("case_id").is_null())
                .then(pl.lit(f"{P_UNIT}=") + pl.col("unit_id"))
                .otherwise(pl.lit(f"{P_CASE}=") + pl.col("case_id")),
            ),
        )
        .sort("received_at", "notification_id")
    )

    dl = scoped(now, "deadlines", scope).filter(overdue(as_of) & ~overdue(prev.as_of))
    dl_rows = (
        dl.filter(rows_ok)
        .with_columns(
            pl.col("unit_id").replace_strict(names, default=None).alias("unit_name"),
            (pl.lit(as_of) - pl.col("due_on")).dt.total_days().alias("days_overdue"),
            *_case_link(),
        )
        .sort(["due_on", "deadline_id"])
    )
    return NewSince(
        interventions=iv.height,
        interventions_yearly_cost=float(iv["yearly_cost"].sum()),
        intervention_rows=_cast(iv_rows, NEW_INTERVENTION_SCHEMA),
        top_cases=_cases(became),
        late_notifications=late.height,
        late_notification_rows=_cast(late_rows, LATE_NOTIFICATION_SCHEMA),
        overdue_deadlines=dl.height,
        overdue_rows=_cast(dl_rows, OVERDUE_SCHEMA),
    )


# --- the agenda ----------------------------------------------------------------------------


def agenda(
    now: Extract,
    prev: Extract | None,
    unit_id: str,
    viewer: Viewer,
    card: Scorecard,
    as_of: date | None = None,
) -> Agenda:
    """The meeting's agenda for unit_id's subtree: `now` at as_of (default its own as_of)
    against `prev` at its own as_of, or against nothing when prev is None.

    Raises MeetingRefused for a caseworker, AccessDenied when the viewer may not see the
    unit (in either extract), metrics.compare.CompareError when the two can't be compared.
    """
    if not can_hold_meeting(viewer):
        raise MeetingRefused("siden", "Økonomimøde")
    as_of = as_of or now.as_of
    if as_of > now.as_of:
        raise ValueError(f"as_of {as_of.isoformat()} is after the extract's as_of {now.as_of.isoformat()}")
    require_unit(now, viewer, unit_id)
    if prev is not None:
        check_comparable(now, prev, unit_id, viewer)
    scope = scope_for(now, viewer, unit_id)
    sees_cases = viewer.sees_case_rows
    return Agenda(
        unit_id=unit_id,
        unit_name=org_tree(now).label(unit_id),
        municipality=now.manifest.municipality,
        extract_as_of=now.as_of,
        as_of=as_of,
        previous_as_of=None if prev is None else prev.as_of,
        scorecard_title=card.title,
        scorecard=scorecard_kpis(now, prev, card, unit_id, as_of, viewer),
        economy=economy_total(now, scope, as_of),
        accounts=accounts_with_total(now, unit_id, as_of, viewer),
        matrix=economy_matrix(now, unit_id, as_of, viewer),
        moves=pl.DataFrame(schema=MOVE_SCHEMA) if prev is None else moves(now, prev, unit_id, viewer=viewer),
        new=None if prev is None else new_since(now, prev, unit_id, viewer, as_of),
        monthly=economy_monthly(now, scope, as_of),
        top_cases=_cases(top_cases(now, viewer, scope, as_of, TOP_N)) if sees_cases else None,
        case_rows_shown=sees_cases,
    )


POINT_SCHEMA: dict[str, pl.DataType] = {
    "no": pl.Int64(),
    "point": pl.String(),
    "count": pl.Int64(),  # null where the point has no count
    "amount": pl.Float64(),  # kr.; null where the point has no amount
    "note": pl.String(),
}


def agenda_points(a: Agenda, comments: int | None = None) -> pl.DataFrame:
    """The agenda as numbered points with their count and amount (POINT_SCHEMA). "Nyt siden
    sidst" points are left out for a first extract; the joint case review only when the
    viewer may see case rows; comments only when a count is given."""
    accounts = a.accounts.filter(~pl.col("is_total"))
    rows: list[tuple[str, int | None, float | None, str]] = [
        (
            "Nøgletal der skal drøftes",
            a.kpis.height,
            None,
            "Røde eller gule, eller forværret siden sidste udtræk.",
        ),
        ("Forventet regnskab", None, a.economy.expected, "Forbrug år til dato + disponeret resten af året."),
        ("Afvigelse (budget − forventet)", None, a.economy.deviation, "Negativ: over budget."),
        ("Konti over budget", int(accounts["over_budget"].sum()), None, "Forventet regnskab over budget."),
    ]
    if a.new is not None:
        n = a.new
        rows += [
            (
                "Nye indsatser siden sidst (årlig udgift)",
                n.interventions,
                n.interventions_yearly_cost,
                "Månedlig udgift × 12.",
            ),
            ("Sager nye blandt de 10 dyreste", n.top_cases.height if a.case_rows_shown else None, None, ""),
            (
                "Underretninger ikke vurderet inden for 24 timer",
                n.late_notifications,
                None,
                "Fristen udløb siden sidst.",
            ),
            ("Frister overskredet siden sidst", n.overdue_deadlines, None, ""),
        ]
    if a.top_cases is not None:
        rows.append(
            (
                "De dyreste sager: fælles gennemgang",
                a.top_cases.height,
                None,
                "Forventet regnskab i år pr. sag.",
            )
        )
    if comments is not None:
        rows.append(("Kommentarer og beslutninger", comments, None, ""))
    return pl.DataFrame([(i, *r) for i, r in enumerate(rows, start=1)], schema=POINT_SCHEMA, orient="row")


def previous_as_of_default(as_ofs: Iterable[date], now: date) -> date | None:
    """The newest extract date before `now`: the meeting's default comparison."""
    older = [d for d in as_ofs if d < now]
    return max(older) if older else None


__all__ = [
    "Agenda",
    "MeetingRefused",
    "NewSince",
    "agenda",
    "agenda_points",
    "can_hold_meeting",
    "economy_matrix",
    "matrix_table",
    "matrix_wide",
    "previous_as_of_default",
]
