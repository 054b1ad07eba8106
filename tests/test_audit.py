"""The audit log: append-only, searchable, scoped to leaders, and safe under concurrent writers."""

from __future__ import annotations

import itertools
import multiprocessing
import re
import sqlite3
import threading
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from metrics import audit
from metrics.access import AccessDenied, Viewer, viewer_for_employee
from metrics.audit import AuditEvent, append, append_many, count_events, local_today, search
from metrics.extract import Extract
from tests.conftest import make_extract
from tests.support_access import AS_OF, tables

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def ex() -> Extract:
    return make_extract(as_of=AS_OF, **tables())


def who(ex: Extract, employee_id: str) -> Viewer:
    v = viewer_for_employee(ex, employee_id)
    assert v is not None
    return v


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_round_trip_and_utc(ex: Extract, tmp_path: Path) -> None:
    db = tmp_path / "a.sqlite"
    r1 = who(ex, "R1")
    ev = AuditEvent(
        **{**AuditEvent.by(r1, "sag", "view", ["C1", "C5", "C1"]).__dict__, "at": at("2024-06-14T09:15:00")}
    )
    event_id = append(ev, db)
    raw = sqlite3.connect(db).execute("SELECT at_utc, n_cases, allowed FROM audit_event").fetchall()
    # stored as UTC text; C1 twice counts once
    assert raw == [("2024-06-14T09:15:00.000000Z", 2, 1)]
    df = search(ex, Viewer.system(), path=db)
    assert df["event_id"].to_list() == [event_id]
    row = df.row(0, named=True)
    assert (row["employee_id"], row["email"], row["page"], row["action"], row["allowed"]) == (
        "R1",
        "rasmus@testkommune.dk",
        "sag",
        "view",
        True,
    )
    assert row["case_ids"] == ["C1", "C5"]
    assert row["extract_as_of"] is None
    # 09:15 UTC is 11:15 in Copenhagen in June (CEST = UTC+2)
    assert (row["at"].hour, row["at"].minute) == (11, 15)


def test_search_filters(ex: Extract, tmp_path: Path) -> None:
    db = tmp_path / "a.sqlite"
    r1, r3, t1 = who(ex, "R1"), who(ex, "R3"), who(ex, "T1")

    def ev(v: Viewer | None, action: audit.Action, ids: list[str], when: str, **kw: str) -> AuditEvent:
        e = AuditEvent.by(v, "sag", action, ids, **kw)
        return AuditEvent(**{**e.__dict__, "at": at(when)})

    ids = append_many(
        [
            ev(r1, "view", ["C1"], "2024-06-14T21:30:00"),  # 23:30 on 14 Jun in Copenhagen
            ev(r1, "denied", ["C2"], "2024-06-14T22:30:00", target="sagen C2"),  # 00:30 on 15 Jun
            ev(r3, "download", ["C3", "C1"], "2024-06-13T08:00:00"),
            ev(t1, "view", ["C2", "C4"], "2024-06-20T08:00:00"),
            ev(None, "denied", [], "2024-06-20T09:00:00", target="login x@y.dk", email="x@y.dk"),
        ],
        db,
    )
    system = Viewer.system()

    def found(**kw: object) -> list[int]:
        return search(ex, system, path=db, **kw)["event_id"].to_list()  # type: ignore[arg-type]

    assert found() == [ids[4], ids[3], ids[1], ids[0], ids[2]]  # newest first
    assert found(case_id="C1") == [ids[0], ids[2]]
    assert found(case_id="C2") == [ids[3], ids[1]]  # the refused attempt is found by its case
    assert found(person="R1") == [ids[1], ids[0]]  # employee_id
    assert found(person="RÅDGIVER") == [ids[1], ids[0], ids[2]]  # part of a name, any case, æøå
    assert found(person="x@y") == [ids[4]]  # part of an email (unknown login)
    assert found(date_from=date(2024, 6, 14), date_to=date(2024, 6, 14)) == [ids[0]]
    assert found(date_from=date(2024, 6, 15)) == [ids[4], ids[3], ids[1]]
    assert found(date_to=date(2024, 6, 13)) == [ids[2]]
    assert found(actions=["denied"]) == [ids[4], ids[1]]
    assert found(limit=2) == [ids[4], ids[3]]
    df = search(ex, system, path=db, actions=["denied"])
    assert df["allowed"].to_list() == [False, False]
    assert df["target"].to_list() == ["login x@y.dk", "sagen C2"]


def test_only_leaders_search_and_only_their_subtree(ex: Extract, tmp_path: Path) -> None:
    db = tmp_path / "a.sqlite"
    # R3 sits in TB, R1 in TA, L1 in D; the unknown login has no unit
    append_many(
        [
            AuditEvent.by(who(ex, "R1"), "sag", "view", ["C1"]),
            AuditEvent.by(who(ex, "R3"), "sag", "view", ["C3"]),
            AuditEvent.by(None, "login", "denied", target="login x@y.dk", email="x@y.dk"),
        ],
        db,
    )
    for employee_id in ["R1", "T1", "AD"]:
        with pytest.raises(AccessDenied):
            search(ex, who(ex, employee_id), path=db)
    leader = who(ex, "L1")  # head of D, not of the root K
    assert set(search(ex, leader, path=db)["employee_id"]) == {"R1", "R3"}
    assert set(search(ex, leader, unit_id="TB", path=db)["employee_id"]) == {"R3"}
    with pytest.raises(AccessDenied):
        search(ex, leader, unit_id="K", path=db)
    # from the root, the unknown login shows too
    assert search(ex, Viewer.system(), path=db)["employee_id"].null_count() == 1


def test_append_only(ex: Extract, tmp_path: Path) -> None:
    db = tmp_path / "a.sqlite"
    append(AuditEvent.by(who(ex, "R1"), "sag", "view", ["C1"]), db)
    conn = sqlite3.connect(db)
    for sql in [
        "UPDATE audit_event SET page = 'x'",
        "DELETE FROM audit_event",
        "UPDATE audit_case SET case_id = 'C9'",
        "DELETE FROM audit_case",
    ]:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute(sql)
    conn.close()
    assert count_events(db) == (1, 1)
    assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone() == ("wal",)
    # and the code that writes the log has no UPDATE or DELETE statement of its own
    for path in [REPO / "metrics" / "audit.py", REPO / "ui" / "auth.py"]:
        text = path.read_text(encoding="utf-8")
        assert not re.search(
            r"UPDATE\s+\w+\s+SET|DELETE\s+FROM|INSERT\s+OR\s+REPLACE|REPLACE\s+INTO", text, re.I
        )


def test_append_many_is_all_or_nothing(ex: Extract, tmp_path: Path) -> None:
    db = tmp_path / "a.sqlite"
    good = AuditEvent.by(who(ex, "R1"), "sag", "view", ["C1"])
    bad = AuditEvent(page="sag", action="peek")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="peek"):
        append_many([good, bad], db)
    assert count_events(db) == (0, 0)


WRITERS, PER_WRITER = 4, 250


def _write(db: str, writer: int, start: threading.Barrier | None = None) -> None:
    if start is not None:  # all writers start together, so their transactions really collide
        start.wait(timeout=60)
    for i in range(PER_WRITER):
        append(
            AuditEvent(
                page=f"w{writer}", action="view", employee_id=f"E{writer}", case_ids=(f"W{writer}-{i}", "X")
            ),
            Path(db),
        )


def _check_all_there(db: Path) -> None:
    # 4 writers × 250 events, each event with 2 case ids: 1000 events, 2000 case rows
    assert count_events(db) == (WRITERS * PER_WRITER, 2 * WRITERS * PER_WRITER)
    conn = sqlite3.connect(db)
    got = {r[0] for r in conn.execute("SELECT case_id FROM audit_case WHERE case_id != 'X'")}
    assert got == {f"W{w}-{i}" for w in range(WRITERS) for i in range(PER_WRITER)}
    per_event = conn.execute(
        "SELECT count(*) FROM audit_case GROUP BY event_id HAVING count(*) != 2"
    ).fetchall()
    assert per_event == []
    # the writers did overlap: in log order the writer changes more often than 3 times
    pages = [r[0] for r in conn.execute("SELECT page FROM audit_event ORDER BY event_id")]
    assert sum(a != b for a, b in itertools.pairwise(pages)) > WRITERS - 1


@pytest.mark.slow
def test_concurrent_threads_lose_nothing(tmp_path: Path) -> None:
    db = tmp_path / "threads.sqlite"
    start = threading.Barrier(WRITERS)
    threads = [threading.Thread(target=_write, args=(str(db), w, start)) for w in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    _check_all_there(db)


@pytest.mark.slow
def test_concurrent_processes_lose_nothing(tmp_path: Path) -> None:
    db = tmp_path / "procs.sqlite"
    # spawn: fresh interpreters, nothing (no open connection, no schema cache) inherited
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager, ProcessPoolExecutor(WRITERS, mp_context=ctx) as pool:
        start = manager.Barrier(WRITERS)
        for f in [pool.submit(_write, str(db), w, start) for w in range(WRITERS)]:
            f.result()
    _check_all_there(db)


def test_local_today_is_the_danish_day() -> None:
    # winter (CET, UTC+1): 23:30 UTC on 29 November is 00:30 on 30 November in Denmark
    assert local_today(datetime(2026, 11, 29, 23, 30, tzinfo=UTC)) == date(2026, 11, 30)
    assert local_today(datetime(2026, 11, 29, 22, 59, tzinfo=UTC)) == date(2026, 11, 29)
    # summer (CEST, UTC+2): the day turns at 22:00 UTC
    assert local_today(datetime(2026, 6, 14, 22, 0, tzinfo=UTC)) == date(2026, 6, 15)
    assert local_today(datetime(2026, 6, 14, 21, 59, tzinfo=UTC)) == date(2026, 6, 14)
