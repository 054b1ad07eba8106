"""What validation set aside, for the Datakvalitet page: counts for everyone, the rows
themselves only for leaders (they are raw case and person rows whose unit may be unknown)."""

from __future__ import annotations

import polars as pl

from metrics.access import AccessDenied, Viewer
from metrics.extract import Extract
from metrics.loader import MESSAGE_COLUMN, RULES_COLUMN, rule_text

QUALITY_READERS = ("leder", "system")


def summary(ex: Extract) -> pl.DataFrame:
    """One row per table and broken rule: table, rule, explanation, rows; plus tables' totals."""
    rows = [
        {
            "table": table,
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
            "accepted": [r.accepted for r in ex.report.values()],
            "rejected": [r.rejected for r in ex.report.values()],
        },
        schema={"table": pl.String, "accepted": pl.Int64, "rejected": pl.Int64},
    )


def can_see_rejected_rows(viewer: Viewer) -> bool:
    return viewer.role in QUALITY_READERS


def rejected_rows(ex: Extract, viewer: Viewer, table: str) -> pl.DataFrame:
    """The rows of `table` set aside, with the broken rules joined into one text column."""
    if not can_see_rejected_rows(viewer):
        raise AccessDenied("afviste rækker i", table)
    df = ex.rejected.get(table)
    if df is None or df.height == 0:
        return pl.DataFrame()
    return (
        df.with_columns(pl.col(RULES_COLUMN).list.join(", ").alias("regler"))
        .drop(RULES_COLUMN)
        .rename({MESSAGE_COLUMN: "begrundelse"})
    )
