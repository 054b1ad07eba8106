"""ui/charts.py and the pages' charts: Økonomi's two charts as built for the page, the tile's sparkline, and every
chart of every page valid Vega-Lite."""

from __future__ import annotations

from datetime import date
from pathlib import Path

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


def _monthly() -> pl.DataFrame:
    """A year's path: 100 kr. a month spent, a budget of 110 a month, actual up to November."""
    months = [date(2026, m, 1) for m in range(1, 13)]
    return pl.DataFrame(
        {
            "month": months,
            "actual_cum": [100.0 * m for m in range(1, 13)],
            "committed_cum": [0.0] * 12,
            "expected_cum": [100.0 * m for m in range(1, 13)],
            "budget_path": [110.0 * m for m in range(1, 13)],
            "is_actual": [m <= 11 for m in range(1, 13)],
        }
    )


def test_path_draws_the_months_and_stacks_its_legend() -> None:
    monthly = _monthly()
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
    result = capability(
        ex, "vurdering_timer", Scope.unit(org_tree(ex).root), ex.as_of, default_start(ex.as_of)
    )
    n = result.figures.n
    assert n > 2

    def marks() -> list[str]:
        layers = charts.capability_chart(result).to_dict()["layer"]
        return [m["type"] if isinstance(m, dict) else m for m in (layer["mark"] for layer in layers)]

    monkeypatch.setattr(charts, "DOTS_UP_TO", n)  # n items, n allowed: a dot per item and the signals'
    assert marks().count("circle") == 2 and "line" in marks()
    monkeypatch.setattr(charts, "DOTS_UP_TO", n - 1)  # one item too many: the line and the signals' dots
    assert marks().count("circle") == 1 and "line" in marks()


def test_sparkline_spec_is_the_altair_chart_it_replaces() -> None:
    """ui.sparkline writes the tile's sparkline out by hand (no Altair on the first page): the
    same chart built with Altair, validated against Vega-Lite's schema, gives the same spec."""
    import altair as alt

    from metrics.charts import danish
    from ui.sparkline import sparkline_spec

    colour = "#c92a2a"
    trend = [
        (date(2026, 1, 1), 12.5, "12,5 %"),
        (date(2026, 2, 1), None, "–"),
        (date(2026, 3, 1), 9.0, "9,0 %"),
    ]
    rows = [{"maaned": m.isoformat(), "vaerdi": v, "tekst": t} for m, v, t in trend]
    line = (
        alt.Chart(alt.Data(values=rows))
        .mark_line(point=alt.OverlayMarkDef(size=18, color=colour), color=colour, strokeWidth=2)
        .encode(
            x=alt.X("maaned:T", axis=None),
            y=alt.Y("vaerdi:Q", axis=None, scale=alt.Scale(zero=False)),
            tooltip=[
                alt.Tooltip("maaned:T", title="Måned", format="%b %Y"),
                alt.Tooltip("tekst:N", title="Værdi"),
            ],
        )
    )
    target = (
        alt.Chart(alt.Data(values=[{"maal": 10.0}]))
        .mark_rule(strokeDash=[3, 3], color="#868e96", strokeWidth=1)
        .encode(y="maal:Q")
    )
    chart = danish((line + target).properties(height=48)).configure_view(strokeWidth=0)
    expected = chart.to_dict(validate=True)
    expected.pop("$schema")
    assert sparkline_spec(colour, trend, 10.0) == expected


def _vega_specs(at: object) -> list[dict]:
    import json

    return [json.loads(el.proto.spec) for el in at.get("vega_lite_chart") + at.get("arrow_vega_lite_chart")]  # type: ignore[attr-defined]


def test_every_chart_of_every_page_is_valid_vega_lite(
    app_env: Path, small_extract: Extract, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pages hand their charts to Streamlit without its schema validation (ui.charts.show_chart),
    and the tiles' sparklines and Sag's charts are written as plain specs: every chart the pages
    draw, on every page, is validated here against Vega-Lite's JSON schema."""
    from altair.utils.schemapi import validate_jsonschema
    from altair.vegalite.v6.schema.core import load_schema
    from streamlit.testing.v1 import AppTest

    from tests.test_pages_cases import active_caseworker, open_ended_case

    monkeypatch.setenv("STYRING_DB_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    schema = load_schema()
    app = str(Path(__file__).resolve().parent.parent / "app.py")
    case_id = open_ended_case(small_extract, active_caseworker(small_extract))
    pages = [(p.name, {}) for p in sorted((Path(app).parent / "views").glob("*.py"))]
    pages.append(("sag.py", {"sag": case_id}))
    drawn: dict[str, int] = {}
    for name, params in pages:
        at = AppTest.from_file(app, default_timeout=120)
        at.switch_page(f"views/{name}")
        for k, v in params.items():
            at.query_params[k] = v
        at.run()
        assert not at.exception, (name, [e.value for e in at.exception])
        for spec in _vega_specs(at):
            assert validate_jsonschema(spec, schema, raise_error=False) is None, (name, spec)
            drawn[name] = drawn.get(name, 0) + 1
    # the pages with charts drew them (so the check above checked something)
    assert {
        "scorecard.py",
        "oekonomi.py",
        "kapabilitet.py",
        "sygefravaer.py",
        "underretninger.py",
        "sag.py",
    } <= set(drawn)
    assert drawn["kapabilitet.py"] >= 4


def test_show_chart_hands_streamlit_the_same_spec(small_extract: Extract) -> None:
    """Only the validation is skipped: the spec is the one Altair validates."""
    from ui.charts import _Validated

    monthly = _monthly()
    chart = expected_path(monthly, date(2026, 11, 27))
    assert _Validated(chart).to_dict() == chart.to_dict(validate=True)


def test_show_chart_skips_the_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole spec is validated by `to_dict()`, not by the chart as shown (Altair still checks
    the small objects it makes while converting, such as a dataset's name)."""
    import altair.utils.schemapi as schemapi

    from ui.charts import _Validated

    chart = expected_path(_monthly(), date(2026, 11, 27))
    whole: list[int] = []
    real = schemapi.validate_jsonschema

    def record(spec: object, *args: object, **kwargs: object) -> object:
        if isinstance(spec, dict) and "layer" in spec:
            whole.append(len(spec["layer"]))
        return real(spec, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(schemapi, "validate_jsonschema", record)
    chart.to_dict()
    assert whole == [3]  # Altair's own conversion validates the whole spec once
    whole.clear()
    assert _Validated(chart).to_dict()["layer"][0]["title"] == "Akkumuleret mod budget, 2026"
    assert whole == []
