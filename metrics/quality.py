"""What validation set aside, for the Datakvalitet page: counts for everyone, the rows
themselves only for leaders (they are raw case and person rows whose unit may be unknown)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from metrics.access import AccessDenied, Viewer, aggregate_units
from metrics.contract import TABLE_LABELS
from metrics.extract import Extract
from metrics.loader import MESSAGE_COLUMN, RULES_COLUMN, rule_text
from metrics.org import org_tree
from metrics.scope import Scope, scoped

QUALITY_READERS = ("leder", "system")


def summary(ex: Extract) -> pl.DataFrame:
    """One row per table and broken rule: table, rule, explanation, rows; plus tables' totals."""
    rows = [
        {
            "table": table,
            "table_label": TABLE_LABELS.get(table, table),
            "accepted": rep.accepted,
            "rejected": rep.rejected,
            "rule": rule,
            "explanation": rule_text(rule, table),
            "rows": count,
        }
        for table, rep in ex.report.items()
        for rule, count in sorted(rep.reasons.items())
    ]
    schema = {
        "table": pl.String,
        "table_label": pl.String,
        "accepted": pl.Int64,
        "rejected": pl.Int64,
        "rule": pl.String,
        "explanation": pl.String,
        "rows": pl.Int64,
    }
    return pl.DataFrame(rows, schema=schema)


def table_totals(ex: Extract) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "table": list(ex.report),
            "table_label": [TABLE_LABELS.get(t, t) for t in ex.report],
            "accepted": [r.accepted for r in ex.report.values()],
            "rejected": [r.rejected for r in ex.report.values()],
        },
        schema={"table": pl.String, "table_label": pl.String, "accepted": pl.Int64, "rejected": pl.Int64},
    )


def can_see_rejected_rows(viewer: Viewer) -> bool:
    return viewer.role in QUALITY_READERS


def _row_unit(ex: Extract, table: str) -> pl.Expr:
    """The unit a set-aside row belongs to, as far as the accepted rows tell; null if unknown."""
    if table in ("employees", "cases", "budgets", "notifications", "measurements"):
        return pl.col("unit_id")
    if table in ("interventions", "deadlines"):
        return pl.col("case_id").replace_strict(_lookup(ex["cases"], "case_id"), default=None)
    if table == "payments":
        iv = scoped(ex, "interventions", Scope.unit(org_tree(ex).root))
        return pl.col("intervention_id").replace_strict(_lookup(iv, "intervention_id"), default=None)
    if table == "absences":
        return pl.col("employee_id").replace_strict(_lookup(ex["employees"], "employee_id"), default=None)
    return pl.lit(None, dtype=pl.String)  # org_units: a set-aside unit is not in the tree


def _lookup(df: pl.DataFrame, key: str) -> dict[str, str]:
    return dict(zip(df[key].to_list(), df["unit_id"].to_list(), strict=True))


def rejected_rows(ex: Extract, viewer: Viewer, table: str) -> pl.DataFrame:
    """The rows of `table` set aside that lie in the viewer's subtree, with the broken rules
    joined into one text column. Rows whose unit is unknown only reach a leader of the whole
    organisation; the reference table of intervention kinds reaches every leader."""
    if not can_see_rejected_rows(viewer):
        raise AccessDenied("afviste rækker i", table)
    df = ex.rejected.get(table)
    if df is None or df.height == 0:
        return pl.DataFrame()
    tree = org_tree(ex)
    allowed = aggregate_units(ex, viewer)
    if tree.root not in allowed and table != "intervention_kinds":
        units = pl.Series(sorted(allowed), dtype=pl.String).implode()
        df = df.filter(_row_unit(ex, table).is_in(units).fill_null(False))
    return (
        df.with_columns(pl.col(RULES_COLUMN).list.join(", ").alias("regler"))
        .drop(RULES_COLUMN)
        .rename({MESSAGE_COLUMN: "begrundelse"})
    )


# --- one page of set-aside rows (the page shows at most PAGE_SIZE rows; the rest is a download) ---

PAGE_SIZE = 100


@dataclass(frozen=True)
class RowPage:
    rows: pl.DataFrame  # the rows of this page
    matching: int  # rows matching the search, over all pages
    page: int  # 1-based, clamped to 1 … pages
    pages: int  # at least 1
    size: int = PAGE_SIZE

    @property
    def first(self) -> int:
        """1-based number of the first row shown (0 when nothing matches)."""
        return 0 if self.matching == 0 else (self.page - 1) * self.size + 1

    @property
    def last(self) -> int:
        return self.first + self.rows.height - 1 if self.rows.height else 0


def matching_rows(
    rows: pl.DataFrame, search: str = "", sort_by: str | None = None, descending: bool = False
) -> pl.DataFrame:
    """The rows holding `search` in any column (case-insensitive, literal), sorted by `sort_by`."""
    needle = search.strip().lower()
    if needle and rows.width:
        rows = rows.filter(
            pl.any_horizontal(
                pl.col(c)
                .cast(pl.String)
                .str.to_lowercase()
                .str.contains(needle, literal=True)
                .fill_null(False)
                for c in rows.columns
                if rows.schema[c] != pl.List(pl.String)
            )
        )
    if sort_by is not None and sort_by in rows.columns:
        rows = rows.sort(sort_by, descending=descending, nulls_last=True, maintain_order=True)
    return rows


def page_of_rows(
    rows: pl.DataFrame,
    *,
    search: str = "",
    sort_by: str | None = None,
    descending: bool = False,
    page: int = 1,
    size: int = PAGE_SIZE,
) -> RowPage:
    """One page of `matching_rows`: sorting, searching and paging happen here, on the server."""
    found = matching_rows(rows, search, sort_by, descending)
    pages = max(1, -(-found.height // size))
    page = min(max(1, page), pages)
    return RowPage(found.slice((page - 1) * size, size), found.height, page, pages, size)


def case_ids(rows: pl.DataFrame) -> list[str]:
    """The distinct case ids of rows, in order (for an audit row); [] for a table without cases."""
    if "case_id" not in rows.columns:
        return []
    return rows["case_id"].drop_nulls().unique(maintain_order=True).to_list()
