"""Demand (kpis.md 1.1, section Demand; needs the optional `contacts` table): how many
contacts a scope gets and what share is failure demand, per month, by channel, and the
reasons as a Pareto table.

The `*_frames` functions are pure (already-scoped contacts and as_of). Whether the
extract has contacts at all is `Extract.present("contacts")`; the registry leaves the
two KPIs out when it has not.
"""

from __future__ import annotations

from datetime import date, datetime

import polars as pl

from metrics.contract import CHANNELS
from metrics.extract import Extract
from metrics.scope import Scope, scoped, scoped_year
from metrics.values import KpiValue, cutoff, ratio, year_start

FAILURE = "fejl"
VALUE = "vaerdi"
DEMAND_TYPE_LABELS = {VALUE: "Værdiefterspørgsel", FAILURE: "Fejlefterspørgsel"}
CHANNEL_LABELS = {
    "telefon": "Telefon",
    "mail": "Mail",
    "digital_post": "Digital Post",
    "personligt": "Personligt",
    "andet": "Andet",
}


def received_between(first: date, as_of: date) -> pl.Expr:
    """received_at on a day from `first` through as_of (before T)."""
    return (pl.col("received_at") >= datetime.combine(first, datetime.min.time())) & (
        pl.col("received_at") < cutoff(as_of)
    )


def henvendelser_antal_frames(contacts: pl.DataFrame, as_of: date, start: date | None = None) -> KpiValue:
    n = contacts.filter(received_between(start or year_start(as_of), as_of)).height
    return KpiValue(float(n), n)


def fejlefterspoergsel_pct_frames(contacts: pl.DataFrame, as_of: date, start: date | None = None) -> KpiValue:
    counted = contacts.filter(received_between(start or year_start(as_of), as_of))
    failure = counted.filter(pl.col("demand_type") == FAILURE).height
    return ratio(float(failure), float(counted.height), counted.height)


def _shares(df: pl.DataFrame) -> pl.DataFrame:
    """Counts per demand type, total and failure share (null without contacts)."""
    return df.with_columns(
        (pl.col(VALUE) + pl.col(FAILURE)).alias("total"),
    ).with_columns(
        pl.when(pl.col("total") > 0)
        .then(pl.col(FAILURE) / pl.col("total") * 100)
        .otherwise(None)
        .cast(pl.Float64)
        .alias("fejl_pct")
    )


def _count_types(df: pl.DataFrame, by: str) -> pl.DataFrame:
    return df.group_by(by).agg(
        (pl.col("demand_type") == VALUE).sum().cast(pl.Int64).alias(VALUE),
        (pl.col("demand_type") == FAILURE).sum().cast(pl.Int64).alias(FAILURE),
    )


def demand_by_month_frames(contacts: pl.DataFrame, as_of: date, start: date) -> pl.DataFrame:
    """One row per month from start's month through as_of's month: vaerdi, fejl, total and
    fejl_pct over that month's own contacts (through as_of in the last month)."""
    months = pl.date_range(date(start.year, start.month, 1), as_of, interval="1mo", eager=True).alias("month")
    counted = contacts.filter(received_between(start, as_of)).with_columns(
        pl.col("received_at").dt.date().dt.truncate("1mo").alias("month")
    )
    per = _count_types(counted, "month")
    out = pl.DataFrame({"month": months}).join(per, on="month", how="left").fill_null(0)
    return _shares(out).sort("month")


def demand_by_channel_frames(contacts: pl.DataFrame, as_of: date, start: date) -> pl.DataFrame:
    """One row per channel of the contract (in its order): vaerdi, fejl, total, fejl_pct."""
    counted = contacts.filter(received_between(start, as_of))
    per = _count_types(counted, "channel")
    out = pl.DataFrame({"channel": list(CHANNELS)}).join(per, on="channel", how="left").fill_null(0)
    return _shares(out)


def reasons_pareto_frames(contacts: pl.DataFrame, as_of: date, start: date) -> pl.DataFrame:
    """One row per reason and demand type, most frequent first (ties by reason, then type):
    count, share of all contacts in the window (%) and cumulative share (%)."""
    counted = contacts.filter(received_between(start, as_of))
    total = counted.height
    per = (
        counted.group_by("reason", "demand_type")
        .agg(pl.len().cast(pl.Int64).alias("count"))
        .sort(["count", "reason", "demand_type"], descending=[True, False, False])
    )
    if total == 0:
        return per.with_columns(
            pl.lit(None, dtype=pl.Float64).alias("share_pct"),
            pl.lit(None, dtype=pl.Float64).alias("cumulative_pct"),
        )
    return per.with_columns(
        (pl.col("count") / total * 100).alias("share_pct"),
        (pl.col("count").cum_sum() / total * 100).alias("cumulative_pct"),
    )


# --- scoped wrappers -----------------------------------------------------------------


def henvendelser_antal(ex: Extract, scope: Scope, as_of: date) -> KpiValue:
    return henvendelser_antal_frames(scoped_contacts_year(ex, scope, as_of.year), as_of)


def fejlefterspoergsel_pct(ex: Extract, scope: Scope, as_of: date) -> KpiValue:
    return fejlefterspoergsel_pct_frames(scoped_contacts_year(ex, scope, as_of.year), as_of)


def scoped_contacts_year(ex: Extract, scope: Scope, year: int) -> pl.DataFrame:
    return scoped_year(ex, "contacts", scope, year)


def demand_by_month(ex: Extract, scope: Scope, as_of: date, start: date) -> pl.DataFrame:
    return demand_by_month_frames(scoped(ex, "contacts", scope), as_of, start)


def demand_by_channel(ex: Extract, scope: Scope, as_of: date, start: date) -> pl.DataFrame:
    return demand_by_channel_frames(scoped(ex, "contacts", scope), as_of, start)


def reasons_pareto(ex: Extract, scope: Scope, as_of: date, start: date) -> pl.DataFrame:
    return reasons_pareto_frames(scoped(ex, "contacts", scope), as_of, start)
