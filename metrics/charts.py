"""Chart builders (Altair, Danish locale): one function per chart kind, from metrics
frames. On the ground floor so the pages (through ui.charts) and the meeting pack's PDF
(metrics.pack, rendered to SVG with vl-convert) draw the same charts.
"""

from __future__ import annotations

import altair as alt
import polars as pl

from metrics.fmt import VEGA_LOCALE

DANISH_LOCALE = alt.Locale.from_dict(VEGA_LOCALE)


def danish(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """Apply Danish number and month formats to a top-level Altair chart."""
    return chart.configure(locale=DANISH_LOCALE)


OVER_COLOUR, UNDER_COLOUR = "#c92a2a", "#2b8a3e"
EXPECTED_COLOUR, BUDGET_COLOUR = "#1c7ed6", "#868e96"


def deviation_bars(accounts: pl.DataFrame, width: int = 460) -> alt.TopLevelMixin:
    """Deviation (budget − expected) per account from metrics.meeting's accounts frame (the
    "I alt" row left out): a bar per account, over budget in red and named in the legend
    and the label, so the word carries it, not the colour or the sign."""
    data = accounts.filter(~pl.col("is_total")).select(
        pl.col("label").alias("Konto"),
        pl.col("deviation").alias("Afvigelse"),
        pl.when(pl.col("over_budget"))
        .then(pl.lit("Over budget"))
        .otherwise(pl.lit("Inden for budget"))
        .alias("Status"),
    )
    base = alt.Chart(data.to_pandas()).encode(
        y=alt.Y("Konto:N", sort=None, title=None, axis=alt.Axis(labelLimit=260)),
        x=alt.X("Afvigelse:Q", title="Afvigelse (budget − forventet), kr.", axis=alt.Axis(format=",.0f")),
    )
    bars = base.mark_bar().encode(
        color=alt.Color(
            "Status:N",
            scale=alt.Scale(domain=["Over budget", "Inden for budget"], range=[OVER_COLOUR, UNDER_COLOUR]),
            legend=alt.Legend(title=None, orient="bottom"),
        )
    )
    return danish((bars).properties(width=width, height=max(60, 28 * data.height)))


def cumulative_path(monthly: pl.DataFrame, width: int = 460) -> alt.TopLevelMixin:
    """The year's expected spending path against the budget line (metrics.reports.economy_monthly)."""
    long = pl.concat(
        [
            monthly.select(
                "month", pl.col("expected_cum").alias("kr"), pl.lit("Forventet regnskab").alias("Serie")
            ),
            monthly.filter(pl.col("budget_path").is_not_null()).select(
                "month", pl.col("budget_path").alias("kr"), pl.lit("Budget, lige fordelt").alias("Serie")
            ),
        ]
    )
    chart = (
        alt.Chart(long.to_pandas())
        .mark_line(point=True)
        .encode(
            x=alt.X("month:T", title=None, axis=alt.Axis(format="%b", tickCount=12)),
            y=alt.Y("kr:Q", title="kr. (akkumuleret)", axis=alt.Axis(format=",.0f")),
            color=alt.Color(
                "Serie:N",
                scale=alt.Scale(
                    domain=["Forventet regnskab", "Budget, lige fordelt"],
                    range=[EXPECTED_COLOUR, BUDGET_COLOUR],
                ),
                legend=alt.Legend(title=None, orient="bottom"),
            ),
            strokeDash=alt.StrokeDash(
                "Serie:N",
                scale=alt.Scale(
                    domain=["Forventet regnskab", "Budget, lige fordelt"], range=[[1, 0], [6, 4]]
                ),
                legend=None,
            ),
        )
        .properties(width=width, height=220)
    )
    return danish(chart)


def to_svg(chart: alt.TopLevelMixin) -> str:
    """The chart as SVG (vector graphics) without a browser."""
    import vl_convert as vlc

    return vlc.vegalite_to_svg(chart.to_dict())
