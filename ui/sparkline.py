"""The scorecard tile's sparkline as a plain Vega-Lite spec, written out instead of built with
Altair: the scorecard is the first page, and building its eleven sparklines with Altair meant
importing Altair (0.25 s) and validating against its schema before the page could show.
tests/test_ui_charts.py builds the same chart with Altair, validates it and compares it with
this spec key by key, so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from metrics.fmt import VEGA_LOCALE

TARGET_COLOUR = "#868e96"
HEIGHT = 48


def sparkline_spec(
    colour: str, trend: Sequence[tuple[date, float | None, str]], target: float
) -> dict[str, Any]:
    """The KPI at each month's end as a line with points in `colour` (its status), the target as a
    dashed rule; no axes. `trend` holds (first day of the month, value, value as shown in Danish),
    the shown value is the tooltip's. Danish number and month formats."""
    return {
        "config": {
            "view": {"continuousWidth": 300, "continuousHeight": 300, "strokeWidth": 0},
            "locale": VEGA_LOCALE,
        },
        "layer": [
            {
                "data": {
                    "values": [
                        {"maaned": month.isoformat(), "vaerdi": value, "tekst": text}
                        for month, value, text in trend
                    ]
                },
                "mark": {
                    "type": "line",
                    "color": colour,
                    "point": {"color": colour, "size": 18},
                    "strokeWidth": 2,
                },
                "encoding": {
                    "tooltip": [
                        {"field": "maaned", "format": "%b %Y", "title": "Måned", "type": "temporal"},
                        {"field": "tekst", "title": "Værdi", "type": "nominal"},
                    ],
                    "x": {"axis": None, "field": "maaned", "type": "temporal"},
                    "y": {"axis": None, "field": "vaerdi", "scale": {"zero": False}, "type": "quantitative"},
                },
            },
            {
                "data": {"values": [{"maal": target}]},
                "mark": {"type": "rule", "color": TARGET_COLOUR, "strokeDash": [3, 3], "strokeWidth": 1},
                "encoding": {"y": {"field": "maal", "type": "quantitative"}},
            },
        ],
        "height": HEIGHT,
    }
