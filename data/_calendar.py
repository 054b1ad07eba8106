"""Vectorised calendar arithmetic on day numbers (int64 days since 1970-01-01)."""

from __future__ import annotations

from datetime import date

import numpy as np
import numpy.typing as npt

Days = npt.NDArray[np.int64]

_EPOCH = date(1970, 1, 1)


def day(d: date) -> int:
    return (d - _EPOCH).days


def to_date(n: int) -> date:
    return date.fromordinal(_EPOCH.toordinal() + int(n))


def month_index(days: Days) -> Days:
    """Months since 1970-01 of each day."""
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def month_start(months: Days) -> Days:
    """First day of each month index."""
    return months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def days_in_month(months: Days) -> Days:
    return month_start(months + 1) - month_start(months)


def year_of(days: Days) -> Days:
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def year_start(years: Days) -> Days:
    return (
        (np.asarray(years, dtype=np.int64) - 1970)
        .astype("datetime64[Y]")
        .astype("datetime64[D]")
        .astype(np.int64)
    )


def add_months(days: Days, k: Days | int) -> Days:
    """The same day of the month k months later, clipped to the month's last day."""
    m = month_index(days)
    dom = days - month_start(m)
    m2 = m + k
    return month_start(m2) + np.minimum(dom, days_in_month(m2) - 1)


def weekday(days: Days) -> Days:
    """Monday = 0 … Sunday = 6."""
    return (days + 3) % 7


def next_weekday(days: Days) -> Days:
    """Saturdays and Sundays moved to the following Monday."""
    wd = weekday(days)
    return days + np.where(wd == 5, 2, np.where(wd == 6, 1, 0))
