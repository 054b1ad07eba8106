"""Danish display formats for the pages: the text formats of metrics.fmt, the one escaping
helper for text from data in Markdown, and Altair's Danish locale."""

from __future__ import annotations

import re

from metrics.charts import DANISH_LOCALE, danish
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
    "DANISH_LOCALE",
    "DASH",
    "MONTHS",
    "MONTHS_FULL",
    "danish",
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
]


def md_escape(text: str) -> str:
    """Text from data or from the identity provider, shown literally inside Markdown."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$:])", r"\\\1", text)
