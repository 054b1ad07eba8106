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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple, overload

import numpy as np
import polars as pl

from metrics.extract import Extract
from metrics.scope import Scope, check_scope, scoped_capability
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


def _window(items: pl.LazyFrame, as_of: date, start: date, tie: str) -> pl.DataFrame:
    """The items whose order date lies in [start, as_of], in order. Each measure's steps are one
    lazy query, collected here: one pass over the scoped rows instead of a frame per step."""
    return (
        items.filter(pl.col("on").is_between(start, as_of))
        .sort("at", tie)
        .select(pl.col(tie).alias("item_id"), "at", "on", "value")
        .collect()
    )


def _received_between(start: date, as_of: date) -> pl.Expr:
    """received_at on a day of [start, as_of]: a cheap pre-filter before its date is taken."""
    return pl.col("received_at").is_between(
        datetime.combine(start, time()), datetime.combine(as_of + timedelta(days=1), time()), closed="left"
    )


def vurdering_timer_items_frames(notifications: pl.DataFrame, as_of: date, start: date) -> pl.DataFrame:
    """A notification assessed before T: hours from received_at to assessed_at as written
    (wall-clock, so a change to or from summer time does not add or take an hour)."""
    t = cutoff(as_of)
    in_window = notifications.lazy().filter(
        pl.col("received_at").is_between(datetime.combine(start, time()), t, closed="left")
    )
    assessed = in_window.filter(pl.col("assessed_at").is_not_null() & (pl.col("assessed_at") < t))
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
    done = (
        deadlines.lazy()
        .filter(pl.col("done_on").is_between(start, as_of))
        .filter(pl.col("kind") == "undersoegelse")
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
    linked = (
        notifications.lazy()
        .filter(pl.col("case_id").is_not_null() & _received_between(start, as_of))
        .select(
            "notification_id",
            "case_id",
            pl.col("received_at").alias("at"),
            pl.col("received_at").dt.date().alias("on"),
        )
    )
    # The window is on the notification's date, so filter before the join.
    linked = linked.filter(pl.col("on").is_between(start, as_of))
    # a decision on or after a notification in the window lies in [start, as_of] too
    decisions = (
        interventions.lazy()
        .filter(pl.col("decided_on").is_between(start, as_of))
        .select("case_id", "decided_on")
    )
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
        out = vurdering_timer_items_frames(scoped_capability(ex, "notifications", scope), as_of, first)
    elif measure == "undersoegelse_dage":
        out = undersoegelse_dage_items_frames(scoped_capability(ex, "deadlines", scope), as_of, first)
    else:
        out = underretning_til_indsats_dage_items_frames(
            scoped_capability(ex, "notifications", scope), ex["interventions"], as_of, first
        )
    return out.cast(dict(_ITEM_SCHEMA))  # type: ignore[arg-type]


def check_measure(measure: str) -> None:
    if measure not in MEASURES:
        raise UnknownMeasure(f"ukendt mål: {measure!r} (kendte: {', '.join(MEASURES)})")


# --- the figures ----------------------------------------------------------------------


class Signal(NamedTuple):
    """A signal at a 1-based position by rule 1 or 2."""

    position: int
    rule: int


class Signals(Sequence[Signal]):
    """The signals of a series, ordered by position, then rule: kept as two integer arrays and
    made into `Signal`s only when read one by one (a national series has ~100k signals, and a
    tuple of that many objects cost more than the rest of its figures). Equal to another
    `Signals`, or to a tuple or list of `Signal`s, with the same entries in the same order."""

    __slots__ = ("_positions", "_rules")

    def __init__(self, positions: np.ndarray | None = None, rules: np.ndarray | None = None) -> None:
        self._positions = np.asarray([] if positions is None else positions, dtype=np.int64)
        self._rules = np.asarray([] if rules is None else rules, dtype=np.int64)
        self._positions.flags.writeable = False
        self._rules.flags.writeable = False

    @property
    def positions(self) -> np.ndarray:
        return self._positions

    @property
    def rules(self) -> np.ndarray:
        return self._rules

    def __len__(self) -> int:
        return int(self._positions.size)

    @overload
    def __getitem__(self, i: int) -> Signal: ...
    @overload
    def __getitem__(self, i: slice) -> tuple[Signal, ...]: ...
    def __getitem__(self, i: int | slice) -> Signal | tuple[Signal, ...]:
        if isinstance(i, slice):
            return tuple(self)[i]
        return Signal(int(self._positions[i]), int(self._rules[i]))

    def __iter__(self) -> Iterator[Signal]:
        return map(Signal._make, zip(self._positions.tolist(), self._rules.tolist(), strict=True))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Signals):
            return np.array_equal(self._positions, other._positions) and np.array_equal(
                self._rules, other._rules
            )
        if isinstance(other, tuple | list):
            return tuple(self) == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self._positions.tobytes(), self._rules.tobytes()))

    def __repr__(self) -> str:
        return f"Signals({tuple(self)!r})"

    def as_json(self) -> list[dict[str, int]]:
        return [
            {"position": p, "rule": r}
            for p, r in zip(self._positions.tolist(), self._rules.tolist(), strict=True)
        ]


@dataclass(frozen=True)
class CapabilityFigures:
    n: int
    mean: float | None = None
    mr_bar: float | None = None
    lower: float | None = None
    upper: float | None = None
    p05: float | None = None
    p95: float | None = None
    signals: Signals = field(default_factory=Signals)

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
            "signals": self.signals.as_json(),
        }


def quantile(sorted_values: Sequence[float], q: float) -> float:
    """Linear interpolation at position (n − 1) × q of the sorted values, 0-based."""
    pos = (len(sorted_values) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return float(sorted_values[lo] + (pos - lo) * (sorted_values[hi] - sorted_values[lo]))


def signal_masks(
    values: Sequence[float] | np.ndarray, mean: float, lower: float, upper: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per item: does it break rule 1, rule 2? Rule 1: above upper, or below lower when
    lower > 0. Rule 2: the item at which the current run on one side of the mean reaches 8
    or more; an item within 1e-9 × max(1, |mean|) of the mean breaks a run and starts none."""
    x = np.asarray(values, dtype=np.float64)
    rule_1 = (x > upper) | ((lower > 0) & (x < lower))
    tol = EQUAL_TOLERANCE * max(1.0, abs(mean))
    side = np.where(x - mean > tol, 1, np.where(mean - x > tol, -1, 0))
    if x.size == 0:
        return rule_1, rule_1.copy()
    # a run starts wherever the side changes; an item on the mean has side 0 and never counts
    index = np.arange(x.size)
    starts = np.concatenate(([True], side[1:] != side[:-1]))
    run_start = np.maximum.accumulate(np.where(starts, index, 0))
    run_length = index - run_start + 1
    rule_2 = (side != 0) & (run_length >= RUN_LENGTH)
    return rule_1, rule_2


def _signal_list(rule_1: np.ndarray, rule_2: np.ndarray) -> Signals:
    """One entry per rule, ordered by position, then rule."""
    positions = np.r_[np.flatnonzero(rule_1), np.flatnonzero(rule_2)] + 1
    rules = np.r_[np.full(int(rule_1.sum()), 1), np.full(int(rule_2.sum()), 2)]
    order = np.lexsort((rules, positions))
    return Signals(positions[order], rules[order])


def signals(values: Sequence[float], mean: float, lower: float, upper: float) -> tuple[Signal, ...]:
    """The signals of rules 1 and 2 (see `signal_masks`), ordered by position, then rule."""
    return tuple(_signal_list(*signal_masks(values, mean, lower, upper)))


def _figures_and_masks(
    values: Sequence[float] | np.ndarray,
) -> tuple[CapabilityFigures, np.ndarray, np.ndarray]:
    x = np.asarray(values, dtype=np.float64)
    n = int(x.size)
    if n < 2:
        none = np.zeros(n, dtype=bool)
        return CapabilityFigures(n), none, none.copy()
    # fsum of a list: the same exact sum, but no NumPy scalar made per item
    mean = math.fsum(x.tolist()) / n
    # One correction step: fsum(x) / n rounds twice, and a constant series must have its
    # own value as mean (or every item falls outside the zero-width limits by an ulp).
    mean += math.fsum((x - mean).tolist()) / n
    mr_bar = math.fsum(np.abs(np.diff(x)).tolist()) / (n - 1)
    lower = max(0.0, mean - XMR_FACTOR * mr_bar)
    upper = mean + XMR_FACTOR * mr_bar
    ordered = np.sort(x)
    rule_1, rule_2 = signal_masks(x, mean, lower, upper)
    figures = CapabilityFigures(
        n=n,
        mean=mean,
        mr_bar=mr_bar,
        lower=lower,
        upper=upper,
        p05=quantile(ordered, 0.05),  # type: ignore[arg-type]
        p95=quantile(ordered, 0.95),  # type: ignore[arg-type]
        signals=_signal_list(rule_1, rule_2),
    )
    return figures, rule_1, rule_2


def capability_figures(values: Sequence[float]) -> CapabilityFigures:
    """The capability figures of items x₁ … xₙ in their order (kpis.md, Capability)."""
    return _figures_and_masks(values)[0]


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
    figures, rule_1, rule_2 = _figures_and_masks(items["value"].to_numpy())
    marked = items.with_row_index("position", offset=1).with_columns(
        pl.col("position").cast(pl.Int64),
        pl.Series("rule_1", rule_1, dtype=pl.Boolean),
        pl.Series("rule_2", rule_2, dtype=pl.Boolean),
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
        {"position": result.figures.signals.positions, "rule": result.figures.signals.rules},
        schema={"position": pl.Int64, "rule": pl.Int64},
    )
    return rules.join(items, on="position", how="left").select("position", "on", "value", "rule")
