"""The menu built for the viewer (app.py, ui.context): a demo session's first page runs once."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from metrics.extract import Extract
from ui.auth import demo_staff
from ui.context import _HIDDEN_PAGES, AUDIT_PAGES, MEETING_PAGES

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def test_first_page_of_a_demo_session_runs_once(
    app_env: Path, small_extract: Extract, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STYRING_DB_URL", f"sqlite:///{tmp_path / 'styring.sqlite'}")
    reruns: list[int] = []
    real = st.rerun

    def counted() -> None:
        reruns.append(1)
        real()

    monkeypatch.setattr(st, "rerun", counted)
    staff = demo_staff(small_extract)
    assert staff["role"][0] == "leder"  # the default persona: the head of the top-most unit

    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    # the menu was built for the default persona before the page ran: a leader is offered every
    # page, so the page did not run a second time to rebuild it
    assert at.session_state[_HIDDEN_PAGES] == frozenset()
    assert reruns == []

    # another persona: the page finds the menu is not theirs and builds it again (one rerun)
    caseworker = staff.filter(pl.col("role") == "raadgiver")["employee_id"][0]
    at.selectbox(key="vis_som").set_value(caseworker).run()
    assert not at.exception
    assert at.session_state[_HIDDEN_PAGES] == AUDIT_PAGES | MEETING_PAGES
    assert reruns == [1]
