"""AppTest for comments, decisions and action status (ui/notes.py) on Scorecard, Økonomimøde
and Sammenlign, on the small fixture extracts (2026-11-06 and 2026-11-20): what a team
leader writes on a tile shows there with who and when and on the meeting page; an edit is a
new version with history; a save based on a replaced version is refused with who and when
and keeps the typed text; caseworkers and administration get no form; "fra sidste møde",
open decisions on the next agenda and action status updates."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from metrics import notes
from metrics.access import AccessDenied, Viewer, viewer_for_employee
from metrics.extract import Extract
from metrics.scorecard import for_extract, load_scorecard
from tests.conftest import FIXTURE_END
from ui.fmt import fmt_date, md_escape

APP = str(Path(__file__).resolve().parent.parent / "app.py")
EARLIER = date(2026, 11, 6)


@pytest.fixture
def env(app_env: Path) -> Iterator[Path]:
    yield app_env


def persona(ex: Extract, role: str) -> Viewer:
    staff = ex["employees"].filter((pl.col("role") == role) & pl.col("employed_to").is_null())
    v = viewer_for_employee(ex, str(staff["employee_id"][0]))
    assert v is not None
    return v


def open_as(who: Viewer, page: str | None = None, params: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    if page is not None:
        at.switch_page(page)
    for k, v in (params or {}).items():
        at.query_params[k] = v
    at.run()
    at.selectbox(key="vis_som").set_value(who.employee_id).run()
    return ok(at)


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


def captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


def first_kpi(ex: Extract) -> str:
    return for_extract(ex, load_scorecard()).kpis[0].id


def unit_of(at: AppTest) -> str:
    return str(at.selectbox(key="enhed").value)


def test_team_leader_writes_on_a_tile_and_it_shows_there_and_on_the_meeting_page(
    env: Path, small_extract: Extract
) -> None:
    tl = persona(small_extract, "teamleder")
    at = open_as(tl)
    kpi, unit = first_kpi(small_extract), unit_of(at)
    typed = "To sygemeldte i modtagelsen <b>ikke fed</b> *heller ikke*"
    at.button(key=f"noter_{kpi}_skriv").click()  # the form opens on "Skriv …"
    ok(at.run())
    at.text_area(key=f"noter_{kpi}_tekst").input(typed)
    at.button(key=f"noter_{kpi}_gem").click()
    ok(at.run())
    saved = notes.notes_for(small_extract, tl, notes.Subject.kpi(kpi, unit), FIXTURE_END)
    assert [(n.text, n.saved_by, n.kind, n.version) for n in saved] == [
        (typed, tl.employee_id, "explanation", 1)
    ]
    # shown as plain text (no markup), with who and when (Copenhagen time)
    assert typed in texts(at)
    local = saved[0].saved_at.astimezone(ZoneInfo("Europe/Copenhagen"))
    byline = f"**Afvigelsesforklaring** · {md_escape(tl.name)} · {fmt_date(local)} kl. {local:%H:%M}"
    assert byline in captions(at)
    # saved: the form is closed, and opens empty
    assert f"noter_{kpi}_tekst" not in [w.key for w in at.text_area]
    at.button(key=f"noter_{kpi}_skriv").click()
    ok(at.run())
    assert not at.text_area(key=f"noter_{kpi}_tekst").value
    # the meeting page shows it (in the overview of the meeting's notes)
    at.switch_page("views/moede.py")
    ok(at.run())
    assert typed in texts(at)


def test_an_edit_is_a_new_version_and_the_history_shows_both(env: Path, small_extract: Extract) -> None:
    tl = persona(small_extract, "teamleder")
    at = open_as(tl)
    kpi, unit = first_kpi(small_extract), unit_of(at)
    first = notes.add_note(
        small_extract, tl, notes.Subject.kpi(kpi, unit), FIXTURE_END, "explanation", "Første udgave"
    )
    ok(at.run())
    key = f"noter_{kpi}_{first.note_id}"
    assert f"{key}_tekst" not in [w.key for w in at.text_area]  # the form opens on "Ret"
    at.button(key=f"{key}_ret").click()
    ok(at.run())
    assert at.text_area(key=f"{key}_tekst").value == "Første udgave"  # the edit form starts from it
    at.text_area(key=f"{key}_tekst").input("Anden udgave")
    at.button(key=f"{key}_gem").click()
    ok(at.run())
    history = notes.note_history(small_extract, tl, first.note_id)
    assert [(v.version, v.text) for v in history] == [(1, "Første udgave"), (2, "Anden udgave")]
    expander = next(e for e in at.expander if e.label == "Historik (2 versioner)")
    shown = [t.value for t in expander.text]
    assert shown == ["Anden udgave", "Første udgave"]  # newest first
    assert [c.value.split(" · ")[0] for c in expander.caption] == ["Version 2", "Version 1"]


def test_a_conflicting_save_is_refused_with_who_and_when_and_keeps_the_text(
    env: Path, small_extract: Extract
) -> None:
    tl, leader = persona(small_extract, "teamleder"), persona(small_extract, "leder")
    at = open_as(tl)
    kpi, unit = first_kpi(small_extract), unit_of(at)
    subject = notes.Subject.kpi(kpi, unit)
    first = notes.add_note(small_extract, tl, subject, FIXTURE_END, "explanation", "Udgangspunkt")
    ok(at.run())
    key = f"noter_{kpi}_{first.note_id}"
    at.button(key=f"{key}_ret").click()  # the team leader opens the edit form on version 1
    ok(at.run())
    typed = "Min lange forklaring, som ikke må gå tabt"
    at.text_area(key=f"{key}_tekst").input(typed)
    # meanwhile the leader saves version 2
    notes.edit_note(small_extract, leader, first.note_id, 1, "Lederens udgave")
    at.button(key=f"{key}_gem").click()
    ok(at.run())
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and leader.name in errors[0] and "version 2" in errors[0]
    assert "Intet er overskrevet" in errors[0]
    assert at.text_area(key=f"{key}_tekst").value == typed  # nothing typed is lost
    history = notes.note_history(small_extract, tl, first.note_id)
    assert [v.text for v in history] == ["Udgangspunkt", "Lederens udgave"]  # nothing overwritten
    assert "Lederens udgave" in texts(at)  # the newer version is shown to read
    # having read it, saving again is based on version 2: a third version, the second kept
    at.button(key=f"{key}_gem").click()
    ok(at.run())
    history = notes.note_history(small_extract, tl, first.note_id)
    assert [(v.version, v.text) for v in history] == [(1, "Udgangspunkt"), (2, "Lederens udgave"), (3, typed)]
    assert not at.error and f"{key}_tekst" not in [w.key for w in at.text_area]  # saved: form closed


@pytest.mark.parametrize("role", ["raadgiver", "administration"])
def test_caseworker_and_administration_get_no_form_and_the_data_layer_refuses(
    env: Path, small_extract: Extract, role: str
) -> None:
    who = persona(small_extract, role)
    at = open_as(who)
    assert not [w.key for w in at.text_area if w.key and w.key.startswith("noter_")]
    assert not [b.key for b in at.button if b.key and b.key.startswith(("noter_", "handling_"))]
    kpi, unit = first_kpi(small_extract), unit_of(at)
    with pytest.raises(AccessDenied):
        notes.add_note(small_extract, who, notes.Subject.kpi(kpi, unit), FIXTURE_END, "explanation", "x")


def test_the_earlier_meetings_note_shows_as_fra_sidste_moede(env: Path, small_extract: Extract) -> None:
    tl = persona(small_extract, "teamleder")
    kpi = first_kpi(small_extract)
    notes.add_note(
        small_extract, tl, notes.Subject.kpi(kpi, str(tl.unit_id)), EARLIER, "explanation", "Fra mødet før"
    )
    at = open_as(tl)
    assert unit_of(at) == tl.unit_id
    assert "Fra mødet før" in texts(at)
    assert any(c.startswith("Fra sidste møde (6. nov. 2026): **Afvigelsesforklaring**") for c in captions(at))


def test_an_open_decision_of_the_earlier_meeting_is_on_the_next_agenda_with_status_update(
    env: Path, small_extract: Extract
) -> None:
    tl = persona(small_extract, "teamleder")
    kpi = first_kpi(small_extract)
    d = notes.add_note(
        small_extract,
        tl,
        notes.Subject.kpi(kpi, str(tl.unit_id)),
        EARLIER,
        "decision",
        "Vagtordning i modtagelsen",
        owner="Tove",
        due=date(2026, 12, 1),
    )
    at = open_as(tl, "views/moede.py")
    assert "Vagtordning i modtagelsen" in texts(at)
    assert any("Ansvarlig: Tove · frist 1. dec. 2026 · ⚪ Ikke startet" in c for c in captions(at))
    key = f"moede_aaben_{d.note_id}"
    at.button(key=f"{key}_ret").click()
    ok(at.run())
    at.selectbox(key=f"{key}_status").set_value("i_gang")
    at.button(key=f"{key}_gem").click()
    ok(at.run())
    latest = notes.note_history(small_extract, tl, d.note_id)[-1]
    assert (latest.version, latest.status, latest.text) == (2, "i_gang", "Vagtordning i modtagelsen")
    assert any("🔵 I gang" in c for c in captions(at))
    # done: no longer open, so the next agenda does not carry it
    notes.edit_note(
        small_extract, tl, d.note_id, 2, latest.text, owner="Tove", due=latest.due, status="gennemfoert"
    )
    ok(at.run())
    assert "Ingen åbne beslutninger fra tidligere møder." in captions(at)
    assert f"{key}_status" not in [w.key for w in at.selectbox]


def test_an_action_status_update_shows_on_the_tile(env: Path, small_extract: Extract) -> None:
    tl = persona(small_extract, "teamleder")
    card = for_extract(small_extract, load_scorecard())
    spec = next(k for k in card.kpis if k.actions)
    at = open_as(tl)
    key = f"handling_{spec.id}_0"
    assert f"{key}_status" not in [w.key for w in at.selectbox]  # drawn once "Handlinger" is opened
    at.session_state[f"handlinger_aaben_{spec.id}"] = True
    ok(at.run())
    assert any(c.startswith("⚪ Status: Ikke startet") for c in captions(at))
    at.selectbox(key=f"{key}_status").set_value("i_gang")
    at.date_input(key=f"{key}_dato").set_value(date(2026, 11, 18))
    at.text_input(key=f"{key}_note").input("Opstart med to rådgivere")
    at.button(key=f"{key}_gem").click()
    ok(at.run())
    s = notes.action_status(small_extract, tl, spec.actions[0].id, unit_of(at))
    assert s is not None and (s.status, s.status_on, s.note) == (
        "i_gang",
        date(2026, 11, 18),
        "Opstart med to rådgivere",
    )
    assert any(c.startswith("🔵 Status: **I gang** pr. 18. nov. 2026 · " + tl.name) for c in captions(at))
    assert "Opstart med to rådgivere" in texts(at)


def test_sammenlign_shows_the_kpi_notes(env: Path, small_extract: Extract) -> None:
    tl = persona(small_extract, "teamleder")
    kpi = first_kpi(small_extract)
    notes.add_note(
        small_extract,
        tl,
        notes.Subject.kpi(kpi, str(tl.unit_id)),
        FIXTURE_END,
        "explanation",
        "Set på Sammenlign",
    )
    at = open_as(tl, "views/sammenlign.py")
    assert "Set på Sammenlign" in texts(at)
    assert not [w for w in at.text_area if w.key and w.key.startswith("noter_")]  # read-only there


def test_a_decision_from_the_tile_form_needs_owner_and_due_date(env: Path, small_extract: Extract) -> None:
    tl = persona(small_extract, "teamleder")
    at = open_as(tl)
    kpi, unit = first_kpi(small_extract), unit_of(at)
    key = f"noter_{kpi}"
    at.button(key=f"{key}_skriv").click()
    ok(at.run())
    at.radio(key=f"{key}_type").set_value("decision")
    at.text_area(key=f"{key}_tekst").input("Ekstra visitationsmøde")
    at.button(key=f"{key}_gem").click()
    ok(at.run())
    # no owner, no due date: refused with the data layer's reason, the text kept
    assert [e.value for e in at.error] == [md_escape("Ikke gemt: Ansvarlig mangler")]
    assert at.text_area(key=f"{key}_tekst").value == "Ekstra visitationsmøde"
    at.text_input(key=f"{key}_ansvarlig").input("Tove")
    at.date_input(key=f"{key}_frist").set_value(date(2026, 12, 4))
    at.button(key=f"{key}_gem").click()
    ok(at.run())
    [d] = notes.notes_for(small_extract, tl, notes.Subject.kpi(kpi, unit), FIXTURE_END)
    assert (d.kind, d.text, d.owner, d.due, d.status) == (
        "decision", "Ekstra visitationsmøde", "Tove", date(2026, 12, 4), "ikke_startet",
    )  # fmt: skip
    assert any("Ansvarlig: Tove · frist 4. dec. 2026 · ⚪ Ikke startet" in c for c in captions(at))
    assert not at.warning[1:]  # only the demo banner: no widget-state warnings


def test_a_case_review_note_on_the_meeting_page_is_audited(
    env: Path, small_extract: Extract, private_database: Path
) -> None:
    tl = persona(small_extract, "teamleder")
    at = open_as(tl, "views/moede.py")
    case = at.selectbox(key="moede_sag").options[0]
    at.selectbox(key="moede_sag").set_value(case)
    ok(at.run())
    at.button(key="moede_sagsnote_skriv").click()
    ok(at.run())
    at.text_area(key="moede_sagsnote_tekst").input("Gennemgået: plejefamilie forlænget")
    at.button(key="moede_sagsnote_gem").click()
    ok(at.run())
    subject = notes.Subject.case(small_extract, case)
    [n] = notes.notes_for(small_extract, tl, subject, FIXTURE_END)
    assert (n.kind, n.text, n.saved_by) == (
        "case_review",
        "Gennemgået: plejefamilie forlænget",
        tl.employee_id,
    )
    assert "Gennemgået: plejefamilie forlænget" in texts(at)
    with sqlite3.connect(private_database) as conn:
        rows = conn.execute(
            "SELECT e.page, e.action, e.employee_id, e.target FROM audit_event e "
            "JOIN audit_case c ON c.event_id = e.event_id WHERE c.case_id = ?",
            (case,),
        ).fetchall()
    written = [r for r in rows if r[3] and r[3].startswith("sagsnote ") and r[3].endswith(" skrevet")]
    assert [(p, a, e) for p, a, e, _ in written] == [("moede", "view", tl.employee_id)]
    assert any(r[3] and r[3].startswith("sagsnoter på sagen") for r in rows)  # reading it is logged too
