"""Two extracts side by side: what changed since the last meeting.

Each extract is evaluated at its own as_of (facts as that extract knew them), for the
same unit: every registry KPI, the economy per account, and the row counts and rows
set aside per table. Changes are `now − before`; for % KPIs that is percentage points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import polars as pl

from metrics import registry
from metrics.access import AccessDenied, Viewer, can_see_unit, scope_for
from metrics.contract import TABLE_LABELS, TABLE_NAMES
from metrics.economy import EconomyFigures, economy_table, economy_total
from metrics.extract import Extract
from metrics.org import org_tree
from metrics.registry import Direction
from metrics.reports import account_label

Judgement = str  # one of JUDGEMENTS
JUDGEMENTS = ("improved", "worsened", "unchanged", "no_direction", "no_data")

KPI_SCHEMA: dict[str, pl.DataType] = {
    "metric_id": pl.String(),
    "label": pl.String(),
    "format": pl.String(),
    "unit": pl.String(),
    "direction": pl.String(),
    "before": pl.Float64(),
    "now": pl.Float64(),
    "change": pl.Float64(),  # now − before; percentage points for % KPIs; null if either is null
    "relative_change": pl.Float64(),  # |change| ÷ |before|; null when before is null or 0
    "improved": pl.Boolean(),  # null: no change, no direction or no data
    "judgement": pl.String(),
}
ACCOUNT_COLUMNS = (
    "group",
    "label",
    "budget_before",
    "budget_now",
    "expected_before",
    "expected_now",
    "expected_change",
    "deviation_before",
    "deviation_now",
    "deviation_change",
)
QUALITY_SCHEMA: dict[str, pl.DataType] = {
    "table": pl.String(),
    "label": pl.String(),
    "rows_before": pl.Int64(),  # rows read from the file: accepted + set aside
    "rows_now": pl.Int64(),
    "rows_change": pl.Int64(),
    "set_aside_before": pl.Int64(),
    "set_aside_now": pl.Int64(),
    "set_aside_change": pl.Int64(),
}


class CompareError(ValueError):
    """Two extracts that can't be compared for this unit. The message is Danish, for the page."""


@dataclass(frozen=True)
class Comparison:
    unit_id: str
    unit_name: str
    municipality: str
    before_as_of: date
    now_as_of: date
    kpis: pl.DataFrame  # KPI_SCHEMA, in registry order
    accounts: pl.DataFrame  # ACCOUNT_COLUMNS, by account
    economy_before: EconomyFigures
    economy_now: EconomyFigures
    quality: pl.DataFrame  # QUALITY_SCHEMA, contract table order

    @property
    def same_budget_year(self) -> bool:
        return self.before_as_of.year == self.now_as_of.year

    @property
    def expected_change(self) -> float:
        return self.economy_now.expected - self.economy_before.expected

    @property
    def deviation_change(self) -> float | None:
        b, n = self.economy_before.deviation, self.economy_now.deviation
        return None if b is None or n is None else n - b

    @property
    def set_aside_change(self) -> int:
        return int(self.quality["set_aside_change"].sum())


def _missing(x: float | None) -> bool:
    return x is None or math.isnan(x)


def judge(change: float | None, direction: Direction | None) -> tuple[bool | None, Judgement]:
    """(improved, judgement) of a change given the metric's better direction."""
    if change is None or math.isnan(change):
        return None, "no_data"
    if change == 0:
        return None, "unchanged"
    if direction is None:
        return None, "no_direction"
    better = change > 0 if direction == "higher" else change < 0
    return better, "improved" if better else "worsened"


def check_comparable(now: Extract, before: Extract, unit_id: str, viewer: Viewer) -> None:
    """CompareError unless both extracts are of one municipality, `before` is older and the
    unit exists in both; AccessDenied unless the viewer may see the unit in both."""
    if now.manifest.municipality != before.manifest.municipality:
        raise CompareError(
            f"Udtrækkene er fra to forskellige kommuner ({now.manifest.municipality} og "
            f"{before.manifest.municipality}) og kan ikke sammenlignes."
        )
    if before.as_of >= now.as_of:
        raise CompareError(
            f"Det tidligere udtræk ({before.as_of.isoformat()}) skal være ældre end det valgte "
            f"({now.as_of.isoformat()})."
        )
    if viewer.demo and not before.manifest.synthetic:
        # A demo persona is nobody's login: it may never reach a real extract.
        raise AccessDenied("udtrækket", before.as_of.isoformat())
    for ex in (now, before):
        if unit_id not in org_tree(ex):
            raise CompareError(
                f"Enheden {unit_id!r} findes ikke i udtrækket {ex.as_of.isoformat()}, "
                "så den kan ikke sammenlignes. Vælg en anden enhed eller et andet udtræk."
            )
        if not can_see_unit(ex, viewer, unit_id):  # judged by the viewer's scope today
            raise AccessDenied("enheden", unit_id)


def kpi_changes(now: Extract, before: Extract, unit_id: str, viewer: Viewer | None = None) -> pl.DataFrame:
    """Every registry KPI (formula KPIs, then measurement KPIs found in either extract); with a
    viewer, each extract's figures only over the units they may see there (scope_for)."""
    s_before, s_now = scope_for(before, viewer, unit_id), scope_for(now, viewer, unit_id)
    ids = list(dict.fromkeys([*registry.metric_ids(now), *registry.metric_ids(before)]))
    rows = []
    for metric_id in ids:
        d = registry.get(metric_id)
        # a KPI that needs an optional table (contacts) has no value in an extract without it
        b = (
            registry.compute(before, metric_id, s_before, before.as_of).value
            if registry.available(before, metric_id)
            else None
        )
        n = (
            registry.compute(now, metric_id, s_now, now.as_of).value
            if registry.available(now, metric_id)
            else None
        )
        b = None if _missing(b) else b
        n = None if _missing(n) else n
        change = None if b is None or n is None else n - b
        rel = None if change is None or not b else abs(change) / abs(b)
        better, word = judge(change, d.direction)
        rows.append(
            {
                "metric_id": metric_id,
                "label": d.label,
                "format": d.format,
                "unit": d.unit,
                "direction": d.direction,
                "before": b,
                "now": n,
                "change": change,
                "relative_change": rel,
                "improved": better,
                "judgement": word,
            }
        )
    return pl.DataFrame(rows, schema=KPI_SCHEMA)


def account_changes(
    now: Extract, before: Extract, unit_id: str, viewer: Viewer | None = None
) -> pl.DataFrame:
    """The economy per account in both; an account missing from one extract counts 0 there
    (no budget, no payments, no interventions), as economy_table would show it. With a viewer,
    only the units they may see in each (scope_for)."""
    cols = ["budget", "expected", "deviation"]
    b = economy_table(before, scope_for(before, viewer, unit_id), before.as_of, "account").select(
        "group", *[pl.col(c).alias(f"{c}_before") for c in cols]
    )
    n = economy_table(now, scope_for(now, viewer, unit_id), now.as_of, "account").select(
        "group", *[pl.col(c).alias(f"{c}_now") for c in cols]
    )
    out = b.join(n, on="group", how="full", coalesce=True, nulls_equal=True).with_columns(
        pl.col(f"{c}_{w}").fill_null(0.0) for c in cols for w in ("before", "now")
    )
    groups = [g for g in out["group"].to_list() if g is not None]
    labels = {g: account_label(g) for g in groups}
    return (
        out.with_columns(
            pl.col("group")
            .replace_strict(labels, default="(uden konto)", return_dtype=pl.String)
            .alias("label"),
            (pl.col("expected_now") - pl.col("expected_before")).alias("expected_change"),
            (pl.col("deviation_now") - pl.col("deviation_before")).alias("deviation_change"),
        )
        .select(ACCOUNT_COLUMNS)
        .sort("group", nulls_last=True)
    )


def quality_changes(now: Extract, before: Extract) -> pl.DataFrame:
    """Rows read and rows set aside per contract table, in both extracts."""
    rows = []
    for t in TABLE_NAMES:
        rb, rn = before.report.get(t), now.report.get(t)
        rows_b = rb.accepted + rb.rejected if rb else 0
        rows_n = rn.accepted + rn.rejected if rn else 0
        aside_b = rb.rejected if rb else 0
        aside_n = rn.rejected if rn else 0
        rows.append(
            {
                "table": t,
                "label": TABLE_LABELS.get(t, t),
                "rows_before": rows_b,
                "rows_now": rows_n,
                "rows_change": rows_n - rows_b,
                "set_aside_before": aside_b,
                "set_aside_now": aside_n,
                "set_aside_change": aside_n - aside_b,
            }
        )
    return pl.DataFrame(rows, schema=QUALITY_SCHEMA)


def compare(now: Extract, before: Extract, unit_id: str, viewer: Viewer) -> Comparison:
    """What changed for unit_id's subtree from `before` to `now`, each at its own as_of.

    Raises CompareError (different municipalities, `before` not older, unit missing from
    one of them) or AccessDenied (the viewer may not see the unit's figures in one of them).
    """
    check_comparable(now, before, unit_id, viewer)
    return Comparison(
        unit_id=unit_id,
        unit_name=org_tree(now).label(unit_id),
        municipality=now.manifest.municipality,
        before_as_of=before.as_of,
        now_as_of=now.as_of,
        kpis=kpi_changes(now, before, unit_id, viewer),
        accounts=account_changes(now, before, unit_id, viewer),
        economy_before=economy_total(before, scope_for(before, viewer, unit_id), before.as_of),
        economy_now=economy_total(now, scope_for(now, viewer, unit_id), now.as_of),
        quality=quality_changes(now, before),
    )


def biggest_account(c: Comparison) -> dict[str, object] | None:
    """The account whose expected figure moved most (by absolute change); None if none moved."""
    moved = c.accounts.filter(pl.col("expected_change") != 0)
    if moved.height == 0:
        return None
    return moved.sort(pl.col("expected_change").abs(), descending=True).row(0, named=True)


def biggest_kpi_moves(c: Comparison, n: int = 3) -> pl.DataFrame:
    """The n KPIs that moved most relative to their earlier value (KPI_SCHEMA rows)."""
    return (
        c.kpis.filter(pl.col("relative_change").is_not_null() & (pl.col("change") != 0))
        .sort("relative_change", "metric_id", descending=[True, False])
        .head(n)
    )


def judgement_counts(c: Comparison) -> dict[str, int]:
    counts = dict.fromkeys(JUDGEMENTS, 0)
    for j in c.kpis["judgement"].to_list():
        counts[j] += 1
    return counts
