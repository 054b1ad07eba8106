"""Datakvalitet: counts of set-aside rows for everyone, the rows only for leaders."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from metrics import quality
from metrics.access import AccessDenied, Viewer
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
