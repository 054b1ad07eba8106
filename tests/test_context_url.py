"""The sidebar's extract picker accepts a link naming the extract by ISO date or by its Danish
label, and says clearly when the extract does not exist."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from metrics.extract import Extract

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
    assert [e.value for e in at.error] == [
        "Udtrækket '1999\\-01\\-01' i linket findes ikke. Vælg et udtræk i menuen."  # escaped Markdown
    ]
    assert _extract_picker(at) == "2026-11-20"  # the newest is shown instead


@pytest.mark.parametrize("value", ["20261115", "2026-W03-4"])
def test_date_in_link_must_be_iso(app_env: Path, value: str) -> None:
    # date.fromisoformat accepts both; the widget would drop them silently.
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["dato"] = value
    at.run()
    assert not at.exception
    shown = value.replace("-", "\\-")  # the URL value echoed as escaped Markdown
    assert [e.value for e in at.error] == [f"Datoen '{shown}' i linket er ikke en gyldig dato (ÅÅÅÅ-MM-DD)."]


@pytest.mark.parametrize(("value", "chosen"), [("category", "category"), ("Kategori", "category")])
def test_economy_grouping_from_link(app_env: Path, value: str, chosen: str) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("views/oekonomi.py")
    at.query_params["gruppering"] = value
    at.run()
    assert not at.exception and not at.error
    assert [b.value for b in at.get("button_group")] == [chosen]


def test_unknown_economy_grouping_is_named(app_env: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("views/oekonomi.py")
    at.query_params["gruppering"] = "case"
    at.run()
    assert not at.exception
    assert len(at.error) == 1 and "'case'" in at.error[0].value
    assert [b.value for b in at.get("button_group")] == ["account"]


def test_demo_persona_survives_a_page_switch(app_env: Path, small_extract: Extract) -> None:
    # Pick a caseworker as "vis som" on the scorecard, then open the case page: still them.
    worker = small_extract["employees"].filter(pl.col("role") == "raadgiver")["employee_id"][0]
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.selectbox(key="vis_som").set_value(worker).run()
    at.switch_page("views/sag.py")
    at.run()
    assert not at.exception
    assert at.selectbox(key="vis_som").value == worker


def _team(ex: Extract) -> tuple[str, str]:
    row = ex["org_units"].filter(pl.col("level") == "team").sort("unit_id").row(0, named=True)
    return str(row["unit_id"]), str(row["name"])


@pytest.mark.parametrize("label_link", [False, True])
def test_whole_view_stays_in_the_url_after_a_page_switch(
    app_env: Path, small_extract: Extract, label_link: bool
) -> None:
    # A link to the older extract, an earlier date and a team (by id, or by its shown label with
    # the picker's em-space indentation, as older links have it).
    unit_id, name = _team(small_extract)
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("views/oekonomi.py")
    at.query_params.update(
        {"udtraek": "2026-11-06", "dato": "2026-10-01", "enhed": f"\u2003\u2003{name}" if label_link else unit_id}
    )
    at.run()
    assert not at.exception and not at.error
    want = {"udtraek": "2026-11-06", "dato": "2026-10-01", "enhed": unit_id}  # the id, never the label
    assert {k: at.query_params[k] for k in want} == want
    # The browser empties the URL on a page switch: the next page still shows, and writes, the view.
    for k in want:
        del at.query_params[k]
    at.switch_page("views/sag.py")
    at.run()
    assert not at.exception and not at.error
    assert {k: at.query_params[k] for k in want} == want
    assert at.selectbox(key="enhed").value == unit_id
    assert at.selectbox(key="udtraek").value == "2026-11-06"


def test_a_changed_unit_is_written_to_the_url(app_env: Path, small_extract: Extract) -> None:
    unit_id, _ = _team(small_extract)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    newest = "2026-11-20"  # FIXTURE_END, the default extract, is still written: a link must reopen it
    assert at.query_params["udtraek"] == newest and at.query_params["dato"] == newest
    at.selectbox(key="enhed").set_value(unit_id).run()
    assert at.query_params["enhed"] == unit_id
    at.run()  # and a plain rerun keeps the user's choice rather than an older URL value
    assert at.selectbox(key="enhed").value == unit_id


def test_link_to_an_unknown_unit_is_refused(app_env: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["enhed"] = "Findes ikke"
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "Enheden 'Findes ikke' i linket findes ikke i organisationen, eller du har ikke adgang til den."
    ]
    assert at.query_params["enhed"] == "Findes ikke"  # left as the link had it, not replaced
