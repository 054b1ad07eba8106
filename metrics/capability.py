"""Capability (kpis.md 1.1, section Capability): end-to-end times as a series of items,
their mean, the natural process limits (XmR), p05/p95 and the signals of rules 1 and 2.

    measure_items(ex, measure, scope, as_of, start)  -> the ordered items of the window
    capability_figures(values)                       -> n, mean, mR̄, limits, p05/p95, signals
    capability(ex, measure, scope, as_of, start)     -> both, for a page or the command line

The `*_items_frames` functions are pure (already-scoped frames and as_of). The same
rules 1 and 2 give the scorecard's signal mark (`metrics.own_values`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import polars as pl

from metrics.extract import Extract
from metrics.scope import Scope, check_scope, scoped
from metrics.values import cutoff

XMR_FACTOR = 2.66
RUN_LENGTH = 8
EQUAL_TOLERANCE = 1e-9
WINDOW_DAYS = 365

ITEM_COLUMNS = ("item_id", "at", "on", "value")
_ITEM_SCHEMA = pl.Schema({"item_id": pl.String, "at": pl.Datetime("us"), "on": pl.Date, "value": pl.Float64})


@dataclass(frozen=True)
class MeasureDef:
    id: str
    label: str
    unit: str  # "timer" or "dage"
    noun: str  # the item, for the Danish statement
    statement: str  # "{noun} … {mean} … {p05} … {p95}"
    description: str


MEASURES: dict[str, MeasureDef] = {
    m.id: m
    for m in (
        MeasureDef(
            "vurdering_timer",
            "Fra underretning til vurdering",
            "timer",
            "underretning",
            "En underretning vurderes i gennemsnit efter {mean} timer; forventeligt mellem {p05} og {p95} timer.",
            "Timer fra en underretning modtages, til den er vurderet, for hver underretning vurderet "
            "før dagens udgang, i modtagelsesrækkefølge.",
        ),
        MeasureDef(
            "undersoegelse_dage",
            "Børnefaglig undersøgelse",
            "dage",
            "undersøgelse",
            "En børnefaglig undersøgelse tager i gennemsnit {mean} dage; forventeligt mellem {p05} og {p95} dage.",
            "Kalenderdage fra en børnefaglig undersøgelse starter, til den er afsluttet, for hver afsluttet "
            "undersøgelse, i rækkefølge efter afslutningsdato.",
        ),
        MeasureDef(
            "underretning_til_indsats_dage",
            "Fra underretning til indsats",
            "dage",
            "underretning",
            "Fra en underretning til den første beslutning om en indsats går der i gennemsnit {mean} dage; "
            "forventeligt mellem {p05} og {p95} dage.",
            "Kalenderdage fra en underretning modtages, til der første gang besluttes en indsats i den "
            "tilknyttede sag (også en prisændring), for hver underretning med en sådan beslutning.",
        ),
    )
}


class UnknownMeasure(ValueError):
    """A measure id that kpis.md does not define."""


def default_start(as_of: date) -> date:
    """The window's first day by default: the 365 days up to and including as_of."""
    return as_of - timedelta(days=WINDOW_DAYS - 1)


# --- the items of each measure --------------------------------------------------------


def _window(items: pl.DataFrame, as_of: date, start: date, tie: str) -> pl.DataFrame:
    return (
        items.filter(pl.col("on").is_between(start, as_of))
        .sort("at", tie)
        .select(pl.col(tie).alias("item_id"), "at", "on", "value")
    )


def vurdering_timer_items_frames(notifications: pl.DataFrame, as_of: date, start: date) -> pl.DataFrame:
    """A notification assessed before T: hours from received_at to assessed_at as written
    (wall-clock, so a change to or from summer time does not add or take an hour)."""
    t = cutoff(as_of)
    assessed = notifications.filter(pl.col("assessed_at").is_not_null() & (pl.col("assessed_at") < t))
    items = assessed.select(
        "notification_id",
        pl.col("received_at").alias("at"),
        pl.col("received_at").dt.date().alias("on"),
        ((pl.col("assessed_at") - pl.col("received_at")).dt.total_microseconds() / 3_600_000_000).alias(
            "value"
        ),
    )
    return _window(items, as_of, start, "notification_id")


def undersoegelse_dage_items_frames(deadlines: pl.DataFrame, as_of: date, start: date) -> pl.DataFrame:
    """A deadline of kind undersoegelse done by as_of: calendar days from started_on to done_on."""
    done = deadlines.filter(
        (pl.col("kind") == "undersoegelse") & pl.col("done_on").is_not_null() & (pl.col("done_on") <= as_of)
    )
    items = done.select(
        "deadline_id",
        pl.col("done_on").cast(pl.Datetime("us")).alias("at"),
        pl.col("done_on").alias("on"),
        (pl.col("done_on") - pl.col("started_on")).dt.total_days().cast(pl.Float64).alias("value"),
    )
    return _window(items, as_of, start, "deadline_id")


def underretning_til_indsats_dage_items_frames(
    notifications: pl.DataFrame, interventions: pl.DataFrame, as_of: date, start: date
) -> pl.DataFrame:
    """A linked notification whose case has an intervention decided on or after the
    notification's date and by as_of: calendar days to the first such decision. Every
    notification is its own item; any intervention row counts (a price change too).

    `interventions` are all of the extract's: the case's decisions count wherever the case sits.
    """
    linked = notifications.filter(pl.col("case_id").is_not_null()).select(
        "notification_id",
        "case_id",
        pl.col("received_at").alias("at"),
        pl.col("received_at").dt.date().alias("on"),
    )
    # The window is on the notification's date, so filter before the join.
    linked = linked.filter(pl.col("on").is_between(start, as_of))
    decisions = interventions.filter(pl.col("decided_on") <= as_of).select("case_id", "decided_on")
    first = (
        linked.join(decisions, on="case_id", how="inner")
        .filter(pl.col("decided_on") >= pl.col("on"))
        .group_by("notification_id", "at", "on")
        .agg(pl.col("decided_on").min())
    )
    items = first.select(
        "notification_id",
        "at",
        "on",
        (pl.col("decided_on") - pl.col("on")).dt.total_days().cast(pl.Float64).alias("value"),
    )
    return _window(items, as_of, start, "notification_id")


def measure_items(
    ex: Extract, measure: str, scope: Scope, as_of: date, start: date | None = None
) -> pl.DataFrame:
    """The items of `measure` in scope whose order date lies in [start, as_of], in order:
    columns item_id, at (order instant), on (order date), value."""
    check_measure(measure)
    check_scope(ex, scope)
    first = default_start(as_of) if start is None else start
    if measure == "vurdering_timer":
        out = vurdering_timer_items_frames(scoped(ex, "notifications", scope), as_of, first)
    elif measure == "undersoegelse_dage":
        out = undersoegelse_dage_items_frames(scoped(ex, "deadlines", scope), as_of, first)
    else:
        out = underretning_til_indsats_dage_items_frames(
            scoped(ex, "notifications", scope), ex["interventions"], as_of, first
        )
    return out.cast(dict(_ITEM_SCHEMA))  # type: ignore[arg-type]


def check_measure(measure: str) -> None:
    if measure not in MEASURES:
        raise UnknownMeasure(f"ukendt mål: {measure!r} (kendte: {', '.join(MEASURES)})")


# --- the figures ----------------------------------------------------------------------


@dataclass(frozen=True)
class Signal:
    position: int  # 1-based
    rule: int  # 1 or 2


@dataclass(frozen=True)
class CapabilityFigures:
    n: int
    mean: float | None = None
    mr_bar: float | None = None
    lower: float | None = None
    upper: float | None = None
    p05: float | None = None
    p95: float | None = None
    signals: tuple[Signal, ...] = field(default_factory=tuple)

    def as_json(self, measure: str) -> dict[str, Any]:
        return {
            "measure": measure,
            "n": self.n,
            "mean": self.mean,
            "mr_bar": self.mr_bar,
            "lower": self.lower,
            "upper": self.upper,
            "p05": self.p05,
            "p95": self.p95,
            "signals": [{"position": s.position, "rule": s.rule} for s in self.signals],
        }


def quantile(sorted_values: Sequence[float], q: float) -> float:
    """Linear interpolation at position (n − 1) × q of the sorted values, 0-based."""
    pos = (len(sorted_values) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (pos - lo) * (sorted_values[hi] - sorted_values[lo])


def signals(values: Sequence[float], mean: float, lower: float, upper: float) -> tuple[Signal, ...]:
    """Rule 1: above upper, or below lower when lower > 0. Rule 2: the item at which the
    current run on one side of the mean reaches 8 or more; an item within
    1e-9 × max(1, |mean|) of the mean breaks a run and starts none."""
    tol = EQUAL_TOLERANCE * max(1.0, abs(mean))
    out: list[Signal] = []
    side, run = 0, 0
    for i, x in enumerate(values, start=1):
        if x > upper or (lower > 0 and x < lower):
            out.append(Signal(i, 1))
        here = 1 if x - mean > tol else -1 if mean - x > tol else 0
        run = 0 if here == 0 else run + 1 if here == side else 1
        side = here
        if run >= RUN_LENGTH:
            out.append(Signal(i, 2))
    return tuple(out)


def capability_figures(values: Sequence[float]) -> CapabilityFigures:
    """The capability figures of items x₁ … xₙ in their order (kpis.md, Capability)."""
    n = len(values)
    if n < 2:
        return CapabilityFigures(n)
    mean = math.fsum(values) / n
    mr_bar = math.fsum(abs(values[i] - values[i - 1]) for i in range(1, n)) / (n - 1)
    lower = max(0.0, mean - XMR_FACTOR * mr_bar)
    upper = mean + XMR_FACTOR * mr_bar
    ordered = sorted(values)
    return CapabilityFigures(
        n=n,
        mean=mean,
        mr_bar=mr_bar,
        lower=lower,
        upper=upper,
        p05=quantile(ordered, 0.05),
        p95=quantile(ordered, 0.95),
        signals=signals(values, mean, lower, upper),
    )


@dataclass(frozen=True)
class CapabilityResult:
    measure: MeasureDef
    start: date
    as_of: date
    items: pl.DataFrame  # ITEM_COLUMNS plus position (1-based), rule_1, rule_2 (bool)
    figures: CapabilityFigures


def capability(
    ex: Extract, measure: str, scope: Scope, as_of: date, start: date | None = None
) -> CapabilityResult:
    """The items of the window with their signals, and the capability figures."""
    first = default_start(as_of) if start is None else start
    items = measure_items(ex, measure, scope, as_of, first)
    figures = capability_figures(items["value"].to_list())
    marked = items.with_row_index("position", offset=1).with_columns(
        pl.col("position").cast(pl.Int64),
        pl.col("position").is_in([s.position for s in figures.signals if s.rule == 1]).alias("rule_1"),
        pl.col("position").is_in([s.position for s in figures.signals if s.rule == 2]).alias("rule_2"),
    )
    return CapabilityResult(MEASURES[measure], first, as_of, marked, figures)


def limits_wide(figures: CapabilityFigures) -> bool:
    """Whether the natural limits are so wide that the process says little about the next
    item: the upper limit at least twice the mean (the next item may well take more than
    twice the average). A reading for the page's plain words, not a rule of kpis.md."""
    if figures.mean is None or figures.upper is None:
        return False
    return figures.mean > 0 and figures.upper >= 2 * figures.mean


def signal_rows(result: CapabilityResult) -> pl.DataFrame:
    """One row per signal (position, on, value, rule), ordered by position then rule; no item
    ids, so every role may see it (aggregates only)."""
    items = result.items.select("position", "on", "value")
    rules = pl.DataFrame(
        {
            "position": [s.position for s in result.figures.signals],
            "rule": [s.rule for s in result.figures.signals],
        },
        schema={"position": pl.Int64, "rule": pl.Int64},
    )
    return rules.join(items, on="position", how="left").select("position", "on", "value", "rule")
