"""Comments, decisions, case review notes and action status on both engines: versions, never
overwritten, conflicts with who and when, scope for writing and reading, and the audit trail
of case notes. The organisation is tests/support_access.py's: L1 leads D (TA + TB), T1 leads
TA, R1 is a caseworker in TA, AD is administration; C1 (TA), C3 (TB) are cases."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from metrics import notes, storage
from metrics.access import AccessDenied, Viewer, viewer_for_employee
from metrics.audit import search
from metrics.extract import Extract
from metrics.notes import EditConflict, NoteError, Subject
from metrics.scorecard import ScorecardError, load_scorecard
from tests.conftest import make_extract
from tests.support_access import AS_OF, tables

P1, P2 = date(2024, 5, 31), AS_OF  # two meetings: the earlier and this extract's as_of


@pytest.fixture(scope="module")
def ex() -> Extract:
    return make_extract(as_of=AS_OF, **tables())


def who(ex: Extract, employee_id: str) -> Viewer:
    v = viewer_for_employee(ex, employee_id)
    assert v is not None
    return v


def rows_in(url: str, table: str) -> int:
    with storage.engine(url).connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() or 0)


def test_edit_is_a_new_version_and_a_stale_save_is_refused_with_who_and_when(
    db_url: str, ex: Extract
) -> None:
    t1, l1 = who(ex, "T1"), who(ex, "L1")
    kpi = Subject.kpi("frister_overholdt_pct", "TA")
    first = notes.add_note(ex, t1, kpi, P2, "explanation", "To sygemeldte i teamet")
    assert (first.version, first.saved_by, first.saved_by_name, first.created_by) == (
        1,
        "T1",
        "Tove Teamleder",
        "T1",
    )
    assert first.saved_at.tzinfo == UTC and abs((datetime.now(UTC) - first.saved_at).total_seconds()) < 60
    second = notes.edit_note(ex, l1, first.note_id, 1, "To sygemeldte; vikar fra 1. juli")
    assert (second.version, second.saved_by, second.created_by) == (2, "L1", "T1")
    # T1 still has version 1 open and saves: refused, naming L1 and when L1 saved
    with pytest.raises(EditConflict) as err:
        notes.edit_note(ex, t1, first.note_id, 1, "Min ændring")
    e = err.value
    assert (e.what, e.based_on, e.version, e.by, e.by_name, e.at) == (
        first.note_id, 1, 2, "L1", "Lise Leder", second.saved_at,
    )  # fmt: skip
    assert "Lise Leder" in str(e) and "Intet er overskrevet" in str(e)
    history = notes.note_history(ex, t1, first.note_id)
    assert [(v.version, v.text, v.saved_by) for v in history] == [
        (1, "To sygemeldte i teamet", "T1"),
        (2, "To sygemeldte; vikar fra 1. juli", "L1"),
    ]
    assert [n.text for n in notes.notes_for(ex, t1, kpi, P2)] == ["To sygemeldte; vikar fra 1. juli"]


def test_history_survives_edits_and_withdrawal(db_url: str, ex: Extract) -> None:
    l1 = who(ex, "L1")
    acc = Subject.account("5.28.21", "D")
    n = notes.add_note(
        ex, l1, acc, P2, "decision", "Gennemgå anbringelser", owner="Lise", due=date(2024, 7, 1)
    )
    assert (n.status, n.owner, n.due) == ("ikke_startet", "Lise", date(2024, 7, 1))
    n2 = notes.edit_note(ex, l1, n.note_id, 1, n.text, owner="Lise", due=date(2024, 7, 1), status="i_gang")
    n3 = notes.withdraw_note(ex, l1, n.note_id, 2)
    assert (n3.version, n3.withdrawn, n3.text, n3.status) == (3, True, n.text, "i_gang")
    assert notes.notes_for(ex, l1, acc, P2) == []  # withdrawn: not shown
    assert [x.version for x in notes.notes_for(ex, l1, acc, P2, include_withdrawn=True)] == [3]
    assert [(v.version, v.status, v.withdrawn) for v in notes.note_history(ex, l1, n.note_id)] == [
        (1, "ikke_startet", False),
        (2, "i_gang", False),
        (3, "i_gang", True),
    ]
    assert n2.version == 2
    assert rows_in(db_url, "note_version") == 3 and rows_in(db_url, "note") == 1
    # the database itself refuses to change or remove a version
    for sql in ["UPDATE note_version SET text = 'x'", "DELETE FROM note_version", "DELETE FROM note"]:
        with pytest.raises(DBAPIError, match="append-only"), storage.engine(db_url).begin() as conn:
            conn.execute(text(sql))
    assert rows_in(db_url, "note_version") == 3


def test_writer_outside_scope_is_refused_and_nothing_written(db_url: str, ex: Extract) -> None:
    t1, r1, ad, l1 = who(ex, "T1"), who(ex, "R1"), who(ex, "AD"), who(ex, "L1")
    refused = [
        (t1, Subject.kpi("k", "TB")),  # a team leader outside her team
        (t1, Subject.kpi("k", "D")),  # nor above it
        (r1, Subject.kpi("k", "TA")),  # a caseworker writes no KPI note, even in her unit
        (r1, Subject.account("5.28", "TA")),
        (ad, Subject.kpi("k", "D")),  # administration sees aggregates, writes nothing
    ]
    for viewer, subject in refused:
        assert not notes.can_write(ex, viewer, subject)
        with pytest.raises(AccessDenied):
            notes.add_note(ex, viewer, subject, P2, "explanation", "x")
    assert rows_in(db_url, "note") == 0
    # an edit by someone outside the note's scope is refused too
    mine = notes.add_note(ex, l1, Subject.kpi("k", "TB"), P2, "explanation", "Leders note")
    with pytest.raises(AccessDenied):
        notes.edit_note(ex, t1, mine.note_id, 1, "overskrevet?")
    assert [v.text for v in notes.note_history(ex, l1, mine.note_id)] == ["Leders note"]
    with pytest.raises(AccessDenied):  # and T1 cannot even read it
        notes.note_history(ex, t1, mine.note_id)


def test_case_notes_need_case_scope_and_are_audited(db_url: str, ex: Extract) -> None:
    t1, ad, r1 = who(ex, "T1"), who(ex, "AD"), who(ex, "R1")
    c1, c3 = Subject.case(ex, "C1"), Subject.case(ex, "C3")
    assert (c1.unit_id, c3.unit_id) == ("TA", "TB")
    note = notes.add_note(ex, t1, c1, P2, "case_review", "Handleplan mangler", page="moede")
    for viewer, subject in [(t1, c3), (ad, c1), (r1, c1)]:  # C3 is in TB; AD sees no cases; R1 writes none
        with pytest.raises(AccessDenied):
            notes.add_note(ex, viewer, subject, P2, "case_review", "x", page="moede")
    assert [n.text for n in notes.notes_for(ex, r1, c1, P2, page="sag")] == [
        "Handleplan mangler"
    ]  # R1's case
    with pytest.raises(AccessDenied):
        notes.notes_for(ex, ad, c1, P2, page="sag")
    log = search(ex, Viewer.system(), path=db_url).sort("event_id")
    assert log.select("employee_id", "page", "action", "case_ids").rows() == [
        ("T1", "moede", "view", ["C1"]),  # the write
        ("T1", "moede", "denied", ["C3"]),
        ("AD", "moede", "denied", ["C1"]),
        ("R1", "moede", "denied", ["C1"]),
        ("R1", "sag", "view", ["C1"]),  # the read
        ("AD", "sag", "denied", ["C1"]),
    ]
    assert log["target"][0] == f"sagsnote {note.note_id} skrevet"
    with pytest.raises(NoteError):  # a KPI gets no case review, a case no explanation
        notes.add_note(ex, t1, Subject.kpi("k", "TA"), P2, "case_review", "x")
    with pytest.raises(NoteError):
        notes.add_note(ex, t1, c1, P2, "explanation", "x")


def test_content_rules(db_url: str, ex: Extract) -> None:
    t1 = who(ex, "T1")
    kpi = Subject.kpi("k", "TA")
    for kwargs in [
        {"kind": "decision", "text_": "x", "due": date(2024, 7, 1)},  # no owner
        {"kind": "decision", "text_": "x", "owner": "Tove"},  # no due date
        {"kind": "decision", "text_": "x", "owner": "Tove", "due": date(2024, 7, 1), "status": "maaske"},
        {"kind": "explanation", "text_": "x", "owner": "Tove"},  # only decisions have an owner
        {"kind": "explanation", "text_": "   "},  # empty
        {"kind": "explanation", "text_": "x" * (notes.MAX_TEXT + 1)},
    ]:
        with pytest.raises(NoteError):
            notes.add_note(ex, t1, kpi, P2, **kwargs)  # type: ignore[arg-type]
    assert rows_in(db_url, "note") == 0


def test_from_last_meeting_and_open_decisions(db_url: str, ex: Extract) -> None:
    l1, t1 = who(ex, "L1"), who(ex, "T1")
    kpi_ta = Subject.kpi("k", "TA")
    old = notes.add_note(ex, t1, kpi_ta, P1, "explanation", "Maj: ny medarbejder")
    notes.edit_note(ex, t1, old.note_id, 1, "Maj: ny medarbejder under oplæring")
    now = notes.add_note(ex, t1, kpi_ta, P2, "explanation", "Juni: på vej op")
    last = notes.previous_note(ex, t1, kpi_ta, P2)
    assert last is not None and (last.note_id, last.version, last.period) == (old.note_id, 2, P1)
    assert notes.previous_note(ex, t1, kpi_ta, P1) is None  # nothing before the first meeting
    assert now.period == P2

    def decide(v: Viewer, unit: str, period: date, what: str, due: date) -> notes.NoteVersion:
        return notes.add_note(ex, v, Subject.kpi("k", unit), period, "decision", what, owner="Tove", due=due)

    open_ta = decide(t1, "TA", P1, "Vikar", date(2024, 6, 30))
    open_d = decide(l1, "D", P1, "Budgetmøde", date(2024, 6, 20))
    done_tb = decide(l1, "TB", P1, "Ryd op", date(2024, 6, 1))
    notes.edit_note(
        ex, l1, done_tb.note_id, 1, "Ryd op", owner="Tove", due=date(2024, 6, 1), status="gennemfoert"
    )
    gone = decide(l1, "TB", P1, "Trukket", date(2024, 6, 2))
    notes.withdraw_note(ex, l1, gone.note_id, 1)
    decide(l1, "TA", P2, "Denne uges beslutning", date(2024, 6, 10))  # this period: not on the next agenda
    # D's subtree, earliest due first: open_d (20 Jun), open_ta (30 Jun); done and withdrawn left out
    assert [d.note_id for d in notes.open_decisions(ex, l1, "D", P2)] == [open_d.note_id, open_ta.note_id]
    assert [d.note_id for d in notes.open_decisions(ex, t1, "TA", P2)] == [open_ta.note_id]
    with pytest.raises(AccessDenied):
        notes.open_decisions(ex, t1, "D", P2)


def test_meeting_notes_frame(db_url: str, ex: Extract) -> None:
    l1, t1, ad = who(ex, "L1"), who(ex, "T1"), who(ex, "AD")
    a = notes.add_note(ex, t1, Subject.kpi("k", "TA"), P2, "explanation", "Forklaring")
    b = notes.add_note(
        ex, l1, Subject.account("5.28", "D"), P2, "decision", "Besluttet", owner="Lise", due=P2
    )
    c = notes.add_note(ex, t1, Subject.case(ex, "C1"), P2, "case_review", "Sagsnote")
    notes.add_note(ex, t1, Subject.kpi("k", "TA"), P1, "explanation", "Sidste møde")  # other period
    frame = notes.meeting_notes(ex, l1, "D", P2)
    assert frame.schema == notes.NOTES_SCHEMA
    # sorted by unit, subject kind, subject: D/account, TA/case, TA/kpi
    assert frame.select("note_id", "unit_id", "subject_kind", "text", "owner", "due", "status").rows() == [
        (b.note_id, "D", "account", "Besluttet", "Lise", P2, "ikke_startet"),
        (c.note_id, "TA", "case", "Sagsnote", None, None, None),
        (a.note_id, "TA", "kpi", "Forklaring", None, None, None),
    ]
    assert frame["saved_by_name"].to_list() == ["Lise Leder", "Tove Teamleder", "Tove Teamleder"]
    # administration sees the aggregate notes but no case note; a team leader only her team
    assert notes.meeting_notes(ex, ad, "D", P2)["note_id"].to_list() == [b.note_id, a.note_id]
    assert notes.meeting_notes(ex, t1, "TA", P2)["note_id"].to_list() == [c.note_id, a.note_id]
    views = search(ex, Viewer.system(), path=db_url).filter(pl.col("page") == "moede")
    assert views.select("employee_id", "case_ids").rows() == [("T1", ["C1"]), ("L1", ["C1"])]


@pytest.mark.slow
def test_concurrent_savers_exactly_one_wins(db_url: str, ex: Extract) -> None:
    t1, l1 = who(ex, "T1"), who(ex, "L1")
    note = notes.add_note(ex, t1, Subject.kpi("k", "TA"), P2, "explanation", "v1")
    savers = 6
    start = threading.Barrier(savers)
    won: list[int] = []
    lost: list[EditConflict] = []

    def save(i: int) -> None:
        start.wait(timeout=60)
        try:
            won.append(notes.edit_note(ex, t1 if i % 2 else l1, note.note_id, 1, f"saver {i}").version)
        except EditConflict as e:
            lost.append(e)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(savers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert won == [2] and len(lost) == savers - 1
    history = notes.note_history(ex, l1, note.note_id)
    assert [v.version for v in history] == [1, 2]
    assert all(e.version == 2 and e.at == history[1].saved_at for e in lost)


def test_action_status(db_url: str, ex: Extract) -> None:
    card = load_scorecard()
    action = card.kpis[0].actions[0].id
    assert action == "vagtordning_modtagelsen"
    t1, l1, r1 = who(ex, "T1"), who(ex, "L1"), who(ex, "R1")
    assert notes.action_status(ex, t1, action, "TA") is None
    s1 = notes.set_action_status(
        ex, t1, action, "TA", "i_gang", None, on=date(2024, 6, 1), note="Vagtplan lagt"
    )
    assert (s1.version, s1.status, s1.status_on, s1.saved_by) == (1, "i_gang", date(2024, 6, 1), "T1")
    with pytest.raises(EditConflict) as err:  # L1 also thought there was no status yet
        notes.set_action_status(ex, l1, action, "TA", "ikke_startet", None)
    assert (err.value.by, err.value.version) == ("T1", 1)
    s2 = notes.set_action_status(ex, l1, action, "TA", "gennemfoert", 1, on=date(2024, 6, 14))
    assert [(h.version, h.status, h.saved_by) for h in notes.action_history(ex, r1, action, "TA")] == [
        (1, "i_gang", "T1"),
        (2, "gennemfoert", "L1"),
    ]
    assert notes.action_statuses(ex, l1, "TA") == {action: s2}
    assert notes.action_statuses(ex, l1, "TB") == {}  # per unit
    with pytest.raises(AccessDenied):
        notes.set_action_status(ex, r1, action, "TA", "i_gang", 2)  # caseworkers read, not write
    with pytest.raises(AccessDenied):
        notes.set_action_status(ex, t1, action, "TB", "i_gang", None)  # outside her team
    with pytest.raises(NoteError, match="ukendt handling"):
        notes.set_action_status(ex, t1, "no_such_action", "TA", "i_gang", None, scorecard=card)
    assert rows_in(db_url, "action_status") == 2


ACTION = '[[perspectives.kpis.actions]]\n{id}text = "x"\nsuccess_criterion = "y"\n'
CARD = (
    'title = "T"\n[[perspectives]]\nid = "p1"\nname = "P"\n'
    '[[perspectives.kpis]]\nid = "k1"\nmetric = "aktive_sager"\ntarget = 10\ndirection = "lower"\n{a1}'
    '[[perspectives.kpis]]\nid = "k2"\nmetric = "aktive_sager"\ntarget = 10\ndirection = "lower"\n{a2}'
)


def test_scorecard_action_ids_are_required_and_unique(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(CARD.format(a1=ACTION.format(id='id = "a"\n'), a2=ACTION.format(id='id = "a"\n')))
    with pytest.raises(ScorecardError) as err:
        load_scorecard(path)
    assert str(err.value) == (
        f'{path}: perspectives["p1"].kpis["k2"].actions[1].id: id \'a\' er brugt to gange '
        '(også i perspectives["p1"].kpis["k1"].actions[1].id)'
    )
    path.write_text(CARD.format(a1=ACTION.format(id=""), a2=""))
    with pytest.raises(ScorecardError, match=r'kpis\["k1"\]\.actions\[1\]\.id'):
        load_scorecard(path)
    path.write_text(CARD.format(a1=ACTION.format(id='id = "a"\n'), a2=ACTION.format(id='id = "b"\n')))
    assert [a.id for k in load_scorecard(path).kpis for a in k.actions] == ["a", "b"]
    shipped = [a.id for k in load_scorecard().kpis for a in k.actions]
    assert len(shipped) == len(set(shipped)) == 8


def test_a_save_racing_an_uncommitted_one_is_refused(db_url: str, ex: Extract) -> None:
    """The deterministic form of the race: another save of version 2 is in flight (inserted,
    not committed) when ours starts. PostgreSQL lets ours read version 1 as the newest and
    then blocks its insert on the primary key; SQLite makes ours wait for the write lock.
    Either way ours must end in EditConflict naming the other saver, and nothing is lost."""
    t1 = who(ex, "T1")
    note = notes.add_note(ex, t1, Subject.kpi("k", "TA"), P2, "explanation", "v1")
    inserted, release = threading.Event(), threading.Event()

    def other() -> None:
        with storage.write(db_url) as conn:
            conn.execute(
                text(
                    "INSERT INTO note_version (note_id, version, text, withdrawn, saved_at, saved_by, saved_by_name, "
                    "saved_by_role) VALUES (:id, 2, 'Leders udgave', 0, '2024-06-14T10:00:00.000000Z', 'L1', "
                    "'Lise Leder', 'leder')"
                ),
                {"id": note.note_id},
            )
            inserted.set()
            release.wait(timeout=30)

    outcome: list[object] = []

    def mine() -> None:
        try:
            outcome.append(notes.edit_note(ex, t1, note.note_id, 1, "Min udgave"))
        except EditConflict as e:
            outcome.append(e)

    first = threading.Thread(target=other)
    first.start()
    assert inserted.wait(timeout=30)
    second = threading.Thread(target=mine)
    second.start()
    second.join(timeout=1.0)
    assert second.is_alive()  # ours waits for the other transaction
    release.set()
    first.join(timeout=30)
    second.join(timeout=30)
    (e,) = outcome
    assert isinstance(e, EditConflict)
    assert (e.version, e.by, e.by_name, e.at) == (
        2,
        "L1",
        "Lise Leder",
        datetime(2024, 6, 14, 10, tzinfo=UTC),
    )
    assert [v.text for v in notes.note_history(ex, t1, note.note_id)] == ["v1", "Leders udgave"]
