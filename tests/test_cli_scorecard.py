"""`python -m metrics scorecard` as a subprocess on the small generated extract.

kpis.md, Command line: a JSON list, one object per scorecard KPI with exactly
kpi, perspective, unit, as_of, value, target, status; exit 1 with one line for a bad
scorecard file or an unknown unit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from metrics.extract import Extract
from metrics.org import org_tree
from metrics.scorecard import SCORECARD_ENV, evaluate_scorecard, for_extract, load_scorecard, status
from tests.conftest import FIXTURE_END

MAIN = Path(__file__).resolve().parent.parent
KEYS = {"kpi", "perspective", "unit", "as_of", "value", "target", "status"}


def run(*args: object, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != SCORECARD_ENV} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "metrics", "scorecard", *map(str, args)],
        cwd=MAIN,
        capture_output=True,
        text=True,
        timeout=300,
        env=full_env,
    )


def ok_json(*args: object, env: dict[str, str] | None = None) -> list[dict[str, Any]]:
    p = run(*args, env=env)
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    return json.loads(p.stdout)


def assert_same_rows(got: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    """Equal, values up to the last bits: polars sums floats in parallel, and the order of
    the partial sums (hence the last bit of sygefravaer_pct) can differ between runs."""
    assert [{**r, "value": None} for r in got] == [{**r, "value": None} for r in expected]
    for g, e in zip(got, expected, strict=True):
        assert g["value"] == (None if e["value"] is None else pytest.approx(e["value"], rel=1e-12)), g["kpi"]


def assert_one_line_failure(p: subprocess.CompletedProcess[str]) -> str:
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert p.stdout == ""
    assert "Traceback" not in p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    return lines[0]


@pytest.fixture(scope="module")
def folder(small_root: Path) -> Path:
    return small_root / FIXTURE_END.isoformat()


def test_default_output_matches_evaluate_scorecard(folder: Path, small_extract: Extract) -> None:
    out = ok_json("--extract", folder, "--format", "json")
    card = for_extract(small_extract, load_scorecard(None))
    root = org_tree(small_extract).root
    assert all(set(r) == KEYS for r in out)
    assert [r["kpi"] for r in out] == [k.id for k in card.kpis]
    assert [r["perspective"] for r in out] == [k.perspective for k in card.kpis]
    assert {r["unit"] for r in out} == {root}
    assert {r["as_of"] for r in out} == {FIXTURE_END.isoformat()}
    expected = [row.as_json() for row in evaluate_scorecard(small_extract, card, root, FIXTURE_END)]
    assert_same_rows(out, expected)
    for r, k in zip(out, card.kpis, strict=True):
        assert r["target"] == k.target
        assert r["status"] == status(r["value"], k.target, k.direction, k.tolerance)
    # the demo data gives figures for every KPI at the root
    assert all(r["value"] is not None for r in out)


def test_unit_and_as_of(folder: Path, small_extract: Extract) -> None:
    tree = org_tree(small_extract)
    team = next(u for u in sorted(tree.parent) if tree.level[u] == "team")
    as_of = date(2026, 6, 30)
    out = ok_json("--extract", folder, "--unit", team, "--as-of", as_of.isoformat(), "--format", "json")
    card = load_scorecard(None)
    assert_same_rows(out, [r.as_json() for r in evaluate_scorecard(small_extract, card, team, as_of)])
    assert {r["unit"] for r in out} == {team} and {r["as_of"] for r in out} == {"2026-06-30"}


def _active_cases_by_hand(folder: Path, units: set[str], as_of: date) -> int:
    """kpis.md: active on d when opened_on ≤ d and (closed_on null or d < closed_on). Plain Python."""
    rows = pl.read_parquet(folder / "cases.parquet").to_dicts()
    return sum(
        1
        for r in rows
        if r["unit_id"] in units
        and r["opened_on"] <= as_of
        and (r["closed_on"] is None or as_of < r["closed_on"])
    )


def _met_by_hand(folder: Path, units: set[str], as_of: date) -> float:
    """frister_overholdt_pct: due in YTD; met = done_on ≤ min(due_on, as_of)."""
    case_unit = {r["case_id"]: r["unit_id"] for r in pl.read_parquet(folder / "cases.parquet").to_dicts()}
    eligible = met = 0
    for r in pl.read_parquet(folder / "deadlines.parquet").to_dicts():
        if case_unit.get(r["case_id"]) not in units or not date(as_of.year, 1, 1) <= r["due_on"] <= as_of:
            continue
        eligible += 1
        met += r["done_on"] is not None and r["done_on"] <= min(r["due_on"], as_of)
    return met / eligible * 100


def test_custom_scorecard_by_hand(folder: Path, small_extract: Extract, tmp_path: Path) -> None:
    tree = org_tree(small_extract)
    root = tree.root
    units = set(tree.subtree(root))
    cases = _active_cases_by_hand(folder, units, FIXTURE_END)
    met = _met_by_hand(folder, units, FIXTURE_END)
    assert small_extract.report["cases"].rejected == 0 and small_extract.report["deadlines"].rejected == 0
    # targets placed so the hand value falls in a known band:
    #   aktive_sager, lower, target = cases − 1, tolerance 1 → cases = target + tolerance → yellow
    #   frister, higher, target = met + 1, tolerance 0.5 → met < target − tolerance → red
    path = tmp_path / "mit.toml"
    path.write_text(
        f"""
[[perspectives]]
id = "drift"
name = "Drift"

[[perspectives.kpis]]
id = "sager"
metric = "aktive_sager"
target = {cases - 1}
direction = "lower"
tolerance = 1

[[perspectives.kpis]]
id = "frister"
metric = "frister_overholdt_pct"
target = {met + 1}
direction = "higher"
tolerance = 0.5
""",
        encoding="utf-8",
    )
    out = ok_json("--extract", folder, "--scorecard", path, "--format", "json")
    assert [(r["kpi"], r["perspective"], r["status"]) for r in out] == [
        ("sager", "drift", "yellow"),
        ("frister", "drift", "red"),
    ]
    assert out[0]["value"] == cases
    assert out[1]["value"] == pytest.approx(met)
    # the same file through STYRING_SCORECARD
    assert_same_rows(ok_json("--extract", folder, "--format", "json", env={SCORECARD_ENV: str(path)}), out)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('[[perspectives]]\nid = "p"\nname = "P"\n[[perspectives.kpis]]\nid = "aktive_sager"\n', ".target"),
        (
            '[[perspectives]]\nid = "p"\nname = "P"\n[[perspectives.kpis]]\nid = "aktive_sager"\n'
            'target = 1\ndirection = "opad"\n',
            ".direction",
        ),
        (
            '[[perspectives]]\nid = "p"\nname = "P"\n[[perspectives.kpis]]\nid = "aktive_sager"\n'
            'target = 1\ndirection = "lower"\ntolerance = -2\n',
            ".tolerance",
        ),
        # not in the registry and not a kpi_id of the extract's measurements
        (
            '[[perspectives]]\nid = "p"\nname = "P"\n[[perspectives.kpis]]\nid = "x"\nmetric = "trivsel_xyz"\n'
            'target = 1\ndirection = "higher"\n',
            '.kpis["x"].metric',
        ),
        ("[[perspectives]\n", "ugyldig TOML"),
    ],
)
def test_broken_scorecard_exits_1(folder: Path, tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(text, encoding="utf-8")
    line = assert_one_line_failure(run("--extract", folder, "--scorecard", path, "--format", "json"))
    assert str(path) in line and needle in line, line


def test_missing_scorecard_file(folder: Path, tmp_path: Path) -> None:
    line = assert_one_line_failure(
        run("--extract", folder, "--scorecard", tmp_path / "ingen.toml", "--format", "json")
    )
    assert "ingen.toml" in line and "findes ikke" in line


def test_unknown_unit(folder: Path) -> None:
    line = assert_one_line_failure(run("--extract", folder, "--unit", "ZZ9", "--format", "json"))
    assert "ZZ9" in line


def test_as_of_after_extract(folder: Path) -> None:
    later = (FIXTURE_END + timedelta(days=1)).isoformat()
    assert_one_line_failure(run("--extract", folder, "--as-of", later, "--format", "json"))
