"""Who is on the staff on a given day (employees.employed_from / employed_to)."""

from __future__ import annotations

from datetime import date

import polars as pl


def employed_on(day: date | pl.Expr) -> pl.Expr:
    """Employed on `day`: started on or before it and not left before it (employed_to included).
    `day` may be a date column (a trend evaluates every month end at once)."""
    lit = day if isinstance(day, pl.Expr) else pl.lit(day)
    return (pl.col("employed_from") <= day) & (pl.col("employed_to").is_null() | (lit <= pl.col("employed_to")))
