"""The scorecard page (AppTest, the default page) on the small generated extract: every value,
status, change, trend and cascade cell shown equals what metrics returns for the same extract."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from metrics.extract import Extract
from metrics.org import org_tree
from metrics.scorecard import (
    DEFAULT_SCORECARD,
    SCORECARD_ENV,
    KpiDetail,
    cascade,
    for_extract,
    load_scorecard,
    scorecard_details,
)
from tests.conftest import FIXTURE_END
from ui.fmt import fmt_delta, fmt_num, fmt_value

APP = str(Path(__file__).resolve().parent.parent / "app.py")
DEFINITION_OPEN = "definition_aaben_"  # views/scorecard.py's expander keys
ICON = {"green": "🟢", "yellow": "🟡", "red": "🔴", "none": "⚪"}
WORD = {
    "green": "Grøn – på mål",
    "yellow": "Gul – tæt på målet",
    "red": "Rød – ikke på mål",
    "none": "Ingen data",
}
BADGE = {"green": "green", "yellow": "yellow", "red": "red", "none": "gray"}


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=120)


def _details(ex: Extract, unit: str) -> list[KpiDetail]:
    return scorecard_details(ex, load_scorecard(DEFAULT_SCORECARD), unit, FIXTURE_END)


def _elements(at: AppTest, kind: str) -> list[Any]:
    out: list[Any] = []

    def walk(node: Any) -> None:
        for child in getattr(node, "children", {}).values():
            if getattr(child, "type", None) == kind:
                out.append(child)
            walk(child)

    walk(at._tree)
    return out


def badges_of(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if "-badge[" in m.value and "Mål" in m.value]


def assert_tiles(at: AppTest, details: list[KpiDetail]) -> None:
    """Value, status icon, change per tile; status badge with colour, icon and word; trend data."""
    assert at.date_input(key="dato").value == FIXTURE_END
    shown = [(m.label, m.value, m.proto.icon, m.proto.delta) for m in at.metric]
    assert shown == [
        (
            d.spec.name,
            fmt_value(d.row.value, d.format),
            ICON[d.row.status],
            "" if d.change is None else fmt_delta(d.change, d.format),
        )
        for d in details
    ]
    badges = [m.value for m in at.markdown if "-badge[" in m.value and "Mål" in m.value]
    assert [b.split("]")[0] for b in badges] == [
        f":{BADGE[d.row.status]}-badge[{ICON[d.row.status]} {WORD[d.row.status]}" for d in details
    ]
    assert ["⚡ Signal" in b for b in badges] == [d.signal is not None and d.signal.shown for d in details]
    charts = _elements(at, "vega_lite_chart")
    assert len(charts) == len(details)
    for chart, d in zip(charts, details, strict=True):
        spec = json.loads(chart.proto.spec)
        trend, target = (layer["data"]["values"] for layer in spec["layer"])
        # up to the last bits: polars' parallel float sums may add in another order
        assert [r["vaerdi"] for r in trend] == [
            None if p.value is None else pytest.approx(p.value, rel=1e-12) for p in d.trend
        ]
        assert [r["maaned"] for r in trend] == [p.month.isoformat() for p in d.trend]
        assert [r["tekst"] for r in trend] == [fmt_value(p.value, d.format) for p in d.trend]
        assert target == [{"maal": d.spec.target}]
        assert spec["config"]["locale"]["number"]["decimal"] == ","


def test_root_for_administration(app_env: Path, small_extract: Extract) -> None:
    tree = org_tree(small_extract)
    admin = (
        small_extract["employees"]
        .filter((pl.col("role") == "administration") & pl.col("employed_to").is_null())["employee_id"]
        .sort()[0]
    )
    at = _run(_app())
    at.selectbox(key="vis_som").set_value(admin)
    _run(at)  # the unit stays where it was (the leader's unit, visible to both)
    at.selectbox(key="enhed").set_value(tree.root)
    _run(at)
    assert at.selectbox(key="enhed").value == tree.root
    details = _details(small_extract, tree.root)
    assert_tiles(at, details)
    assert not at.error

    # summary: counts per status, e.g. "🔴 5 ikke på mål"
    counts = {s: sum(d.row.status == s for d in details) for s in ICON}
    summary = next(m.value for m in at.markdown if "-badge[" in m.value and "Mål" not in m.value)
    for s, n in counts.items():
        assert (f"{ICON[s]} {n} " in summary) == (n > 0), summary

    # definition card: basis rows and rows set aside; drawn once its expander is opened (lazy)
    assert not [m for m in at.markdown if m.value.startswith("**Kritisk succesfaktor:**")]
    for d in details:
        at.session_state[f"{DEFINITION_OPEN}{d.spec.id}"] = True
    _run(at)
    cards = [m.value for m in at.markdown if m.value.startswith("**Kritisk succesfaktor:**")]
    assert len(cards) == len(details)
    for text, d in zip(cards, details, strict=True):
        assert f"**Datagrundlag:** {fmt_num(d.basis)} rækker" in text
        assert d.spec.method in text and d.description in text
        if d.set_aside_total:
            assert f"sat {fmt_num(d.set_aside_total)} rækker til side" in text
        # the signal mark: one line in every card; the badge and the sentence only when shown
        assert d.signal is not None
        assert "**Signal eller støj:**" in text
        assert ("**Denne måned er et signal.**" in text) == d.signal.shown
    assert [("⚡ Signal" in b) for b in badges_of(at)] == [
        d.signal is not None and d.signal.shown for d in details
    ]
    # the demo world's contacts give the fejlefterspørgsel tile
    assert "fejlefterspoergsel_pct" in [d.spec.id for d in details]

    # the cascade: children of the root × KPIs, then the root itself
    rows = cascade(small_extract, load_scorecard(DEFAULT_SCORECARD), tree.root, FIXTURE_END)
    table = at.dataframe[0].value
    empty = {r.name for r in rows if all(c.status == "none" for c in r.cells)}
    assert list(table.index) == [
        ("I alt: " if r.is_total else "") + r.name + (" – ingen data" if r.name in empty else "") for r in rows
    ]
    # every "⚪ –" is explained in words under the table, naming the units it occurs in
    gaps = [r.name for r in rows if any(c.status == "none" for c in r.cells)]
    notes = [c.value for c in at.caption if c.value.startswith("⚪ – betyder ingen data")]
    assert len(notes) == (1 if gaps else 0)
    assert all(name in notes[0] for name in gaps)
    # all KPI columns fit at 1440 px: 11 × 74 px + the unit column fit in the ~1,000 px main area
    kpis = for_extract(small_extract, load_scorecard(DEFAULT_SCORECARD)).kpis
    config = json.loads(at.dataframe[0].proto.columns)
    assert {config[k.short_name]["width"] for k in kpis} == {74}
    assert list(table.columns) == [k.short_name for k in kpis]
    formats = [d.format for d in details]
    assert table.values.tolist() == [
        [f"{ICON[c.status]} {fmt_value(c.value, f)}" for c, f in zip(r.cells, formats, strict=True)]
        for r in rows
    ]
    assert [c.value for c in rows[-1].cells] == [pytest.approx(d.row.value, rel=1e-12) for d in details]


def test_team_from_the_link(app_env: Path, small_extract: Extract) -> None:
    tree = org_tree(small_extract)
    team = next(u for u in sorted(tree.parent) if tree.level[u] == "team")
    at = _app()
    at.query_params["enhed"] = team
    _run(at)
    assert at.selectbox(key="enhed").value == team
    assert not at.error
    assert_tiles(at, _details(small_extract, team))
    assert not at.dataframe  # a team has no children
    assert any(c.value == f"{tree.label(team)} har ingen underenheder." for c in at.caption)


def test_drill_down_and_back_up(app_env: Path, small_extract: Extract) -> None:
    tree = org_tree(small_extract)
    at = _run(_app())
    start = at.selectbox(key="enhed").value
    kids = sorted(tree.children[start], key=tree.label)
    assert at.pills[0].options == [tree.label(k) for k in kids]
    at.pills[0].set_value(kids[-1])
    _run(at)
    assert at.selectbox(key="enhed").value == kids[-1]
    assert_tiles(at, _details(small_extract, kids[-1]))
    # a second rerun keeps the unit (the URL now holds its indented label)
    _run(at)
    assert not at.error and at.selectbox(key="enhed").value == kids[-1]
    (up,) = [b for b in at.button if b.label.startswith("↑")]
    assert up.label == f"↑ {tree.label(start)}"
    up.click()
    _run(at)
    assert at.selectbox(key="enhed").value == start
    assert_tiles(at, _details(small_extract, start))


def test_earlier_as_of(app_env: Path, small_extract: Extract) -> None:
    at = _app()
    at.query_params["dato"] = "2026-03-31"
    _run(at)
    unit = at.selectbox(key="enhed").value
    details = scorecard_details(small_extract, load_scorecard(DEFAULT_SCORECARD), unit, date(2026, 3, 31))
    assert [m.value for m in at.metric] == [fmt_value(d.row.value, d.format) for d in details]
    trends = [json.loads(c.proto.spec)["layer"][0]["data"]["values"] for c in _elements(at, "vega_lite_chart")]
    assert [[r["maaned"] for r in t] for t in trends] == [[p.month.isoformat() for p in d.trend] for d in details]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('[[perspectives]]\nid = "p"\nname = "P"\n[[perspectives.kpis]]\nid = "aktive_sager"\n', ".target"),
        (
            '[[perspectives]]\nid = "p"\nname = "P"\n[[perspectives.kpis]]\nid = "x"\n'
            'metric = "trivsel_xyz"\ntarget = 1\ndirection = "higher"\n',
            '.kpis["x"].metric',
        ),
    ],
)
def test_broken_scorecard_shows_the_message(
    app_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, needle: str
) -> None:
    path = tmp_path / "scorecard.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv(SCORECARD_ENV, str(path))
    at = _run(_app())
    (err,) = at.error
    assert "scorecard-filen har en fejl" in err.value
    assert str(path) in err.value and needle in err.value
    assert not at.metric and not at.dataframe
