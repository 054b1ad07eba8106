"""Danish display formats for the pages: the text formats of metrics.fmt and the one escaping
helper for text from data in Markdown. (Altair's Danish locale is metrics.charts.danish: not
imported here, so a page without Altair charts, the first among them, does not import Altair.)"""

from __future__ import annotations

import re

from metrics.fmt import (
    DASH,
    MONTHS,
    MONTHS_FULL,
    fmt_date,
    fmt_datetime,
    fmt_delta,
    fmt_dkk,
    fmt_mio,
    fmt_month,
    fmt_num,
    fmt_pct,
    fmt_value,
)

__all__ = [
    "DASH",
    "MONTHS",
    "MONTHS_FULL",
    "URL_ECHO_MAX",
    "fmt_date",
    "fmt_datetime",
    "fmt_delta",
    "fmt_dkk",
    "fmt_mio",
    "fmt_month",
    "fmt_num",
    "fmt_pct",
    "fmt_value",
    "md_escape",
    "url_echo",
]


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
