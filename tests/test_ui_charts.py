"""ui/charts.py: Økonomi's two charts, as built for the page."""

from __future__ import annotations

from datetime import date

import polars as pl

from ui.charts import budget_expected_bars, expected_path


def _legends(spec: dict) -> list[dict]:
    found = []
    for layer in [spec, *spec.get("layer", [])]:
        colour = layer.get("encoding", {}).get("color", {})
        if isinstance(colour, dict) and "legend" in colour:
            found.append(colour["legend"])
    return found


def test_path_draws_the_months_and_stacks_its_legend() -> None:
    months = [date(2026, m, 1) for m in range(1, 13)]
    monthly = pl.DataFrame(
        {
            "month": months,
            "actual_cum": [100.0 * m for m in range(1, 13)],
            "committed_cum": [0.0] * 12,
            "expected_cum": [100.0 * m for m in range(1, 13)],
            "budget_path": [110.0 * m for m in range(1, 13)],
            "is_actual": [m <= 11 for m in range(1, 13)],
        }
    )
    spec = expected_path(monthly, date(2026, 11, 27)).to_dict()
    assert spec["layer"][0]["title"] == "Akkumuleret mod budget, 2026"
    # the dotted rule stands on as_of's month
    assert spec["datasets"][spec["layer"][2]["data"]["name"]] == [{"d": "2026-11-01"}]
    # on a 390 px phone the two series names side by side ran off the screen (issue 12): one per line
    (legend,) = _legends(spec)
    assert legend["orient"] == "bottom" and legend["columns"] == 1


def test_bars_leave_out_the_total_row() -> None:
    table = pl.DataFrame(
        {
            "label": ["5.28.20 Opholdssteder", "I alt"],
            "budget": [10.0, 10.0],
            "expected": [12.0, 12.0],
            "is_total": [False, True],
        }
    )
    chart = budget_expected_bars(table, "Konto")
    spec = chart.to_dict()
    assert spec["title"] == "Budget og forventet pr. konto"
    values = next(iter(spec["datasets"].values()))
    assert [v["label"] for v in values] == ["5.28.20 Opholdssteder"]  # "I alt" is no bar of its own
    (legend,) = _legends(spec)
    assert legend["columns"] == 1
