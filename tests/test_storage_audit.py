"""The audit log on both engines: append-only in the database itself, a hash chain that
`verify` checks (with checkpoints for what the chain alone cannot see), writers at once, and
the previous release's log carried over unchanged and sealed."""

from __future__ import annotations

import itertools
import json
import logging
import multiprocessing
import sqlite3
import threading
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from metrics import audit, storage
from metrics.audit import AuditEvent, Checkpoint, append, append_many, count_events, read_checkpoint, verify

# The previous release's schema (metrics/audit.py before the chain), verbatim.
PREVIOUS_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_event (
    event_id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at_utc        TEXT    NOT NULL,
    employee_id   TEXT,
    name          TEXT,
    email         TEXT,
    role          TEXT,
    unit_id       TEXT,
    page          TEXT    NOT NULL,
    action        TEXT    NOT NULL CHECK (action IN ('view', 'download', 'denied')),
    allowed       INTEGER NOT NULL CHECK (allowed IN (0, 1)),
    target        TEXT,
    extract_as_of TEXT,
    n_cases       INTEGER NOT NULL,
    CHECK ((action = 'denied') = (allowed = 0))
);
CREATE TABLE IF NOT EXISTS audit_case (
    event_id INTEGER NOT NULL REFERENCES audit_event (event_id),
    case_id  TEXT    NOT NULL,
    PRIMARY KEY (event_id, case_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS audit_case_by_case ON audit_case (case_id);
CREATE INDEX IF NOT EXISTS audit_event_by_time ON audit_event (at_utc);
CREATE INDEX IF NOT EXISTS audit_event_by_employee ON audit_event (employee_id);
CREATE TRIGGER IF NOT EXISTS audit_event_append_only_u BEFORE UPDATE ON audit_event
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_event_append_only_d BEFORE DELETE ON audit_event
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_case_append_only_u BEFORE UPDATE ON audit_case
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_case_append_only_d BEFORE DELETE ON audit_case
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""
# Three events as the previous release wrote them; id 3 is missing (a rolled-back append).
PREVIOUS_ROWS = [
    (
        1,
        "2026-10-01T08:00:00.000000Z",
        "R1",
        "Rasmus",
        "r@k.dk",
        "raadgiver",
        "TA",
        "sag",
        "view",
        1,
        None,
        "2026-09-25",
        2,
    ),
    (
        2,
        "2026-10-01T08:05:00.000000Z",
        "R1",
        "Rasmus",
        "r@k.dk",
        "raadgiver",
        "TA",
        "sag",
        "denied",
        0,
        "sagen C9",
        "2026-09-25",
        1,
    ),
    (
        4,
        "2026-10-02T09:00:00.000000Z",
        None,
        None,
        "x@y.dk",
        None,
        None,
        "login",
        "denied",
        0,
        "login x@y.dk",
        None,
        0,
    ),
]
PREVIOUS_CASES = [(1, "C1"), (1, "C2"), (2, "C9")]


def make_previous_release_log(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(PREVIOUS_SCHEMA)
    conn.executemany(f"INSERT INTO audit_event VALUES ({', '.join('?' * 13)})", PREVIOUS_ROWS)
    conn.executemany("INSERT INTO audit_case VALUES (?, ?)", PREVIOUS_CASES)
    conn.commit()
    conn.close()


def ev(n: int, action: audit.Action = "view", cases: tuple[str, ...] = ()) -> AuditEvent:
    return AuditEvent(
        page="sag",
        action=action,
        employee_id=f"E{n}",
        name=f"Person {n}",
        case_ids=cases,
        at=datetime(2026, 11, 20, 8, n, tzinfo=UTC),
    )


def five(url: str) -> list[int]:
    return append_many([ev(i, "denied" if i == 2 else "view", (f"C{i}",)) for i in range(1, 6)], url)


def is_pg(url: str) -> bool:
    return url.startswith("postgresql")


def raw(url: str, *sql: str, params: dict[str, Any] | None = None) -> None:
    with storage.engine(url).begin() as conn:
        for s in sql:
            conn.execute(text(s), params or {})


def tamper(url: str, *sql: str, params: dict[str, Any] | None = None) -> None:
    """What someone who owns the database can do: switch the guards off, then write."""
    if is_pg(url):
        off = ["ALTER TABLE audit_event DISABLE TRIGGER ALL", "ALTER TABLE audit_case DISABLE TRIGGER ALL"]
        on = [s.replace("DISABLE", "ENABLE") for s in off]
        raw(url, *off, *sql, *on, params=params)
    else:
        with storage.engine(url).begin() as conn:
            names = (
                conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars().all()
            )
            for name in names:
                conn.execute(text(f"DROP TRIGGER {name}"))
            for s in sql:
                conn.execute(text(s), params or {})


def stored(url: str) -> list[tuple[Any, ...]]:
    with storage.engine(url).connect() as conn:
        events = conn.execute(text("SELECT * FROM audit_event ORDER BY event_id")).all()
        cases = conn.execute(text("SELECT event_id, case_id FROM audit_case ORDER BY 1, 2")).all()
    return [tuple(r) for r in events] + [tuple(r) for r in cases]


# --- the database refuses ----------------------------------------------------------------------


def test_update_delete_truncate_refused(db_url: str) -> None:
    five(db_url)
    before = stored(db_url)
    statements = [
        "UPDATE audit_event SET action = 'view', allowed = 1 WHERE event_id = 2",
        "DELETE FROM audit_event WHERE event_id = 5",
        "UPDATE audit_case SET case_id = 'C9'",
        "DELETE FROM audit_case",
    ]
    if is_pg(db_url):
        statements += ["TRUNCATE audit_case", "TRUNCATE audit_event CASCADE"]
    for sql in statements:
        with pytest.raises(DBAPIError, match="append-only"):
            raw(db_url, sql)
    assert stored(db_url) == before
    assert verify(db_url).ok


def test_insert_over_an_existing_id_refused(db_url: str) -> None:
    """The denied row 2 cannot be rewritten as a view by an insert that replaces it."""
    five(db_url)
    before = stored(db_url)
    row = "(2, '2026-11-20T08:02:00.000000Z', 'sag', 'view', 1, 0)"
    cols = "(event_id, at_utc, page, action, allowed, n_cases)"
    if is_pg(db_url):
        statements = [
            f"INSERT INTO audit_event {cols} VALUES {row}",
            f"INSERT INTO audit_event {cols} VALUES {row} ON CONFLICT (event_id) DO UPDATE "
            "SET action = 'view', allowed = 1",
            f"INSERT INTO audit_event {cols} VALUES {row} ON CONFLICT DO NOTHING",
            "INSERT INTO audit_case VALUES (2, 'C2') ON CONFLICT DO NOTHING",
        ]
    else:
        statements = [
            f"INSERT INTO audit_event {cols} VALUES {row}",
            f"INSERT OR REPLACE INTO audit_event {cols} VALUES {row}",
            f"REPLACE INTO audit_event {cols} VALUES {row}",
            f"INSERT INTO audit_event {cols} VALUES {row} ON CONFLICT (event_id) DO UPDATE "
            "SET action = 'view', allowed = 1",
            "INSERT OR REPLACE INTO audit_case VALUES (2, 'C2')",
        ]
    for sql in statements:
        with pytest.raises(DBAPIError, match=r"append-only|UNIQUE|unique|duplicate"):
            raw(db_url, sql)
    assert stored(db_url) == before
    assert verify(db_url).ok


def test_a_case_row_slipped_in_ahead_is_never_adopted_by_the_next_event(db_url: str) -> None:
    # Five events (ids 1..5). A plain INSERT of a case row for the next id, 6: PostgreSQL
    # refuses it (foreign key), SQLite does not enforce the key and keeps it. The next append
    # must not become event 6, or the search would say that person was shown C-forged and
    # verify would blame their row as changed: it takes id 7, and C-forged stays on no event.
    five(db_url)
    if is_pg(db_url):
        with pytest.raises(DBAPIError):
            raw(db_url, "INSERT INTO audit_case VALUES (6, 'C-forged')")
    else:
        raw(db_url, "INSERT INTO audit_case VALUES (6, 'C-forged')")
    (new_id,) = append_many([ev(6, cases=("C6",))], db_url)
    assert new_id == (6 if is_pg(db_url) else 7)
    with storage.engine(db_url).connect() as conn:
        shown = conn.execute(
            text("SELECT case_id FROM audit_case WHERE event_id = :e"), {"e": new_id}
        ).scalars().all()
    assert shown == ["C6"]
    result = verify(db_url)
    assert result.ok and result.rows == 6, result.message


# --- verify ------------------------------------------------------------------------------------


def checkpoint_now(url: str) -> Checkpoint:
    v = verify(url)
    assert v.ok
    return Checkpoint(v.rows, v.head)


TAMPERING: dict[str, tuple[list[str], int | None, str]] = {
    # what was done, the first broken event id, words of the message
    "changed": (["UPDATE audit_event SET action = 'view', allowed = 1 WHERE event_id = 2"], 2, "changed"),
    "changed case id": (["UPDATE audit_case SET case_id = 'C7' WHERE event_id = 3"], 3, "changed"),
    "deleted": (
        ["DELETE FROM audit_case WHERE event_id = 3", "DELETE FROM audit_event WHERE event_id = 3"],
        4,
        "row 3",
    ),
    # a row slipped in before the first: every later row sits one place further down
    "inserted": (
        [
            "INSERT INTO audit_event (event_id, at_utc, page, action, allowed, n_cases) "
            "VALUES (0, '2026-11-20T07:00:00.000000Z', 'sag', 'view', 1, 0)"
        ],
        1,
        "row 2",
    ),
    # rows 2 and 3 swap places (every column but the id, case rows too)
    "reordered": (
        [
            "UPDATE audit_event SET event_id = -2 WHERE event_id = 2",
            "UPDATE audit_event SET event_id = 2 WHERE event_id = 3",
            "UPDATE audit_event SET event_id = 3 WHERE event_id = -2",
            "UPDATE audit_case SET event_id = -2 WHERE event_id = 2",
            "UPDATE audit_case SET event_id = 2 WHERE event_id = 3",
            "UPDATE audit_case SET event_id = 3 WHERE event_id = -2",
        ],
        2,
        "row 2",
    ),
}


@pytest.mark.parametrize("how", list(TAMPERING))
def test_verify_names_the_first_broken_row(db_url: str, how: str) -> None:
    five(db_url)
    assert verify(db_url).ok
    sql, broken, words = TAMPERING[how]
    tamper(db_url, *sql)
    result = verify(db_url)
    assert not result.ok
    assert result.broken_event_id == broken
    assert f"event {broken}" in result.message and words in result.message


def test_cut_off_tail_is_caught_by_the_checkpoint(db_url: str) -> None:
    five(db_url)
    cp = checkpoint_now(db_url)
    tamper(db_url, "DELETE FROM audit_case WHERE event_id = 5", "DELETE FROM audit_event WHERE event_id = 5")
    assert verify(db_url).ok  # the chain alone cannot see it
    result = verify(db_url, cp)
    assert not result.ok
    assert "4 rows" in result.message and "counted 5" in result.message


def test_recomputed_chain_is_caught_by_the_checkpoint(db_url: str) -> None:
    five(db_url)
    cp = checkpoint_now(db_url)
    # rewrite row 2 as a view and recompute every hash after it, as a careful forger would
    with storage.engine(db_url).connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(text("SELECT * FROM audit_event ORDER BY event_id"))]
        cases = {r[0]: [r[1]] for r in conn.execute(text("SELECT event_id, case_id FROM audit_case"))}
    rows[1].update(action="view", allowed=1)
    prev = audit.GENESIS
    updates = []
    for row in rows:
        row["prev_hash"] = prev
        row["row_hash"] = prev = audit.row_hash(prev, row, cases.get(row["event_id"], []))
        updates.append(
            f"UPDATE audit_event SET action = '{row['action']}', allowed = {row['allowed']}, "
            f"prev_hash = '{row['prev_hash']}', row_hash = '{row['row_hash']}' WHERE event_id = {row['event_id']}"
        )
    tamper(db_url, *updates)
    assert verify(db_url).ok  # self-consistent again
    result = verify(db_url, cp)
    assert not result.ok
    assert result.broken_event_id == 5 and "checkpoint" in result.message
    # and a checkpoint older than the forgery catches it as well: row 3's hash differs
    assert not verify(db_url, Checkpoint(3, cp.hash)).ok


def test_checkpoint_after_every_append(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    cp_file = tmp_path / "checkpoints.log"
    monkeypatch.setenv("STYRING_AUDIT_CHECKPOINT", str(cp_file))
    with caplog.at_level(logging.INFO, logger="metrics.audit.checkpoint"):
        append(ev(1), db_url)
        append_many([ev(2), ev(3)], db_url)
    lines = cp_file.read_text().splitlines()
    assert [json.loads(line.split(" ", 2)[2])["rows"] for line in lines] == [1, 3]  # one line per append
    logged = [r.getMessage() for r in caplog.records if r.name == "metrics.audit.checkpoint"]
    assert logged == lines  # the same lines in the server log
    newest = read_checkpoint(cp_file, storage.display_url(db_url))
    assert newest is not None and (newest.rows, newest.hash) == (3, verify(db_url).head)
    assert verify(db_url, newest).ok
    # the server log works as a checkpoint source too
    server_log = tmp_path / "server.log"
    server_log.write_text("streamlit started\n" + "\n".join(f"2026-11-29 INFO {m}" for m in logged) + "\n")
    assert read_checkpoint(server_log) == newest


def test_verify_cannot_read(tmp_path: Path) -> None:
    with pytest.raises(audit.AuditUnreadable):
        verify(tmp_path / "missing.sqlite")
    (tmp_path / "junk.sqlite").write_bytes(b"not a database at all" * 100)
    with pytest.raises(audit.AuditUnreadable):
        verify(tmp_path / "junk.sqlite")
    assert not (tmp_path / "missing.sqlite").exists()  # verify never creates a database


# --- many writers -------------------------------------------------------------------------------

WRITERS, PER_WRITER = 4, 60


def _write(url: str, writer: int, start: Any = None) -> None:
    if start is not None:
        start.wait(timeout=60)
    for i in range(PER_WRITER):
        append(
            AuditEvent(
                page=f"w{writer}", action="view", employee_id=f"E{writer}", case_ids=(f"W{writer}-{i}", "X")
            ),
            url,
        )


def _check_all_there(url: str) -> None:
    # 4 writers × 60 events, each with 2 case ids: 240 events, 480 case rows
    assert count_events(url) == (WRITERS * PER_WRITER, 2 * WRITERS * PER_WRITER)
    with storage.engine(url).connect() as conn:
        got = set(conn.execute(text("SELECT case_id FROM audit_case WHERE case_id != 'X'")).scalars())
        pages = conn.execute(text("SELECT page FROM audit_event ORDER BY event_id")).scalars().all()
    assert got == {f"W{w}-{i}" for w in range(WRITERS) for i in range(PER_WRITER)}
    assert sum(a != b for a, b in itertools.pairwise(pages)) > WRITERS - 1  # they did interleave
    result = verify(url)
    assert result.ok and result.rows == WRITERS * PER_WRITER  # one chain, no fork


@pytest.mark.slow
def test_threads_at_once(db_url: str) -> None:
    start = threading.Barrier(WRITERS)
    threads = [threading.Thread(target=_write, args=(db_url, w, start)) for w in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    _check_all_there(db_url)


@pytest.mark.slow
def test_processes_at_once(db_url: str) -> None:
    # spawn: fresh interpreters that also migrate the (empty) database at the same moment
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager, ProcessPoolExecutor(WRITERS, mp_context=ctx) as pool:
        start = manager.Barrier(WRITERS)
        for f in [pool.submit(_write, db_url, w, start) for w in range(WRITERS)]:
            f.result()
    _check_all_there(db_url)


# --- migrations and the previous release ------------------------------------------------------


def test_migrations_on_an_empty_database(db_url: str) -> None:
    storage.engine(db_url)
    with storage.engine(db_url).connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == head_revision()
        assert conn.execute(text("SELECT count(*) FROM audit_event")).scalar() == 0
    assert count_events(db_url) == (0, 0)
    assert verify(db_url).ok


def test_head_revision_from_the_files_is_alembics() -> None:
    assert storage.head_revision() == head_revision()


def test_a_database_at_head_starts_without_alembic(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    storage.engine(db_url)  # a new database: migrated
    storage.dispose(db_url)  # as a new process: the engine and "migrated" forgotten

    def no_alembic(_eng: object) -> None:
        pytest.fail("Alembic started for a database at head")

    monkeypatch.setattr(storage, "migrate", no_alembic)
    storage.engine(db_url)
    assert count_events(db_url) == (0, 0)


def test_a_database_behind_head_is_upgraded(db_url: str) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(storage.MIGRATIONS))
    with storage.raw_engine(db_url).connect() as conn, conn.begin():
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002")  # the release before the notes
    assert not storage.at_head(storage.raw_engine(db_url))
    with storage.engine(db_url).connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == head_revision()
        assert conn.execute(text("SELECT count(*) FROM note_version")).scalar() == 0


def head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(storage.MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def previous_rows_in(url: str) -> list[tuple[Any, ...]]:
    with storage.engine(url).connect() as conn:
        events = conn.execute(
            text(
                "SELECT event_id, at_utc, employee_id, name, email, role, unit_id, page, action, allowed, "
                "target, extract_as_of, n_cases FROM audit_event WHERE event_id <= 4 ORDER BY event_id"
            )
        ).all()
        cases = conn.execute(
            text("SELECT event_id, case_id FROM audit_case WHERE event_id <= 4 ORDER BY 1, 2")
        ).all()
    return [tuple(r) for r in events] + [tuple(r) for r in cases]


def test_previous_release_database_is_migrated_in_place_and_sealed(tmp_path: Path) -> None:
    db = tmp_path / "audit.sqlite"
    make_previous_release_log(db)
    url = storage.db_url(db)
    assert count_events(db) == (4, 3)  # the 3 old events + the seal
    assert previous_rows_in(url) == PREVIOUS_ROWS + PREVIOUS_CASES  # unchanged, same ids
    seal = audit.search(*_system_view(), path=db).filter(audit.pl.col("event_id") == 5).row(0, named=True)
    assert seal["target"] == "forsegling af 3 hændelser fra før hash-kæden"
    assert verify(db).ok
    append(ev(9), db)
    assert verify(db).ok
    # a sealed row cannot change afterwards: the denied attempt rewritten as a view
    tamper(url, "UPDATE audit_event SET action = 'view', allowed = 1 WHERE event_id = 2")
    result = verify(db)
    assert not result.ok and result.broken_event_id == 5 and "sealed" in result.message


def _system_view() -> tuple[Any, Any]:
    from metrics.access import Viewer
    from tests.conftest import make_extract

    return make_extract(), Viewer.system()


def test_existing_audit_db_is_carried_in_unchanged_and_sealed(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    legacy = tmp_path / "old-audit.sqlite"
    make_previous_release_log(legacy)
    monkeypatch.setenv("STYRING_AUDIT_DB", str(legacy))
    new_id = append(ev(9), db_url)  # the first use imports, seals, then appends
    assert new_id == 6  # 1, 2, 4 carried over, 5 the seal
    assert previous_rows_in(db_url) == PREVIOUS_ROWS + PREVIOUS_CASES
    assert count_events(db_url) == (5, 3)
    assert verify(db_url).ok
    # another process starting on the same database imports nothing twice
    storage.dispose(db_url)
    audit._prepared.discard(db_url)
    append(ev(10), db_url)
    assert count_events(db_url) == (6, 3)
    # the legacy file itself is untouched
    assert [tuple(r) for r in sqlite3.connect(legacy).execute("SELECT * FROM audit_event")] == PREVIOUS_ROWS
    tamper(db_url, "UPDATE audit_case SET case_id = 'C3' WHERE event_id = 1 AND case_id = 'C2'")
    assert verify(db_url).broken_event_id == 5  # the seal notices


def test_postgres_fixture_says_what_is_missing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from tests import support_db

    monkeypatch.setattr(support_db, "PG_GLOB", str(tmp_path / "postgresql" / "*" / "bin"))
    with pytest.raises(support_db.PostgresUnavailable, match=r"initdb\): install Debian's postgresql"):
        support_db.pg_bin_dir()


def test_an_unreadable_previous_log_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    legacy = tmp_path / "old.sqlite"
    legacy.write_bytes(b"no sqlite here" * 100)
    monkeypatch.setenv("STYRING_AUDIT_DB", str(legacy))
    with pytest.raises(storage.StorageError, match=r"old\.sqlite"):
        append(ev(1), tmp_path / "new.sqlite")
