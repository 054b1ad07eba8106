"""Access follows the person as they are today (issue 9, section 1).

Two extracts of the hand-made organisation (tests/support_access.py):

    newest 2024-06-14: K > D > {TA, TB}; OLD (Olga) left 31 Jan 2024; R1 is raadgiver in TA.
    older  2024-01-15: as above plus TX "Team Gammel" under TA (gone today) with case C6 (R2),
                       and R1 was then teamleder of TA; Olga still employed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from metrics.access import (
    aggregate_units,
    case_row_filter,
    viewer_for_email,
    viewer_for_employee,
    with_today,
)
from metrics.compare import compare
from metrics.extract import Extract
from metrics.loader import load_extract
from tests.support_access import EMAIL, OLDER, older_frames, write_extract
from tests.test_auth_pages import FIGURE_TYPES, element_types, events, logged_in, make_app, texts
from ui.auth import SettingError, demo_setting


@pytest.fixture(scope="module")
def two_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("two")
    write_extract(root, synthetic=False)
    write_extract(root, synthetic=False, as_of=OLDER, **older_frames())
    return root


@pytest.fixture(scope="module")
def newest(two_root: Path) -> Extract:
    return load_extract(two_root / "2024-06-14")


@pytest.fixture(scope="module")
def older(two_root: Path) -> Extract:
    return load_extract(two_root / OLDER.isoformat())


@pytest.fixture
def audit_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "audit.sqlite"
    monkeypatch.setenv("STYRING_DB_URL", f"sqlite:///{db}")
    monkeypatch.delenv("STYRING_DEMO", raising=False)
    return db


# --- the data layer ------------------------------------------------------------------------


def test_role_of_today_applies_to_the_older_extract(newest: Extract, older: Extract) -> None:
    # R1 was teamleder of TA in January, is raadgiver today: in the older extract only their own
    # cases (C1 in TA, C5 in D), not C2/C4/C6 of their former team.
    r1 = viewer_for_email(newest, EMAIL["R1"])
    assert r1 is not None and r1.role == "raadgiver"
    own = older["cases"].filter(case_row_filter(older, r1))["case_id"].sort().to_list()
    assert own == ["C1", "C5"]


def test_vanished_unit_only_for_leaders_above_its_old_parent(newest: Extract, older: Extract) -> None:
    # TX no longer exists; its old parent TA is in T1's and L1's scope today, not in R3's (TB).
    t1 = viewer_for_email(newest, EMAIL["T1"])
    l1 = viewer_for_email(newest, EMAIL["L1"])
    r3 = viewer_for_email(newest, EMAIL["R3"])
    assert t1 is not None and l1 is not None and r3 is not None
    assert aggregate_units(older, t1) == {"TA", "TX"}
    assert aggregate_units(older, l1) == {"D", "TA", "TB", "TX"}
    assert aggregate_units(older, r3) == {"TB"}
    # and T1's case rows in the old extract include C6 (TX, under TA) but nothing of TB
    rows = older["cases"].filter(case_row_filter(older, t1))["case_id"].sort().to_list()
    assert rows == ["C1", "C2", "C4", "C6"]


def test_person_who_left_is_nobody_today(newest: Extract, older: Extract) -> None:
    # Olga is employed in the older extract, but resolution happens in the newest only.
    assert viewer_for_email(older, EMAIL["OLD"]) is not None
    assert viewer_for_email(newest, EMAIL["OLD"]) is None


def test_scope_is_stamped_from_the_newest(newest: Extract, older: Extract) -> None:
    # A viewer looked up in the older extract (R1 as teamleder) and then re-stamped with the
    # newest's scope: still teamleder (role is the caller's), but the unit set is TA's today.
    r1_then = viewer_for_employee(older, "R1")
    assert r1_then is not None and r1_then.today is not None and r1_then.today.as_of == OLDER
    restamped = with_today(newest, r1_then)
    assert restamped.today is not None and restamped.today.scope == {"TA"}


def test_compare_judges_both_extracts_by_todays_scope(newest: Extract, older: Extract) -> None:
    t1 = viewer_for_email(newest, EMAIL["T1"])
    assert t1 is not None
    assert compare(newest, older, "TA", t1).unit_id == "TA"
    r3 = viewer_for_email(newest, EMAIL["R3"])
    assert r3 is not None
    with pytest.raises(PermissionError):
        compare(newest, older, "TA", r3)


# --- the app ---------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["views/raadgiver.py", "views/sag.py", "views/scorecard.py"])
def test_person_who_left_sees_no_extract(
    page: str, two_root: Path, audit_db: Path, monkeypatch: pytest.MonkeyPatch, newest: Extract
) -> None:
    # Olga left 31 Jan; the link names the January extract in which she was still employed.
    at = make_app(
        two_root, monkeypatch, user=logged_in(EMAIL["OLD"]), page=page, params={"udtraek": "2024-01-15"}
    )
    assert not at.exception
    assert any("Ingen adgang" in e for e in texts(at.error))
    assert not set(element_types(at)) & FIGURE_TYPES
    # no extract picker (nor any other filter) on a refusal page
    assert not [s for s in at.sidebar.selectbox]
    assert events(newest, audit_db).select("action", "email").rows() == [("denied", EMAIL["OLD"])]


def test_changed_role_follows_today_on_the_caseworker_page(
    two_root: Path, audit_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # R1 was teamleder in January: on that extract they would have picked R1 or R2; today only self.
    at = make_app(
        two_root,
        monkeypatch,
        user=logged_in(EMAIL["R1"]),
        page="views/raadgiver.py",
        params={"udtraek": "2024-01-15"},
    )
    assert not at.exception
    assert at.sidebar.selectbox(key="udtraek").value == "2024-01-15"
    assert at.selectbox(key="raadgiver").options == ["Rasmus Rådgiver"]
    assert at.sidebar.selectbox(key="enhed").options == ["Team Nord"]


def test_unverified_email_is_refused_and_logged(
    two_root: Path, audit_db: Path, monkeypatch: pytest.MonkeyPatch, newest: Extract
) -> None:
    user = logged_in(EMAIL["L1"]) | {"email_verified": False}
    at = make_app(two_root, monkeypatch, user=user)
    assert not at.exception
    assert any("ikke bekræftet" in e for e in texts(at.error))
    assert not set(element_types(at)) & FIGURE_TYPES
    assert not [s for s in at.sidebar.selectbox]
    log = events(newest, audit_db)
    assert log.select("action", "email").rows() == [("denied", EMAIL["L1"])]


@pytest.mark.parametrize("value", ["yes", "off", "2", " 0", "true", ""])
def test_demo_setting_refuses_undocumented_values(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STYRING_DEMO", value)
    with pytest.raises(SettingError):
        demo_setting()


@pytest.mark.parametrize(("value", "on"), [("1", True), ("0", False), (None, True)])
def test_demo_setting_documented_values(value: str | None, on: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if value is None:
        monkeypatch.delenv("STYRING_DEMO", raising=False)
    else:
        monkeypatch.setenv("STYRING_DEMO", value)
    assert demo_setting() is on


def test_app_refuses_to_start_on_a_bad_demo_setting(
    two_root: Path, audit_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STYRING_DEMO", "ja")
    at = make_app(two_root, monkeypatch, auth=False)
    assert texts(at.error) == ["STYRING_DEMO skal være 1 eller 0, ikke 'ja'."]
    assert not at.sidebar.selectbox and not at.title


def test_vanished_unit_is_not_for_a_caseworker_of_its_old_parent(newest: Extract, older: Extract) -> None:
    # R1 is raadgiver in TA today; TX (gone, old parent TA) is for the leaders above it only.
    r1 = viewer_for_email(newest, EMAIL["R1"])
    assert r1 is not None
    assert aggregate_units(older, r1) == {"TA"}
