"""Small value types shared by every metric."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta


@dataclass(frozen=True)
class KpiValue:
    """A KPI's value and how many rows it rests on (e.g. the eligible deadlines)."""

    value: float | None
    basis: int
    numerator: float | None = None
    denominator: float | None = None


def ratio(numerator: float, denominator: float, basis: int, scale: float = 100.0) -> KpiValue:
    """numerator ÷ denominator × scale; a zero denominator gives null, never 0."""
    if denominator == 0:
        return KpiValue(None, basis, numerator, denominator)
    return KpiValue(numerator / denominator * scale, basis, numerator, denominator)


def year_start(as_of: date) -> date:
    return date(as_of.year, 1, 1)


def cutoff(as_of: date) -> datetime:
    """T = as_of + 1 day, 00:00: the exclusive end of what is known at as_of."""
    return datetime.combine(as_of + timedelta(days=1), datetime.min.time())


def month_end(year: int, month: int) -> date:
    nxt = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return nxt - timedelta(days=1)


def one_year_earlier(d: date) -> date:
    """The same day one year earlier; 29 February maps to 28 February."""
    if d.month == 2 and d.day == 29:
        return date(d.year - 1, 2, 28)
    return d.replace(year=d.year - 1)


def trend_dates(as_of: date) -> list[date]:
    """Last day of each month of as_of's year before its month, then as_of itself."""
    return [month_end(as_of.year, m) for m in range(1, as_of.month)] + [as_of]
