"""Datakvalitet: counts of set-aside rows for everyone, the rows only for leaders."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from metrics import quality
from metrics.access import AccessDenied, Viewer
from metrics.audit import rows_without_case
from metrics.extract import Extract
from tests.conftest import make_extract

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def _extract() -> Extract:
    # Two employees break a rule: E2 has fte 0 (0 < fte ≤ 1), E3 an unknown unit.
    return make_extract(
        as_of=date(2024, 6, 14),
        employees={
            "employee_id": ["E1", "E2", "E3"],
            "name": ["Anna", "Bo", "Carl"],
            "email": [None, None, None],
            "unit_id": ["A", "A", "X"],
            "role": ["raadgiver", "raadgiver", "leder"],
            "fte": [1.0, 0.0, 1.0],
            "employed_from": [date(2020, 1, 1)] * 3,
            "employed_to": [None, None, None],
        },
    )


def test_summary_counts_rows_per_rule() -> None:
    ex = _extract()
    s = quality.summary(ex).filter(table="employees")
    # One row per broken rule, one set-aside row each; E1 accepted.
    assert sorted(zip(s["rule"], s["rows"], strict=True)) == [("fte|min", 1), ("unit_id|foreign_key", 1)]
    totals = quality.table_totals(ex).filter(table="employees").row(0, named=True)
    assert (totals["accepted"], totals["rejected"]) == (1, 2)


def test_rejected_rows_only_for_leaders() -> None:
    ex = _extract()
    leader = Viewer("L", "Leder", "leder", "K")
    rows = quality.rejected_rows(ex, leader, "employees")
    assert sorted(rows["employee_id"].to_list()) == ["E2", "E3"]
    assert rows["begrundelse"].null_count() == 0
    for role in ("raadgiver", "teamleder", "administration"):
        with pytest.raises(AccessDenied):
            quality.rejected_rows(ex, Viewer("E1", "Anna", role, "A"), "employees")  # type: ignore[arg-type]


def test_page_states_how_many_rows_are_set_aside(app_env: Path, small_extract: Extract) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("views/datakvalitet.py")
    at.run()
    assert not at.exception
    n = small_extract.rejected_total
    texts = [w.value for w in at.warning] + [s.value for s in at.success]
    if n == 0:
        assert any("overholder datakontrakten" in t for t in texts)
    else:
        assert any(f"{n} rækker er sat til side" in t for t in texts)


def _two_team_extract() -> Extract:
    # K → A, B. A bad deadline (done before it started) on a case of team B, a bad notification
    # (assessed before received) in team A, and a bad deadline on a case that does not exist.
    d = date(2024, 3, 1)
    return make_extract(
        as_of=date(2024, 6, 14),
        cases={
            "case_id": ["CA", "CB"],
            "child_id": ["BA", "BB"],
            "unit_id": ["A", "B"],
            "caseworker_id": [None, None],
            "birth_year": [2015, 2015],
            "opened_on": [d, d],
            "closed_on": [None, None],
        },
        deadlines={
            "deadline_id": ["D1", "D2"],
            "case_id": ["CB", "CX"],
            "kind": ["undersoegelse", "undersoegelse"],
            "started_on": [d, d],
            "due_on": [date(2024, 7, 1), date(2024, 7, 1)],
            "done_on": [date(2024, 2, 1), None],
        },
        notifications={
            "notification_id": ["N1"],
            "child_id": ["BSECRET"],
            "case_id": [None],
            "unit_id": ["A"],
            "source": ["skole"],
            "received_at": [datetime(2024, 6, 1, 12)],
            "assessed_at": [datetime(2024, 6, 1, 11)],
        },
    )


def test_rejected_rows_stay_in_the_leaders_subtree() -> None:
    ex = _two_team_extract()
    leader_a = Viewer("LA", "Leder A", "leder", "A")
    leader_root = Viewer("LK", "Leder K", "leder", "K")
    # D1 belongs to team B (via case CB), D2's case is unknown: neither reaches A's leader.
    assert quality.rejected_rows(ex, leader_a, "deadlines").height == 0
    assert sorted(quality.rejected_rows(ex, leader_root, "deadlines")["deadline_id"].to_list()) == [
        "D1",
        "D2",
    ]
    assert quality.rejected_rows(ex, leader_a, "notifications")["notification_id"].to_list() == ["N1"]
    assert quality.rejected_rows(ex, Viewer("LB", "Leder B", "leder", "B"), "notifications").height == 0


def test_rows_without_case_names_notification_and_child() -> None:
    rows = pl.DataFrame({"notification_id": ["N1", "N2"], "child_id": ["B1", "B2"], "case_id": [None, "C2"]})
    assert rows_without_case(rows) == "notification_id: N1; child_id: B1"
    assert rows_without_case(rows.filter(pl.col("case_id").is_not_null())) is None
