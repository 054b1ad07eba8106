"""Chart builders shared by pages: one function per chart kind, taking what `metrics`
returns and giving an Altair chart with Danish formats. Pages say *what*; these say *how*.
The economy charts live in metrics.charts (Altair specs, no Streamlit) so the meeting pack's
PDF draws the same charts; they are re-exported here.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import altair as alt
import polars as pl
import streamlit as st

from metrics.capability import CapabilityResult
from metrics.charts import cumulative_path, danish, deviation_bars
from metrics.demand import CHANNEL_LABELS, DEMAND_TYPE_LABELS, FAILURE, VALUE


class _Validated:
    """An Altair chart whose spec is handed to Streamlit without validating it again
    (`show_chart`): Streamlit only calls `to_dict()` on it, with its own data transformer."""

    def __init__(self, chart: alt.TopLevelMixin) -> None:
        self.chart = chart

    def to_dict(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        kwargs["validate"] = False
        return self.chart.to_dict(*args, **kwargs)


def show_chart(chart: alt.TopLevelMixin, where: Any = None) -> None:
    """Draw an Altair chart at the width of its container (`where`: a column; the page if None).

    Streamlit turns the chart into a spec with `chart.to_dict()`, which validates the whole
    spec against Vega-Lite's JSON schema on every rerun: 20–35 ms a layered chart, a fifth of
    Kapabilitet's rerun. The charts drawn here come from builders the tests validate
    (tests/test_ui_charts.py validates every chart of every page), so the page skips it; the
    data still goes Streamlit's way (Arrow)."""
    (where or st).altair_chart(_Validated(chart), width="stretch")


BUDGET_COLOUR, EXPECTED_COLOUR = "#adb5bd", "#1c7ed6"

ITEM, MEAN, LIMIT, BAND, SIGNAL = "#1c7ed6", "#343a40", "#c92a2a", "#a5d8ff", "#e8590c"
DEMAND_COLOURS = {DEMAND_TYPE_LABELS[VALUE]: "#1c7ed6", DEMAND_TYPE_LABELS[FAILURE]: "#e8590c"}
OUTSIDE, RUN = "uden for grænserne", "8 eller flere i træk på samme side af gennemsnittet"


def _demand_colour() -> alt.Color:
    """Value vs failure demand (field `kind`), the same two colours in every demand chart."""
    return alt.Color(
        "kind:N",
        title=None,
        scale=alt.Scale(domain=list(DEMAND_COLOURS), range=list(DEMAND_COLOURS.values())),
        legend=alt.Legend(orient="bottom"),
    )


# Up to this many items each is a dot on the line (with its tooltip). Beyond it the dots merge
# into a smear at any screen width, and drawing them was a third of the page's time in the browser
# (1,963 items of a department: Kapabilitet's switch 1.77 → 1.40 s with two servers side by side):
# the line alone shows every item, and the signals keep their dots.
DOTS_UP_TO = 500


def capability_chart(result: CapabilityResult, height: int = 300) -> alt.TopLevelMixin:
    """Every item in time order; mean and natural process limits as lines, p05–p95 as a band,
    signals as orange dots. Fewer than 2 items: the items alone."""
    f, unit = result.figures, result.measure.unit
    items = result.items.with_columns(
        pl.when(pl.col("rule_1") & pl.col("rule_2"))
        .then(pl.lit(f"{OUTSIDE} og {RUN}"))
        .when(pl.col("rule_1"))
        .then(pl.lit(OUTSIDE))
        .when(pl.col("rule_2"))
        .then(pl.lit(RUN))
        .otherwise(pl.lit("–"))
        .alias("signal"),
        (pl.col("rule_1") | pl.col("rule_2")).alias("is_signal"),
    ).select("position", "at", "value", "signal", "is_signal")
    x = alt.X("at:T", title=None, axis=alt.Axis(format="%b %Y"))
    y = alt.Y("value:Q", title=unit.capitalize())
    tooltip = [
        alt.Tooltip("position:Q", title="Nr."),
        alt.Tooltip("at:T", title="Dato", format="%d. %b %Y"),
        alt.Tooltip("value:Q", title=unit.capitalize(), format=",.1f"),
        alt.Tooltip("signal:N", title="Signal"),
    ]
    base = alt.Chart(items)
    layers: list[alt.Chart] = []
    if f.p05 is not None and f.p95 is not None:
        layers.append(
            alt.Chart(pl.DataFrame({"p05": [f.p05], "p95": [f.p95]}))
            .mark_rect(color=BAND, opacity=0.35)
            .encode(
                y=alt.Y("p05:Q"),
                y2="p95:Q",
                tooltip=[alt.Tooltip("p05:Q", format=",.1f"), alt.Tooltip("p95:Q", format=",.1f")],
            )
        )
    layers.append(base.mark_line(color=ITEM, strokeWidth=1, opacity=0.6).encode(x=x, y=y))
    if f.n <= DOTS_UP_TO:
        layers.append(base.mark_circle(color=ITEM, size=18).encode(x=x, y=y, tooltip=tooltip))
    layers.append(
        base.transform_filter("datum.is_signal")
        .mark_circle(color=SIGNAL, size=70)
        .encode(x=x, y=y, tooltip=tooltip)
    )
    lines = [
        (name, v)
        for name, v in (("Gennemsnit", f.mean), ("Nedre grænse", f.lower), ("Øvre grænse", f.upper))
        if v is not None
    ]
    if lines:
        ref = pl.DataFrame({"line": [n for n, _ in lines], "value": [v for _, v in lines]})
        layers.append(
            alt.Chart(ref)
            .mark_rule(strokeDash=[6, 4])
            .encode(
                y="value:Q",
                color=alt.Color(
                    "line:N",
                    title=None,
                    scale=alt.Scale(
                        domain=["Gennemsnit", "Nedre grænse", "Øvre grænse"], range=[MEAN, LIMIT, LIMIT]
                    ),
                    legend=alt.Legend(orient="bottom"),
                ),
                tooltip=[
                    alt.Tooltip("line:N", title="Linje"),
                    alt.Tooltip("value:Q", title="Værdi", format=",.1f"),
                ],
            )
        )
    return danish(alt.layer(*layers).properties(height=height))


def demand_month_chart(monthly: pl.DataFrame, height: int = 260) -> alt.TopLevelMixin:
    """Value and failure demand per month as stacked bars (counts); the share in the tooltip."""
    folded = (
        alt.Chart(monthly)
        .transform_fold([VALUE, FAILURE], as_=["type", "count"])
        .transform_calculate(
            kind=f"datum.type == '{FAILURE}' ? '{DEMAND_TYPE_LABELS[FAILURE]}' : '{DEMAND_TYPE_LABELS[VALUE]}'"
        )
        .mark_bar()
        .encode(
            x=alt.X("month:T", title=None, axis=alt.Axis(format="%b %y", tickCount="month")),
            y=alt.Y("count:Q", title="Henvendelser", stack=True),
            color=_demand_colour(),
            tooltip=[
                alt.Tooltip("month:T", title="Måned", format="%B %Y"),
                alt.Tooltip("kind:N", title="Type"),
                alt.Tooltip("count:Q", title="Antal", format=",.0f"),
                alt.Tooltip("fejl_pct:Q", title="Fejlefterspørgsel i måneden, %", format=",.1f"),
            ],
        )
    )
    return danish(folded.properties(height=height))


def pareto_chart(pareto: pl.DataFrame, height: int = 320) -> alt.TopLevelMixin:
    """Reasons as bars, most frequent first, coloured by demand type; the cumulative share as a line."""
    data = pareto.with_row_index("rank").with_columns(
        pl.col("demand_type").replace_strict(DEMAND_TYPE_LABELS, default=pl.col("demand_type")).alias("kind"),
        (pl.col("reason") + " (" + pl.col("demand_type") + ")").alias("label"),
    )
    x = alt.X(
        "label:N",
        title=None,
        sort=alt.EncodingSortField("rank", order="ascending"),
        axis=alt.Axis(labelAngle=-30, labelLimit=220),
    )
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=x,
            y=alt.Y("count:Q", title="Henvendelser"),
            color=_demand_colour(),
            tooltip=[
                alt.Tooltip("reason:N", title="Årsag"),
                alt.Tooltip("kind:N", title="Type"),
                alt.Tooltip("count:Q", title="Antal", format=",.0f"),
                alt.Tooltip("share_pct:Q", title="Andel, %", format=",.1f"),
                alt.Tooltip("cumulative_pct:Q", title="Akkumuleret, %", format=",.1f"),
            ],
        )
    )
    line = (
        alt.Chart(data)
        .mark_line(point=True, color="#343a40")
        .encode(
            x=x, y=alt.Y("cumulative_pct:Q", title="Akkumuleret andel, %", scale=alt.Scale(domain=[0, 100]))
        )
    )
    return danish(alt.layer(bars, line).resolve_scale(y="independent").properties(height=height))


def channel_chart(channels: pl.DataFrame, height: int = 200) -> alt.TopLevelMixin:
    """Value and failure demand per channel as stacked horizontal bars."""
    data = channels.with_columns(
        pl.col("channel").replace_strict(CHANNEL_LABELS, default=pl.col("channel")).alias("label")
    )
    chart = (
        alt.Chart(data)
        .transform_fold([VALUE, FAILURE], as_=["type", "count"])
        .transform_calculate(
            kind=f"datum.type == '{FAILURE}' ? '{DEMAND_TYPE_LABELS[FAILURE]}' : '{DEMAND_TYPE_LABELS[VALUE]}'"
        )
        .mark_bar()
        .encode(
            y=alt.Y("label:N", title=None, sort=None),
            x=alt.X("count:Q", title="Henvendelser", stack=True),
            color=_demand_colour(),
            tooltip=[
                alt.Tooltip("label:N", title="Kanal"),
                alt.Tooltip("kind:N", title="Type"),
                alt.Tooltip("count:Q", title="Antal", format=",.0f"),
                alt.Tooltip("fejl_pct:Q", title="Fejlefterspørgsel, %", format=",.1f"),
            ],
        )
    )
    return danish(chart.properties(height=height))


__all__ = [
    "capability_chart",
    "channel_chart",
    "cumulative_path",
    "demand_month_chart",
    "deviation_bars",
    "pareto_chart",
]


def _series_legend() -> alt.Legend:
    """Under the chart, one entry per line: two long series names side by side ran off a phone."""
    return alt.Legend(orient="bottom", title=None, labelLimit=0, columns=1)


def budget_expected_bars(table: pl.DataFrame, group_name: str) -> alt.TopLevelMixin:
    """Budget and expected year-end side by side per row of an economy table (its "I alt" row
    left out; metrics.reports.economy_table)."""
    bars = (
        alt.Chart(
            table.filter(~pl.col("is_total")).select("label", "budget", "expected"),
            title=f"Budget og forventet pr. {group_name.lower()}",
        )
        .transform_fold(["budget", "expected"], as_=["serie", "kr"])
        .transform_calculate(Serie="datum.serie == 'budget' ? 'Budget' : 'Forventet'")
        .mark_bar()
        .encode(
            y=alt.Y("label:N", title=None, sort=None, axis=alt.Axis(labelLimit=420)),
            x=alt.X("kr:Q", title="kr.", axis=alt.Axis(format=",.0f")),
            yOffset=alt.YOffset("Serie:N", sort=["Budget", "Forventet"]),
            color=alt.Color(
                "Serie:N",
                scale=alt.Scale(domain=["Budget", "Forventet"], range=[BUDGET_COLOUR, EXPECTED_COLOUR]),
                legend=_series_legend(),
            ),
            tooltip=[
                alt.Tooltip("label:N", title=group_name),
                alt.Tooltip("Serie:N", title="Serie"),
                alt.Tooltip("kr:Q", title="kr.", format=",.0f"),
            ],
        )
    )
    return danish(bars)


def expected_path(monthly: pl.DataFrame, as_of: date, height: int = 300) -> alt.TopLevelMixin:
    """The year's path, month by month (metrics.reports.economy_monthly): actual plus committed
    accumulated against the budget spread evenly; filled points are booked months, hollow ones
    months ahead; a dotted rule marks as_of's month."""
    base = alt.Chart(monthly, title=f"Akkumuleret mod budget, {as_of.year}")
    x = alt.X("month:T", title=None, axis=alt.Axis(format="%b", tickCount="month"))
    tooltip = [
        alt.Tooltip("month:T", title="Måned", format="%B %Y"),
        alt.Tooltip("actual_cum:Q", title="Forbrug akkumuleret", format=",.0f"),
        alt.Tooltip("committed_cum:Q", title="Disponeret akkumuleret", format=",.0f"),
        alt.Tooltip("expected_cum:Q", title="Forbrug + disponeret", format=",.0f"),
        alt.Tooltip("budget_path:Q", title="Budget, lige fordelt", format=",.0f"),
    ]
    lines = base.transform_fold(["expected_cum", "budget_path"], as_=["serie", "kr"]).transform_calculate(
        Serie="datum.serie == 'budget_path' ? 'Budget, lige fordelt over året' : 'Forbrug + disponeret'"
    )
    path = lines.mark_line().encode(
        x=x,
        y=alt.Y("kr:Q", title="kr.", axis=alt.Axis(format=",.0f")),
        color=alt.Color(
            "Serie:N",
            scale=alt.Scale(
                domain=["Forbrug + disponeret", "Budget, lige fordelt over året"],
                range=[EXPECTED_COLOUR, BUDGET_COLOUR],
            ),
            legend=_series_legend(),
        ),
        strokeDash=alt.condition("datum.serie == 'budget_path'", alt.value([5, 4]), alt.value([1, 0])),
    )
    points = base.mark_point(size=60, color=EXPECTED_COLOUR).encode(
        x=x,
        y="expected_cum:Q",
        fill=alt.condition("datum.is_actual", alt.value(EXPECTED_COLOUR), alt.value("white")),
        tooltip=tooltip,
    )
    now_rule = (
        alt.Chart({"values": [{"d": date(as_of.year, as_of.month, 1).isoformat()}]})
        .mark_rule(color="#868e96", strokeDash=[2, 2])
        .encode(x="d:T")
    )
    return danish(alt.layer(path, points, now_rule).properties(height=height))
