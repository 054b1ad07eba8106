"""`python -m metrics pack` as a subprocess on the tiny extracts of tests/test_meeting.py,
written as Parquet folders 2024-05-31 and 2024-06-14 under one extracts folder."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest

from metrics.contract import TABLE_NAMES, file_name, polars_schema
from tests.test_meeting import BEFORE, NOW, SCORECARD, before_rows, now_rows

MAIN = Path(__file__).resolve().parent.parent


def write(root: Path, as_of: date, rows: dict[str, list[dict[str, Any]]]) -> Path:
    folder = root / as_of.isoformat()
    folder.mkdir(parents=True)
    manifest = {
        "contract_version": 1,
        "municipality": "Testkommune",
        "as_of": as_of.isoformat(),
        "created_at": f"{as_of.isoformat()}T06:00:00",
        "sources": ["test"],
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    rows = {"org_units": ORG, **rows}
    for table in TABLE_NAMES:
        pl.DataFrame(rows.get(table, []), schema=polars_schema(table), orient="row").write_parquet(
            folder / file_name(table)
        )
    return folder


ORG = [
    {"unit_id": "K", "parent_id": None, "name": "Kommune", "level": "kommune"},
    {"unit_id": "A", "parent_id": "K", "name": "Team A", "level": "team"},
    {"unit_id": "B", "parent_id": "K", "name": "Team B", "level": "team"},
]


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("extracts")
    write(root, BEFORE, before_rows())
    write(root, NOW, now_rows())
    (root.parent / "scorecard.toml").write_text(SCORECARD, encoding="utf-8")
    return root


def run(root: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "STYRING_DB_URL": f"sqlite:///{tmp_path / 'audit.sqlite'}",
        "STYRING_AUDIT_DB": str(tmp_path / "no-legacy-audit.sqlite"),
    }
    return subprocess.run(
        [
            sys.executable, "-m", "metrics", "pack", "--extract", str(root / NOW.isoformat()),
            "--out", str(tmp_path / "out"), "--scorecard", str(root.parent / "scorecard.toml"), *args,
        ],
        cwd=MAIN, capture_output=True, text=True, timeout=180, env=env,
    )  # fmt: skip


def audit_rows(tmp_path: Path) -> list[tuple[Any, ...]]:
    db = tmp_path / "audit.sqlite"
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'audit_event'").fetchone():
            return []
        return conn.execute(
            "SELECT e.page, e.action, e.employee_id, e.email, e.target, "
            "(SELECT group_concat(case_id) FROM (SELECT case_id FROM audit_case c "
            " WHERE c.event_id = e.event_id ORDER BY case_id)) FROM audit_event e"
        ).fetchall()


def test_without_as_writes_aggregates_only(root: Path, tmp_path: Path) -> None:
    p = run(root, tmp_path)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["unit"] == "K" and out["previous"] == "2024-05-31"  # the extract just before
    assert out["case_rows"] == 0 and out["as"] is None
    xlsx = tmp_path / "out" / "moedepakke_kommune_2024-06-14.xlsx"
    pdf = tmp_path / "out" / "moedepakke_kommune_2024-06-14.pdf"
    assert out["xlsx"] == str(xlsx) and out["pdf"] == str(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    wb = openpyxl.load_workbook(io.BytesIO(xlsx.read_bytes()))
    assert "Dyreste sager" not in wb.sheetnames
    # no case id anywhere in the workbook
    text = {
        str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None
    }
    assert not {"c1", "c2", "c3"} & text
    assert audit_rows(tmp_path) == []


def test_as_a_team_leader_is_audited_on_their_behalf(root: Path, tmp_path: Path) -> None:
    p = run(root, tmp_path, "--as", "TL@x.dk")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    # her own unit by default; her cases c1 and c3 (the 10 most expensive in team A)
    assert out["unit"] == "A" and out["as"] == "tl@x.dk" and out["case_rows"] == 2
    wb = openpyxl.load_workbook(tmp_path / "out" / "moedepakke_team-a_2024-06-14.xlsx")
    cases = [r[0].value for r in wb["Dyreste sager"].iter_rows(min_row=9) if r[0].value]
    assert cases == ["c1", "c3"]
    [(page, action, employee, email, target, case_ids)] = audit_rows(tmp_path)
    assert (page, action, employee, email, case_ids) == ("cli:pack", "download", "tl", "tl@x.dk", "c1,c3")
    assert "kommandolinjen på vegne af tl@x.dk" in target


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--as", "r1@x.dk"], "ingen adgang til siden Økonomimøde"),  # a caseworker
        (["--as", "nobody@x.dk"], "no employee with that login email"),
        (["--as", "tl@x.dk", "--unit", "K"], "ingen adgang til enheden K"),  # outside her scope
        (["--unit", "Z"], "unknown unit"),
        (["--as-of", "2024-07-01"], "after the extract's as_of"),
    ],
)
def test_refusals_exit_1_with_one_line(root: Path, tmp_path: Path, args: list[str], words: str) -> None:
    p = run(root, tmp_path, *args)
    assert p.returncode == 1
    assert p.stdout == "" and len(p.stderr.strip().splitlines()) == 1 and words in p.stderr
    assert not (tmp_path / "out").exists() and audit_rows(tmp_path) == []


def test_refused_extract_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "x" / "2024-06-14"
    bad.mkdir(parents=True)
    (bad / "manifest.json").write_text("{}", encoding="utf-8")
    p = subprocess.run(
        [sys.executable, "-m", "metrics", "pack", "--extract", str(bad), "--out", str(tmp_path / "o")],
        cwd=MAIN, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert p.returncode == 2 and "manifest.json" in p.stderr
