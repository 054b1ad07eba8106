"""Hostile extracts never take the app down (issue 9, section 4): plausible values of
data-contract.md 1.1, unreadable folders and deeply nested manifests refused by name,
`warnings` for a table that keeps less than half its rows."""

from __future__ import annotations

import json
import pathlib
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from metrics.cli import main
from metrics.contract import MANIFEST_FILE
from metrics.loader import ExtractRefused, load_extract, parse_manifest, validation_json
from tests.conftest import frame
from tests.test_validation import AS_OF, MANIFEST_JSON, base_frames, new_row, rows, validate, write_extract
from ui.fmt import md_escape

APP = str(Path(__file__).resolve().parent.parent / "app.py")

# as_of 2024-06-14: facts up to 2025-12-31 (31 Dec of the year after), plans up to 2100-12-31
REJECTED = [
    ("cases", {"closed_on": date(9999, 1, 1)}, "closed_on|date_range"),
    ("cases", {"opened_on": date(1899, 12, 31)}, "opened_on|date_range"),
    ("payments", {"period": date(2026, 1, 1)}, "period|date_range"),
    ("interventions", {"end_on": date(2101, 1, 1)}, "end_on|date_range"),
    ("deadlines", {"due_on": date(2101, 1, 1)}, "due_on|date_range"),
    ("employees", {"employed_from": date(2026, 1, 1)}, "employed_from|date_range"),
    ("absences", {"end_on": date(2026, 1, 1)}, "end_on|date_range"),
    ("notifications", {"received_at": datetime(2024, 6, 15, 0, 0)}, "received_at|max"),  # as_of + 1 day
    ("payments", {"amount": 1.7e308}, "amount|max_abs"),
    ("payments", {"amount": -1e10}, "amount|max_abs"),
    ("interventions", {"monthly_cost": 1e10}, "monthly_cost|max_abs"),
    ("budgets", {"amount": 2e10}, "amount|max_abs"),
    ("employees", {"fte": 5e-324}, "fte|min"),
    ("employees", {"fte": 0.0099}, "fte|min"),
    ("org_units", {"name": "x" * 1001}, "name|max_length"),
    ("cases", {"case_id": "c" * 101}, "case_id|max_length"),
    # the optional contacts table (contract 1.1) under the same bounds
    ("contacts", {"received_at": datetime(2024, 6, 15, 0, 0)}, "received_at|max"),
    ("contacts", {"received_at": datetime(1899, 12, 31, 23, 0)}, "received_at|date_range"),
    ("contacts", {"reason": "r" * 1001}, "reason|max_length"),
    ("contacts", {"contact_id": "h" * 101}, "contact_id|max_length"),
]
ACCEPTED = [
    ("cases", {"closed_on": date(2025, 12, 31)}),
    ("interventions", {"end_on": date(2100, 12, 31)}),
    ("notifications", {"received_at": datetime(2024, 6, 14, 23, 59), "assessed_at": None}),
    ("payments", {"amount": -9.99e9}),
    ("employees", {"fte": 0.01}),
    ("org_units", {"name": "æ" * 1000}),  # 1,000 characters, 2,000 bytes
    ("cases", {"case_id": "ø" * 100}),
    ("contacts", {"received_at": datetime(2024, 6, 14, 23, 59), "reason": "å" * 1000}),
]


@pytest.mark.parametrize(("table", "change", "rule"), REJECTED, ids=lambda v: str(v)[:40])
def test_implausible_value_is_set_aside_with_its_rule(table: str, change: dict[str, Any], rule: str) -> None:
    ex = validate(**{table: [*rows(table), new_row(table, **change)]})
    assert ex.report[table].rejected == 1
    assert rule in ex.rejected[table]["_rules"].to_list()[0]


@pytest.mark.parametrize(("table", "change"), ACCEPTED, ids=lambda v: str(v)[:40])
def test_plausible_edge_is_accepted(table: str, change: dict[str, Any]) -> None:
    ex = validate(**{table: [*rows(table), new_row(table, **change)]})
    assert ex.report[table].rejected == 0, ex.rejected[table].to_dicts()


@pytest.mark.parametrize(
    ("as_of", "ok"),
    [
        ("9999-12-31", False),
        ("1999-12-31", False),
        ("2000-01-01", True),
        ((date(2026, 11, 29) + timedelta(days=366)).isoformat(), True),
        ((date(2026, 11, 29) + timedelta(days=367)).isoformat(), False),
    ],
)
def test_manifest_as_of_bounds(as_of: str, ok: bool) -> None:
    errors: list[Any] = []
    m = parse_manifest({**MANIFEST_JSON, "as_of": as_of}, errors, today=date(2026, 11, 29))
    assert (m is not None) is ok
    if not ok:
        assert [(e.file, e.column) for e in errors] == [(MANIFEST_FILE, "as_of")]


def test_cli_refuses_implausible_as_of(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_extract(tmp_path, manifest={**MANIFEST_JSON, "as_of": "9999-12-31"})
    assert main(["kpis", "--extract", str(path)]) == 2
    err = capsys.readouterr().err
    assert "manifest.json" in err and "as_of" in err


def test_deeply_nested_manifest_is_refused_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_extract(tmp_path)
    (path / MANIFEST_FILE).write_text("[" * 200_000 + "]" * 200_000, encoding="utf-8")
    with pytest.raises(ExtractRefused) as e:
        load_extract(path)
    assert [err.file for err in e.value.errors] == [MANIFEST_FILE]
    assert main(["kpis", "--extract", str(path)]) == 2
    assert "manifest.json" in capsys.readouterr().err


def _unreadable(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Tests run as root, who reads everything: make the folder's files raise EACCES instead."""
    real_stat = pathlib.Path.stat

    def stat(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self.parent == folder:
            raise PermissionError(13, "Permission denied", str(self))
        return real_stat(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "stat", stat)


def test_unreadable_folder_is_refused_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_extract(tmp_path)
    _unreadable(monkeypatch, path)
    with pytest.raises(ExtractRefused) as e:
        load_extract(path)
    assert e.value.errors[0].file == MANIFEST_FILE and "Permission denied" in e.value.errors[0].message
    assert main(["validate", "--extract", str(path)]) == 2
    assert main(["kpis", "--extract", str(path)]) == 2
    assert "manifest.json" in capsys.readouterr().err


def test_app_falls_back_from_an_unreadable_newest_extract(
    small_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "extracts"
    shutil.copytree(small_root, root)
    newest = sorted(root.iterdir())[-1]
    _unreadable(monkeypatch, newest)
    monkeypatch.setenv("STYRING_EXTRACTS", str(root))
    monkeypatch.setenv("STYRING_DB_URL", f"sqlite:///{tmp_path / 'audit.sqlite'}")
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    assert any("kan ikke bruges" in e.value and md_escape(MANIFEST_FILE) in e.value for e in at.error), [
        e.value for e in at.error
    ]
    # the previous extract is shown
    older = sorted(root.iterdir())[-2].name
    assert at.sidebar.selectbox(key="udtraek").value in (older, newest.name)
    assert any(older.split("-")[0] in c.value for c in at.sidebar.caption)
    assert at.title and at.title[0].value == "Scorecard"


def test_app_falls_back_from_a_deeply_nested_manifest(
    small_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "extracts"
    shutil.copytree(small_root, root)
    newest = sorted(root.iterdir())[-1]
    (newest / MANIFEST_FILE).write_text("[" * 200_000 + "]" * 200_000, encoding="utf-8")
    monkeypatch.setenv("STYRING_EXTRACTS", str(root))
    monkeypatch.setenv("STYRING_DB_URL", f"sqlite:///{tmp_path / 'audit.sqlite'}")
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    assert any(md_escape(MANIFEST_FILE) in e.value and "dybt" in e.value for e in at.error), [
        e.value for e in at.error
    ]
    assert at.title and at.title[0].value == "Scorecard"


def test_table_keeping_less_than_half_is_warned(tmp_path: Path) -> None:
    # a cycle below the root (D → T → D) sets aside D and T, and with them every fact below:
    # org_units keeps 1 of 3 rows (the root), employees 0 of its rows
    org = [
        {"unit_id": "K", "parent_id": None, "name": "K", "level": "kommune"},
        {"unit_id": "D", "parent_id": "T", "name": "D", "level": "afdeling"},
        {"unit_id": "T", "parent_id": "D", "name": "T", "level": "team"},
    ]

    frames = base_frames()
    frames["org_units"] = frame("org_units", org)
    payload, code = validation_json(write_extract(tmp_path, frames))
    assert code == 0 and payload["ok"] is True
    by_table = {w["table"]: w["message"] for w in payload["warnings"]}
    assert "org_units.parquet beholder kun 1 af 3 rækker; 2 er sat til side" in by_table["org_units"]
    assert set(by_table) >= {"org_units", "employees"}
    # a clean extract has none
    clean, _ = validation_json(write_extract(tmp_path / "clean"))
    assert clean["warnings"] == []


def test_json_of_a_clean_validate_has_warnings_key(tmp_path: Path) -> None:
    payload, _ = validation_json(write_extract(tmp_path))
    assert list(payload) == ["ok", "errors", "warnings", "tables"]
    assert json.dumps(payload)
    assert date(2024, 6, 14) == AS_OF


def test_shipped_config_hides_error_details() -> None:
    import tomllib

    config = tomllib.loads((Path(APP).parent / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["showErrorDetails"] == "type"


def test_tests_still_see_full_app_errors() -> None:
    at = AppTest.from_string('raise ValueError("boom")').run()
    assert at.exception[0].message == "boom" and at.exception[0].stack_trace
