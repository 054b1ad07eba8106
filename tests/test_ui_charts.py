"""ui/charts.py: Økonomi's two charts, as built for the page."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from metrics.extract import Extract
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


def test_capability_chart_draws_each_item_as_a_dot_only_up_to_a_limit(
    small_extract: Extract, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ui.charts as charts
    from metrics.capability import capability, default_start
    from metrics.org import org_tree
    from metrics.scope import Scope

    ex = small_extract
    result = capability(ex, "vurdering_timer", Scope.unit(org_tree(ex).root), ex.as_of, default_start(ex.as_of))
    n = result.figures.n
    assert n > 2

    def marks() -> list[str]:
        layers = charts.capability_chart(result).to_dict()["layer"]
        return [m["type"] if isinstance(m, dict) else m for m in (layer["mark"] for layer in layers)]

    monkeypatch.setattr(charts, "DOTS_UP_TO", n)  # n items, n allowed: a dot per item and the signals'
    assert marks().count("circle") == 2 and "line" in marks()
    monkeypatch.setattr(charts, "DOTS_UP_TO", n - 1)  # one item too many: the line and the signals' dots
    assert marks().count("circle") == 1 and "line" in marks()
