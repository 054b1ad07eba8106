"""Danish display formats: 1.234.567 kr., 87,5 %, 14. jun. 2024. Null shows as "–"."""

from __future__ import annotations

import math
import re
from datetime import date, datetime

import altair as alt

DASH = "–"
MONTHS = ("jan.", "feb.", "mar.", "apr.", "maj", "jun.", "jul.", "aug.", "sep.", "okt.", "nov.", "dec.")
MONTHS_FULL = (
    "januar", "februar", "marts", "april", "maj", "juni",
    "juli", "august", "september", "oktober", "november", "december",
)  # fmt: skip


# Every ASCII punctuation character may be backslash-escaped in CommonMark, and an escaped one
# is always literal: no emphasis, link, image, HTML, entity, heading, list, table or LaTeX ($),
# and no GFM autolink either (`http\:`, `www\.`, `a\@b\.dk` are not recognised as links).
_MD_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")
_LINE_BREAKS = re.compile(r"[\r\n\t\v\f\u0085\u2028\u2029]+")
URL_ECHO_MAX = 200


def md_escape(text: object) -> str:
    """Text from data, a URL or the identity provider, shown literally inside Markdown: the one
    way such a value reaches st.markdown / caption / alerts / labels. Line breaks become spaces
    (a value never starts a new block)."""
    return _MD_SPECIAL.sub(r"\\\1", _LINE_BREAKS.sub(" ", str(text)))


def url_echo(raw: object) -> str:
    """A value from the URL, quoted for an error message: cut at URL_ECHO_MAX characters, escaped."""
    text = str(raw)
    if len(text) > URL_ECHO_MAX:
        text = text[:URL_ECHO_MAX] + "…"
    return f"'{md_escape(text)}'"


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


DANISH_LOCALE = alt.Locale(
    number=alt.NumberLocale(decimal=",", thousands=".", grouping=[3], currency=["", " kr."]),
    time=alt.TimeLocale(
        dateTime="%A den %d. %B %Y %X",
        date="%d.%m.%Y",
        time="%H:%M:%S",
        periods=["AM", "PM"],
        days=["søndag", "mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag"],
        shortDays=["søn", "man", "tir", "ons", "tor", "fre", "lør"],
        months=list(MONTHS_FULL),
        shortMonths=[m.rstrip(".") for m in MONTHS],
    ),
)


def danish(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """Apply Danish number and month formats to a top-level Altair chart."""
    return chart.configure(locale=DANISH_LOCALE)
