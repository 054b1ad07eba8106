"""`python -m metrics capability`, and `kpis`/`scorecard`/`validate` with and without the
optional contacts table, as a subprocess on the tiny extract of tests/test_cli.py.

Its notifications: n1 A 2024-03-01 10:00 assessed 12:00 (2 hours); n2 A 06-30 open;
n3 B 05-01 09:00 assessed 05-03 09:00 (48 hours).
"""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from metrics.contract import file_name, polars_schema
from tests.test_cli import assert_one_line_failure, ok_json, run, write_extract

KEYS = {"measure", "n", "mean", "mr_bar", "lower", "upper", "p05", "p95", "signals"}


@pytest.fixture(scope="module")
def extract_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_extract(tmp_path_factory.mktemp("cli_cap"))


@pytest.fixture(scope="module")
def with_contacts(tmp_path_factory: pytest.TempPathFactory, extract_dir: Path) -> Path:
    folder = tmp_path_factory.mktemp("cli_contacts") / extract_dir.name
    shutil.copytree(extract_dir, folder)

    def c(cid: str, unit: str, at: datetime, kind: str) -> dict[str, object]:
        return {
            "contact_id": cid,
            "unit_id": unit,
            "case_id": None,
            "received_at": at,
            "channel": "telefon",
            "demand_type": kind,
            "reason": "Har ikke hørt fra rådgiver" if kind == "fejl" else "Ønsker møde",
        }

    rows = [
        c("h1", "A", datetime(2024, 2, 1, 9), "fejl"),
        c("h2", "A", datetime(2024, 3, 1, 9), "vaerdi"),
        c("h3", "B", datetime(2024, 4, 1, 9), "vaerdi"),
        c("h4", "B", datetime(2023, 4, 1, 9), "fejl"),  # last year
    ]
    pl.DataFrame(rows, schema=polars_schema("contacts"), orient="row").write_parquet(
        folder / file_name("contacts")
    )
    return folder


def test_vurdering_timer_root(extract_dir: Path) -> None:
    out = ok_json("capability", "--extract", extract_dir, "--measure", "vurdering_timer", "--format", "json")
    assert set(out) == KEYS
    # items n1 (2) and n3 (48): mean 25; mR̄ 46; lower max(0, 25 − 2.66 × 46) = 0; upper 25 + 122.36
    assert out["measure"] == "vurdering_timer" and out["n"] == 2
    assert out["mean"] == pytest.approx(25.0) and out["mr_bar"] == pytest.approx(46.0)
    assert out["lower"] == 0.0 and out["upper"] == pytest.approx(147.36)
    # p05 2 + 0.05 × 46 = 4.3; p95 2 + 0.95 × 46 = 45.7
    assert out["p05"] == pytest.approx(4.3) and out["p95"] == pytest.approx(45.7)
    assert out["signals"] == []


def test_n_1_gives_nulls_for_a_unit_and_for_a_later_window(extract_dir: Path) -> None:
    nulls = {"mean": None, "mr_bar": None, "lower": None, "upper": None, "p05": None, "p95": None}
    a = ok_json(
        "capability",
        "--extract",
        extract_dir,
        "--measure",
        "vurdering_timer",
        "--unit",
        "A",
        "--format",
        "json",
    )
    assert a == {"measure": "vurdering_timer", "n": 1, **nulls, "signals": []}
    late = ok_json(
        "capability",
        "--extract",
        extract_dir,
        "--measure",
        "vurdering_timer",
        "--from",
        "2024-04-01",
        "--format",
        "json",
    )
    assert late["n"] == 1  # only n3
    early = ok_json(
        "capability",
        "--extract",
        extract_dir,
        "--measure",
        "vurdering_timer",
        "--as-of",
        "2024-03-31",
        "--format",
        "json",
    )
    assert early["n"] == 1  # only n1


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["--measure", "ventetid"], id="unknown measure"),
        pytest.param([], id="missing measure"),
        pytest.param(["--measure", "vurdering_timer", "--from", "2024-07-01"], id="from after as_of"),
        pytest.param(["--measure", "vurdering_timer", "--from", "1. juli"], id="bad from"),
        pytest.param(["--measure", "vurdering_timer", "--unit", "ZZ"], id="unknown unit"),
    ],
)
def test_failures_exit_1(extract_dir: Path, args: list[str]) -> None:
    assert_one_line_failure(run("capability", "--extract", extract_dir, *args, "--format", "json"))


def test_refused_extract_exits_2(tmp_path: Path) -> None:
    folder = write_extract(tmp_path)
    (folder / file_name("notifications")).unlink()
    p = run("capability", "--extract", folder, "--measure", "vurdering_timer", "--format", "json")
    assert p.returncode == 2 and "notifications.parquet" in p.stderr and "Traceback" not in p.stderr


def test_kpis_add_the_demand_kpis_only_with_contacts(extract_dir: Path, with_contacts: Path) -> None:
    without = ok_json("kpis", "--extract", extract_dir, "--format", "json")
    assert "henvendelser_antal" not in without and "fejlefterspoergsel_pct" not in without
    out = ok_json("kpis", "--extract", with_contacts, "--format", "json")
    # 2024: h1 (fejl), h2, h3 → 3 contacts, 1 failure
    assert out["henvendelser_antal"] == 3
    assert out["fejlefterspoergsel_pct"] == pytest.approx(100 / 3)
    b = ok_json("kpis", "--extract", with_contacts, "--unit", "B", "--format", "json")
    assert b["henvendelser_antal"] == 1 and b["fejlefterspoergsel_pct"] == 0.0
    assert {k: v for k, v in out.items() if k in without} == without


def test_scorecard_and_validate_list_contacts_only_when_present(
    extract_dir: Path, with_contacts: Path
) -> None:
    plain = ok_json("scorecard", "--extract", extract_dir, "--format", "json")
    assert "fejlefterspoergsel_pct" not in [r["kpi"] for r in plain]
    full = ok_json("scorecard", "--extract", with_contacts, "--format", "json")
    row = next(r for r in full if r["kpi"] == "fejlefterspoergsel_pct")
    # 33.3 % > target 20 + tolerance 5: red
    assert row["perspective"] == "interne_processer" and row["target"] == 20 and row["status"] == "red"
    assert len(full) == len(plain) + 1
    assert "contacts" not in ok_json("validate", "--extract", extract_dir, "--format", "json")["tables"]
    tables = ok_json("validate", "--extract", with_contacts, "--format", "json")["tables"]
    assert tables["contacts"] == {"accepted": 4, "rejected": 0, "reasons": {}}


def test_an_empty_contacts_file_is_a_table_with_no_contacts(tmp_path: Path, extract_dir: Path) -> None:
    folder = tmp_path / extract_dir.name
    shutil.copytree(extract_dir, folder)
    pl.DataFrame(schema=polars_schema("contacts")).write_parquet(folder / file_name("contacts"))
    tables = ok_json("validate", "--extract", folder, "--format", "json")["tables"]
    assert tables["contacts"] == {"accepted": 0, "rejected": 0, "reasons": {}}
    out = ok_json("kpis", "--extract", folder, "--format", "json")
    assert out["henvendelser_antal"] == 0 and out["fejlefterspoergsel_pct"] is None
    card = ok_json("scorecard", "--extract", folder, "--format", "json")
    row = next(r for r in card if r["kpi"] == "fejlefterspoergsel_pct")
    assert row["value"] is None and row["status"] == "none"
