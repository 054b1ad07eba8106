"""`python -m metrics` as a subprocess on a tiny Parquet extract with hand-worked values.

kpis.md, section Command line: JSON on stdout, exit 0; a refused extract exits 2 with a
message naming file and column on stderr; any other failure exits 1 with one line.

The extract (as_of 2024-06-30, root K, teams A and B):
  employees  e1 A raadgiver 1.0 from 2020; e2 B raadgiver 0.5 2020 … 2024-06-14;
             e3 B raadgiver 1.0 from 2024-04-01
  cases      c1 A (e1) from 2023-01-01; c2 B (e3) from 2024-02-01;
             c3 B (no caseworker) 2024-01-10 … closed 2024-06-15
  interventions i1 c1 kind kp (anbringelse, 5.28.22) from 2023-01-01, open, 10000/month;
             i2 c2 kind kf (forebyggende, 5.28.21) 2024-02-01 … 2024-09-30, 2000/month
  payments   i1: 10000 for each month of 2023 (Jan–Nov posted the 10th, Dec posted 2024-01-05)
             and Jan–Jun 2024 (posted the 10th); i2: 2000 for Feb–Jun 2024 (posted the 15th),
             a refund of −500 for March posted 2024-04-20; one payment of 1e6 to an unknown
             intervention (set aside, never counted)
  budgets    2024: A 5.28.22 120000, B 5.28.21 30000; 2023: A 5.28.22 110000
  deadlines  d1 c1 undersoegelse due 03-01 done 02-15; d2 c2 opfoelgning due 05-01 done 05-10;
             d3 c2 opfoelgning due 06-20 open
  notifications n1 A 03-01 10:00 assessed 12:00; n2 A 06-30 10:00 open; n3 B 05-01 09:00
             assessed 05-03 09:00
  absences   e1 egen_sygdom Mon 3 … Fri 7 June 2024
  measurements brugertilfredshed A 2024-03-31 4.0 (20 respondents); B 2024-06-15 3.0 (5)
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from metrics.contract import TABLE_NAMES, file_name, polars_schema

MAIN = Path(__file__).resolve().parent.parent
AS_OF = date(2024, 6, 30)

# Every KPI id defined in kpis.md (copied by hand from its tables).
SPEC_IDS = [
    "oekonomi_forventet_pct",
    "udgift_pr_sag",
    "udgift_pr_sag_aendring_pct",
    "aktive_sager",
    "sager_pr_raadgiver",
    "frister_overholdt_pct",
    "undersoegelser_rettidige_pct",
    "opfoelgninger_rettidige_pct",
    "frister_overskredne",
    "underretninger_antal",
    "underretninger_24t_pct",
    "sygefravaer_pct",
    "personaleomsaetning_pct",
]
ECONOMY_KEYS = {"group", "budget", "actual", "committed", "expected", "deviation"}


def _rows() -> dict[str, list[dict[str, Any]]]:
    def emp(eid: str, unit: str, fte: float, start: date, end: date | None) -> dict[str, Any]:
        return {
            "employee_id": eid,
            "name": eid,
            "email": None,
            "unit_id": unit,
            "role": "raadgiver",
            "fte": fte,
            "employed_from": start,
            "employed_to": end,
        }

    def case(cid: str, unit: str, cw: str | None, opened: date, closed: date | None) -> dict[str, Any]:
        return {
            "case_id": cid,
            "child_id": "b" + cid,
            "unit_id": unit,
            "caseworker_id": cw,
            "birth_year": 2012,
            "opened_on": opened,
            "closed_on": closed,
        }

    def pay(pid: str, iid: str, period: date, posted: date, amount: float) -> dict[str, Any]:
        return {
            "payment_id": pid,
            "intervention_id": iid,
            "period": period,
            "posted_on": posted,
            "amount": amount,
        }

    payments = [pay(f"a{m}", "i1", date(2023, m, 1), date(2023, m, 10), 10000.0) for m in range(1, 12)]
    payments.append(pay("a12", "i1", date(2023, 12, 1), date(2024, 1, 5), 10000.0))
    payments += [pay(f"b{m}", "i1", date(2024, m, 1), date(2024, m, 10), 10000.0) for m in range(1, 7)]
    payments += [pay(f"c{m}", "i2", date(2024, m, 1), date(2024, m, 15), 2000.0) for m in range(2, 7)]
    payments.append(pay("refund", "i2", date(2024, 3, 1), date(2024, 4, 20), -500.0))
    payments.append(pay("orphan", "i404", date(2024, 3, 1), date(2024, 3, 1), 1e6))

    def dl(did: str, cid: str, kind: str, started: date, due: date, done: date | None) -> dict[str, Any]:
        return {
            "deadline_id": did,
            "case_id": cid,
            "kind": kind,
            "started_on": started,
            "due_on": due,
            "done_on": done,
        }

    def nt(nid: str, unit: str, received: datetime, assessed: datetime | None) -> dict[str, Any]:
        return {
            "notification_id": nid,
            "child_id": "x" + nid,
            "case_id": None,
            "unit_id": unit,
            "source": "skole",
            "received_at": received,
            "assessed_at": assessed,
        }

    return {
        "org_units": [
            {"unit_id": "K", "parent_id": None, "name": "Kommune", "level": "kommune"},
            {"unit_id": "A", "parent_id": "K", "name": "Team A", "level": "team"},
            {"unit_id": "B", "parent_id": "K", "name": "Team B", "level": "team"},
        ],
        "employees": [
            emp("e1", "A", 1.0, date(2020, 1, 1), None),
            emp("e2", "B", 0.5, date(2020, 1, 1), date(2024, 6, 14)),
            emp("e3", "B", 1.0, date(2024, 4, 1), None),
        ],
        "cases": [
            case("c1", "A", "e1", date(2023, 1, 1), None),
            case("c2", "B", "e3", date(2024, 2, 1), None),
            case("c3", "B", None, date(2024, 1, 10), date(2024, 6, 15)),
        ],
        "intervention_kinds": [
            {
                "kind_id": "kp",
                "name": "Plejefamilie",
                "category": "anbringelse",
                "account": "5.28.22",
                "legal_basis": None,
            },
            {
                "kind_id": "kf",
                "name": "Familiebehandling",
                "category": "forebyggende",
                "account": "5.28.21",
                "legal_basis": None,
            },
        ],
        "interventions": [
            {
                "intervention_id": "i1",
                "case_id": "c1",
                "kind_id": "kp",
                "provider": None,
                "decided_on": date(2023, 1, 1),
                "start_on": date(2023, 1, 1),
                "end_on": None,
                "monthly_cost": 10000.0,
            },
            {
                "intervention_id": "i2",
                "case_id": "c2",
                "kind_id": "kf",
                "provider": None,
                "decided_on": date(2024, 2, 1),
                "start_on": date(2024, 2, 1),
                "end_on": date(2024, 9, 30),
                "monthly_cost": 2000.0,
            },
        ],
        "payments": payments,
        "budgets": [
            {"year": 2024, "unit_id": "A", "account": "5.28.22", "amount": 120000.0},
            {"year": 2024, "unit_id": "B", "account": "5.28.21", "amount": 30000.0},
            {"year": 2023, "unit_id": "A", "account": "5.28.22", "amount": 110000.0},
        ],
        "notifications": [
            nt("n1", "A", datetime(2024, 3, 1, 10), datetime(2024, 3, 1, 12)),
            nt("n2", "A", datetime(2024, 6, 30, 10), None),
            nt("n3", "B", datetime(2024, 5, 1, 9), datetime(2024, 5, 3, 9)),
        ],
        "deadlines": [
            dl("d1", "c1", "undersoegelse", date(2023, 11, 1), date(2024, 3, 1), date(2024, 2, 15)),
            dl("d2", "c2", "opfoelgning", date(2024, 2, 1), date(2024, 5, 1), date(2024, 5, 10)),
            dl("d3", "c2", "opfoelgning", date(2024, 3, 20), date(2024, 6, 20), None),
        ],
        "absences": [
            {
                "employee_id": "e1",
                "kind": "egen_sygdom",
                "start_on": date(2024, 6, 3),
                "end_on": date(2024, 6, 7),
            }
        ],
        "measurements": [
            {
                "kpi_id": "brugertilfredshed",
                "unit_id": "A",
                "period_end": date(2024, 3, 31),
                "value": 4.0,
                "respondents": 20,
            },
            {
                "kpi_id": "brugertilfredshed",
                "unit_id": "B",
                "period_end": date(2024, 6, 15),
                "value": 3.0,
                "respondents": 5,
            },
        ],
    }


def write_extract(root: Path) -> Path:
    folder = root / AS_OF.isoformat()
    folder.mkdir(parents=True)
    manifest = {
        "contract_version": 1,
        "municipality": "Testkommune",
        "as_of": AS_OF.isoformat(),
        "created_at": "2024-07-01T06:00:00",
        "sources": ["test"],
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    rows = _rows()
    for table in TABLE_NAMES:
        pl.DataFrame(rows[table], schema=polars_schema(table), orient="row").write_parquet(
            folder / file_name(table)
        )
    return folder


@pytest.fixture(scope="module")
def extract_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_extract(tmp_path_factory.mktemp("cli"))


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "metrics", *map(str, args)],
        cwd=MAIN,
        capture_output=True,
        text=True,
        timeout=120,
    )


def ok_json(*args: str | Path) -> Any:
    p = run(*args)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def assert_one_line_failure(p: subprocess.CompletedProcess[str], code: int = 1) -> None:
    assert p.returncode == code, (p.returncode, p.stdout, p.stderr)
    assert "Traceback" not in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert p.stdout == ""


# --- kpis ---------------------------------------------------------------------------------


def test_kpis_root(extract_dir: Path) -> None:
    out = ok_json("kpis", "--extract", extract_dir, "--format", "json")
    assert list(out) == [*SPEC_IDS, "brugertilfredshed"]
    expected = {
        # actual = i1 6 × 10000 + i2 (5 × 2000 − 500) = 69500 (Dec 2023 paid in Jan: not; the
        # set-aside 1e6: not); committed = i1 6 × 10000 + i2 Jul–Sep 3 × 2000 = 66000;
        # expected 135500 / budget 150000 × 100
        "oekonomi_forventet_pct": 135500 / 150000 * 100,
        "udgift_pr_sag": 69500 / 2,  # c1, c2
        # 2023-06-30: i1 Jan–Jun 2023 = 60000 over 1 case → (34750 / 60000 − 1) × 100
        "udgift_pr_sag_aendring_pct": (34750 / 60000 - 1) * 100,
        "aktive_sager": 2,  # c1, c2 (c3 closed 15 June)
        "sager_pr_raadgiver": 2 / 2.0,  # c1, c2 over e1 1.0 + e3 1.0 (e2 left 14 June)
        "frister_overholdt_pct": 1 / 3 * 100,  # d1 of d1, d2, d3
        "undersoegelser_rettidige_pct": 100.0,  # d1
        "opfoelgninger_rettidige_pct": 0.0,  # d2 late, d3 open
        "frister_overskredne": 1,  # d3
        "underretninger_antal": 3,
        "underretninger_24t_pct": 50.0,  # n2 pending (14 h before T); n1 on time, n3 late
        # scheduled: e1 130 weekdays (Jan 23 + Feb 21 + Mar 21 + Apr 22 + May 23 + Jun 20)
        # + e2 0.5 × 120 (to Fri 14 June) + e3 65 (Apr–Jun) = 255; sick 5 (3–7 June)
        "sygefravaer_pct": 5 / 255 * 100,
        # (2023-07-01, 2024-06-30]: leaver e2; headcount 2 (e1, e2) and 2 (e1, e3)
        "personaleomsaetning_pct": 1 / 2 * 100,
        "brugertilfredshed": (4.0 * 20 + 3.0 * 5) / 25,  # K has none: A and B weighted
    }
    for k, want in expected.items():
        assert out[k] == pytest.approx(want, rel=1e-12), k
    # unrounded: 90.333… and −42.083… come out with all their digits
    assert out["oekonomi_forventet_pct"] != round(out["oekonomi_forventet_pct"], 6)
    assert out["udgift_pr_sag_aendring_pct"] != round(out["udgift_pr_sag_aendring_pct"], 6)


def test_kpis_as_of(extract_dir: Path) -> None:
    out = ok_json("kpis", "--extract", extract_dir, "--as-of", "2024-05-31", "--format", "json")
    expected = {
        # actual = i1 5 × 10000 + i2 (4 × 2000 − 500) = 57500; committed = i1 7 × 10000
        # + i2 Jun–Sep 4 × 2000 = 78000; expected 135500
        "oekonomi_forventet_pct": 135500 / 150000 * 100,
        "udgift_pr_sag": 57500 / 2,
        "udgift_pr_sag_aendring_pct": (28750 / 50000 - 1) * 100,  # 2023-05-31: 50000 / 1
        "aktive_sager": 3,
        "sager_pr_raadgiver": 2 / 2.5,  # e1 1 + e2 0.5 + e3 1
        "frister_overholdt_pct": 50.0,  # d1 met, d2 late
        "undersoegelser_rettidige_pct": 100.0,
        "opfoelgninger_rettidige_pct": 0.0,
        "frister_overskredne": 0,  # d2 done 10 May ≤ as_of; d3 not due
        "underretninger_antal": 2,
        "underretninger_24t_pct": 50.0,
        "sygefravaer_pct": 0.0,  # scheduled 110 + 55 + 45, nobody sick yet
        # (2023-06-01, 2024-05-31]: no leaver; headcount 2 and 3 → 0 (not null)
        "personaleomsaetning_pct": 0.0,
        "brugertilfredshed": 4.0,  # B's measurement ends 15 June
    }
    for k, want in expected.items():
        assert out[k] == pytest.approx(want, rel=1e-12), k


def test_kpis_unit(extract_dir: Path) -> None:
    out = ok_json("kpis", "--extract", extract_dir, "--unit", "A", "--format", "json")
    expected: dict[str, float | None] = {
        "oekonomi_forventet_pct": 100.0,  # (60000 + 60000) / 120000
        "udgift_pr_sag": 60000.0,
        "udgift_pr_sag_aendring_pct": 0.0,  # 60000 vs 60000
        "aktive_sager": 1,
        "sager_pr_raadgiver": 1.0,
        "frister_overholdt_pct": 100.0,
        "undersoegelser_rettidige_pct": 100.0,
        "opfoelgninger_rettidige_pct": None,  # no opfoelgning in A: 0 / 0
        "frister_overskredne": 0,
        "underretninger_antal": 2,  # n1, n2
        "underretninger_24t_pct": 100.0,  # n1 (n2 pending)
        "sygefravaer_pct": 5 / 130 * 100,
        "personaleomsaetning_pct": 0.0,
        "brugertilfredshed": 4.0,
    }
    assert list(out) == [*SPEC_IDS, "brugertilfredshed"]
    for k, want in expected.items():
        assert out[k] == (None if want is None else pytest.approx(want, rel=1e-12)), k


# --- economy ------------------------------------------------------------------------------


def economy(extract_dir: Path, *extra: str) -> dict[Any, dict[str, Any]]:
    out = ok_json("economy", "--extract", extract_dir, *extra, "--format", "json")
    assert isinstance(out, list)
    assert all(set(r) == ECONOMY_KEYS for r in out)
    return {r["group"]: r for r in out}


def assert_row(row: dict[str, Any], budget: float | None, actual: float, committed: float) -> None:
    assert row["actual"] == pytest.approx(actual)
    assert row["committed"] == pytest.approx(committed)
    assert row["expected"] == pytest.approx(actual + committed)
    if budget is None:
        assert row["budget"] is None and row["deviation"] is None
    else:
        assert row["budget"] == pytest.approx(budget)
        assert row["deviation"] == pytest.approx(budget - actual - committed)


def test_economy_by_account(extract_dir: Path) -> None:
    t = economy(extract_dir, "--by", "account")
    assert set(t) == {"5.28.22", "5.28.21"}
    assert_row(t["5.28.22"], 120000.0, 60000.0, 60000.0)  # deviation 0
    assert_row(t["5.28.21"], 30000.0, 9500.0, 6000.0)  # deviation 14500


def test_economy_by_kind_and_category(extract_dir: Path) -> None:
    t = economy(extract_dir, "--by", "kind_id")
    assert set(t) == {"kp", "kf"}
    assert_row(t["kp"], None, 60000.0, 60000.0)
    assert_row(t["kf"], None, 9500.0, 6000.0)
    c = economy(extract_dir, "--by", "category")
    assert set(c) == {"anbringelse", "forebyggende"}
    assert_row(c["anbringelse"], None, 60000.0, 60000.0)
    assert_row(c["forebyggende"], None, 9500.0, 6000.0)


def test_economy_by_unit_with_unit_and_as_of(extract_dir: Path) -> None:
    t = economy(extract_dir, "--by", "unit")
    assert_row(t["A"], 120000.0, 60000.0, 60000.0)
    assert_row(t["B"], 30000.0, 9500.0, 6000.0)
    b = economy(extract_dir, "--by", "unit", "--unit", "B", "--as-of", "2024-05-31")
    assert set(b) == {"B"}
    # B at 31 May: actual 4 × 2000 − 500 = 7500; committed Jun–Sep 4 × 2000 = 8000
    assert_row(b["B"], 30000.0, 7500.0, 8000.0)


# --- validate -----------------------------------------------------------------------------


def test_validate(extract_dir: Path) -> None:
    out = ok_json("validate", "--extract", extract_dir, "--format", "json")
    assert set(out) == {"ok", "errors", "warnings", "tables"}  # warnings: kpis.md 1.1
    assert out["ok"] is True and out["errors"] == []
    assert set(out["tables"]) == set(TABLE_NAMES)
    # 12 + 6 + 5 + 1 payments accepted; the orphan set aside for its unknown intervention
    assert out["tables"]["payments"] == {
        "accepted": 24,
        "rejected": 1,
        "reasons": {"intervention_id|foreign_key": 1},
    }
    assert out["tables"]["cases"] == {"accepted": 3, "rejected": 0, "reasons": {}}


# --- refused extracts: exit 2, file and column on stderr -----------------------------------


def _broken(tmp_path: Path, table: str, change: Any) -> Path:
    folder = write_extract(tmp_path)
    path = folder / file_name(table)
    if change is None:
        path.unlink()
    else:
        change(pl.read_parquet(path)).write_parquet(path)
    return folder


def test_refused_missing_column(tmp_path: Path) -> None:
    folder = _broken(tmp_path, "payments", lambda df: df.drop("amount"))
    for cmd in (["kpis"], ["economy", "--by", "account"], ["scorecard"]):
        p = run(*cmd, "--extract", folder, "--format", "json")
        assert p.returncode == 2, (cmd, p.stderr)
        assert "payments.parquet" in p.stderr and "amount" in p.stderr, p.stderr
        assert "Traceback" not in p.stderr
    p = run("validate", "--extract", folder, "--format", "json")
    assert p.returncode == 2
    assert "payments.parquet" in p.stderr and "amount" in p.stderr
    out = json.loads(p.stdout)
    assert out["ok"] is False
    assert {"file": "payments.parquet", "column": "amount"} in [
        {"file": e["file"], "column": e["column"]} for e in out["errors"]
    ]


def test_refused_missing_file(tmp_path: Path) -> None:
    folder = _broken(tmp_path, "deadlines", None)
    p = run("kpis", "--extract", folder, "--format", "json")
    assert p.returncode == 2
    assert "deadlines.parquet" in p.stderr and "Traceback" not in p.stderr
    assert p.stdout == ""


def test_refused_uncastable_column(tmp_path: Path) -> None:
    folder = _broken(tmp_path, "employees", lambda df: df.with_columns(pl.lit("fuld tid").alias("fte")))
    p = run("kpis", "--extract", folder, "--format", "json")
    assert p.returncode == 2
    assert "employees.parquet" in p.stderr and "fte" in p.stderr and "Traceback" not in p.stderr


# --- other failures: exit 1, one line, no traceback ----------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["kpis", "--format", "json"], id="missing --extract"),
        pytest.param(["kpis", "--extract", "{x}", "--format", "xml"], id="bad format"),
        pytest.param(["economy", "--extract", "{x}", "--by", "provider", "--format", "json"], id="bad --by"),
        pytest.param(["economy", "--extract", "{x}", "--format", "json"], id="missing --by"),
        pytest.param(["frobnicate", "--extract", "{x}"], id="unknown command"),
        pytest.param([], id="no command"),
        pytest.param(
            ["kpis", "--extract", "{x}", "--as-of", "2024-13-01", "--format", "json"], id="bad date"
        ),
        pytest.param(
            ["kpis", "--extract", "{x}", "--as-of", "30-06-2024", "--format", "json"], id="date order"
        ),
        pytest.param(["kpis", "--extract", "{x}", "--unit", "ZZ", "--format", "json"], id="unknown unit"),
        pytest.param(
            ["economy", "--extract", "{x}", "--unit", "ZZ", "--by", "unit", "--format", "json"],
            id="economy unit",
        ),
        pytest.param(
            ["kpis", "--extract", "{x}", "--as-of", "2024-07-01", "--format", "json"], id="as-of after"
        ),
    ],
)
def test_failures_exit_1(extract_dir: Path, args: list[str]) -> None:
    p = run(*[a.replace("{x}", str(extract_dir)) for a in args])
    assert_one_line_failure(p)


def test_nonexistent_folder_is_no_traceback(tmp_path: Path) -> None:
    # kpis.md does not say whether a folder that does not exist is a refused extract (2) or a
    # bad argument (1); either way: one line naming it, no traceback
    p = run("kpis", "--extract", tmp_path / "2024-01-01", "--format", "json")
    assert p.returncode in (1, 2)
    assert "Traceback" not in p.stderr and "2024-01-01" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1


# --- scorecard: wired (its own tests live in tests/test_cli_scorecard.py) ------------------


def test_scorecard_wired(extract_dir: Path) -> None:
    out = ok_json("scorecard", "--extract", extract_dir, "--format", "json")
    assert isinstance(out, list) and out
    keys = {"kpi", "perspective", "unit", "as_of", "value", "target", "status"}
    assert all(set(r) == keys for r in out)
    assert {r["unit"] for r in out} == {"K"} and {r["as_of"] for r in out} == {"2024-06-30"}
    # the same figure as `kpis` (hand-worked there: 50)
    by_kpi = {r["kpi"]: r for r in out}
    if "underretninger_24t_pct" in by_kpi:
        assert by_kpi["underretninger_24t_pct"]["value"] == pytest.approx(50.0)
