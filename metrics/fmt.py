"""Danish display formats: 1.234.567 kr., 87,5 %, 14. jun. 2024. Null shows as "–".

Pure text functions, on the ground floor so the pages (through ui.fmt) and the files the
command line writes (metrics.pack) show numbers and dates the same way.
"""

from __future__ import annotations

import math
from datetime import date, datetime

DASH = "–"
MONTHS = ("jan.", "feb.", "mar.", "apr.", "maj", "jun.", "jul.", "aug.", "sep.", "okt.", "nov.", "dec.")
MONTHS_FULL = (
    "januar", "februar", "marts", "april", "maj", "juni",
    "juli", "august", "september", "oktober", "november", "december",
)  # fmt: skip


# Vega's number and time locale in Danish (Vega-Lite's `config.locale`): Altair's charts get it
# through metrics.charts.danish, the plain specs of ui.sparkline as it is.
VEGA_LOCALE = {
    "number": {"currency": ["", " kr."], "decimal": ",", "grouping": [3], "thousands": "."},
    "time": {
        "date": "%d.%m.%Y",
        "dateTime": "%A den %d. %B %Y %X",
        "days": ["søndag", "mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag"],
        "months": list(MONTHS_FULL),
        "periods": ["AM", "PM"],
        "shortDays": ["søn", "man", "tir", "ons", "tor", "fre", "lør"],
        "shortMonths": [m.rstrip(".") for m in MONTHS],
        "time": "%H:%M:%S",
    },
}


def _missing(x: float | None) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def fmt_num(x: float | None, decimals: int = 0) -> str:
    if _missing(x):
        return DASH
    assert x is not None
    text = f"{x:,.{decimals}f}"  # 1,234,567.89
    text = text.replace(",", "\u0000").replace(".", ",").replace("\u0000", ".")
    return text.replace("-", "−") if text.startswith("-") else text


def fmt_dkk(x: float | None, decimals: int = 0) -> str:
    return DASH if _missing(x) else f"{fmt_num(x, decimals)} kr."


def fmt_mio(x: float | None) -> str:
    return DASH if _missing(x) else f"{fmt_num((x or 0) / 1e6, 1)} mio. kr."


def fmt_pct(x: float | None, decimals: int = 1) -> str:
    return DASH if _missing(x) else f"{fmt_num(x, decimals)} %"


def fmt_date(d: date | datetime | None) -> str:
    if d is None:
        return DASH
    return f"{d.day}. {MONTHS[d.month - 1]} {d.year}"


def fmt_datetime(d: datetime | None) -> str:
    return DASH if d is None else f"{fmt_date(d)} kl. {d:%H:%M}"


def fmt_month(d: date) -> str:
    return f"{MONTHS[d.month - 1]} {d.year}"


def fmt_value(x: float | None, fmt: str) -> str:
    """Format a registry value by the metric's format."""
    if fmt == "pct":
        return fmt_pct(x)
    if fmt == "dkk":
        return fmt_dkk(x)
    if fmt == "count":
        return fmt_num(x)
    if fmt in ("ratio", "score"):
        return fmt_num(x, 1 if fmt == "ratio" else 2)
    raise ValueError(f"unknown format {fmt!r}")


def fmt_delta(x: float | None, fmt: str) -> str:
    """A change, signed: +1,2 pct.-point, −3.400 kr."""
    if _missing(x):
        return DASH
    assert x is not None
    sign = "+" if x > 0 else ""
    if fmt == "pct":
        return f"{sign}{fmt_num(x, 1)} pct.-point"
    return sign + fmt_value(x, fmt)
