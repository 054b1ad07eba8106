"""The one database for everything users write: the audit log, comments, decisions, action status.

One setting names it, `STYRING_DB_URL` (a SQLAlchemy URL). Default: the SQLite file
`data/styring.sqlite` (git-ignored, zero setup). A `postgresql+psycopg://user@host/db` URL
puts it on PostgreSQL, so several app servers behind a load balancer share one database.

The schema is kept by the Alembic migrations in `metrics/migrations/`, upgraded to head at
first use in each process, inside one write-locked transaction (SQLite `BEGIN IMMEDIATE`,
PostgreSQL an advisory transaction lock): processes starting together migrate exactly once,
the others wait and find the schema at head. SQLite runs in WAL mode with a busy timeout, so
writers queue instead of failing.

This module owns engines, connections and migrations; `metrics.audit` and `metrics.notes`
decide what is written and who may write it. Pages never open a connection.
"""

from __future__ import annotations

import os
import random
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from time import monotonic, sleep
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

DB_URL_ENV = "STYRING_DB_URL"
DEFAULT_DB = Path(__file__).resolve().parent.parent / "data" / "styring.sqlite"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_S = 30.0
# pg_advisory_xact_lock keys: one per kind of serialised work.
LOCK_MIGRATE = 0x5354_0001
LOCK_AUDIT = 0x5354_0002


class StorageError(RuntimeError):
    """The database cannot be opened, migrated, read or written (the cause is chained)."""


def db_url(where: str | Path | None = None) -> str:
    """The database URL: a Path is a SQLite file, a str a SQLAlchemy URL, None the setting."""
    if isinstance(where, Path):
        return f"sqlite:///{where.resolve()}"
    url = (where if "://" in where else f"sqlite:///{Path(where).resolve()}") if where else None
    url = url or os.environ.get(DB_URL_ENV) or f"sqlite:///{DEFAULT_DB}"
    # One spelling per SQLite file, so caches, locks and checkpoints agree on it.
    file = sqlite_file(url)
    return url if file is None or make_url(url).query else f"sqlite:///{file}"


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for another engine or an in-memory database)."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database).resolve()


def display_url(url: str) -> str:
    """The URL without its password, for logs and messages."""
    return make_url(url).render_as_string(hide_password=True)


def is_postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def _ensure_wal(dbapi_conn: sqlite3.Connection) -> None:
    """WAL is a property of the file; switching needs an exclusive lock that SQLite does not
    wait for, so when several processes open a new file at once, retry until the timeout."""
    deadline = monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            if str(dbapi_conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
                return
            dbapi_conn.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or monotonic() > deadline:
                raise
            sleep(0.005 + random.random() * 0.02)


def _sqlite_events(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Transactions are begun by the "begin" hook below, not by the driver.
        dbapi_conn.isolation_level = None
        dbapi_conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        _ensure_wal(dbapi_conn)
        dbapi_conn.execute("PRAGMA synchronous = FULL")

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # IMMEDIATE takes the write lock up front: a busy database waits (busy_timeout)
        # instead of failing half-way on a lock upgrade, and appends are serialised.
        immediate = conn.get_execution_options().get("immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


_engines: dict[str, Engine] = {}
_ready: set[str] = set()
_lock = threading.RLock()


def raw_engine(url: str | Path | None = None) -> Engine:
    """An engine for the URL, without touching the schema (for verifying a database as it is)."""
    key = db_url(url)
    with _lock:
        if key not in _engines:
            u = make_url(key)
            if u.get_backend_name() == "sqlite":
                path = sqlite_file(key)
                if path is not None:
                    path.parent.mkdir(parents=True, exist_ok=True)
                eng = create_engine(u, connect_args={"timeout": BUSY_TIMEOUT_S})
                _sqlite_events(eng)
            else:
                eng = create_engine(u, pool_pre_ping=True)
            _engines[key] = eng
        return _engines[key]


_REVISION = re.compile(r'^revision\s*=\s*"([^"]+)"', re.MULTILINE)
_DOWN_REVISION = re.compile(r'^down_revision\s*=\s*"([^"]+)"', re.MULTILINE)


def head_revision() -> str | None:
    """The newest migration's revision, read from the migration files (no Alembic import); None
    when there is not exactly one head."""
    revisions: set[str] = set()
    downs: set[str] = set()
    for f in (MIGRATIONS / "versions").glob("*.py"):
        source = f.read_text(encoding="utf-8")
        if (r := _REVISION.search(source)) is not None:
            revisions.add(r.group(1))
        if (d := _DOWN_REVISION.search(source)) is not None:
            downs.add(d.group(1))
    heads = revisions - downs
    return next(iter(heads)) if len(heads) == 1 else None


def at_head(eng: Engine) -> bool:
    """Whether the schema is at the newest migration already. Starting Alembic to find out cost
    the first page after every start 0.17 s; migrations only go forward, so a database at head
    needs no lock and no Alembic."""
    head = head_revision()
    if head is None:
        return False
    try:
        with eng.connect() as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).fetchall()
    except SQLAlchemyError:  # no version table yet: a new database
        return False
    return [r[0] for r in rows] == [head]


def engine(url: str | Path | None = None) -> Engine:
    """The engine for the URL, its schema migrated to head (once per process)."""
    key = db_url(url)
    eng = raw_engine(key)
    with _lock:
        if key not in _ready:
            try:
                if not at_head(eng):
                    migrate(eng)
            except (SQLAlchemyError, sqlite3.Error, OSError) as e:
                raise StorageError(f"database {display_url(key)} cannot be migrated: {e}") from e
            _ready.add(key)
    return eng


def migrate(eng: Engine) -> None:
    """Upgrade the schema to head, in one transaction that holds the write lock."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with eng.connect().execution_options(immediate=True) as conn, conn.begin():
        if is_postgres(conn):
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_MIGRATE})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


@contextmanager
def write(url: str | Path | None = None) -> Iterator[Connection]:
    """A transaction holding the write lock on SQLite (BEGIN IMMEDIATE); committed on exit,
    rolled back on an exception. On PostgreSQL callers take the advisory lock they need."""
    with engine(url).connect().execution_options(immediate=True) as conn, conn.begin():
        yield conn


@contextmanager
def read(url: str | Path | None = None) -> Iterator[Connection]:
    """A read-only use of a connection (one consistent snapshot on SQLite)."""
    with engine(url).connect() as conn, conn.begin():
        yield conn


def lock(conn: Connection, key: int) -> None:
    """Serialise with every other transaction taking the same key (PostgreSQL; on SQLite the
    write transaction's IMMEDIATE lock already serialises all writers)."""
    if is_postgres(conn):
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def session(url: str | Path | None = None) -> Session:
    """An ORM session on the database (for code that prefers the ORM to Core)."""
    return sessionmaker(engine(url))()


def dispose(url: str | Path) -> None:
    """Close the pooled connections of one database and forget it (tests dropping databases)."""
    key = db_url(url)
    with _lock:
        eng = _engines.pop(key, None)
        _ready.discard(key)
    if eng is not None:
        eng.dispose()


def dispose_all() -> None:
    """Close every pooled connection (tests that remove their database; forked processes)."""
    with _lock:
        for eng in _engines.values():
            eng.dispose()
        _engines.clear()
        _ready.clear()
