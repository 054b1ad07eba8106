"""The sidebar's extract picker accepts a link naming the extract by ISO date or by its Danish
label, and says clearly when the extract does not exist."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def _extract_picker(at: AppTest) -> str:
    return next(s for s in at.sidebar.selectbox if s.label == "Udtræk").value


@pytest.mark.parametrize("value", ["2026-11-06", "6. nov. 2026"])
def test_link_names_older_extract(app_env: Path, value: str) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["udtraek"] = value
    at.run()
    assert not at.exception and not at.error
    assert _extract_picker(at) == "2026-11-06"  # the older of the two fixture extracts
    at.run()  # and it stays chosen on the next rerun
    assert _extract_picker(at) == "2026-11-06"


def test_unknown_extract_in_link_is_named(app_env: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["udtraek"] = "1999-01-01"
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == ["Udtrækket '1999-01-01' i linket findes ikke. Vælg et udtræk i menuen."]
    assert _extract_picker(at) == "2026-11-20"  # the newest is shown instead
