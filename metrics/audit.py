"""The audit log: who was shown or downloaded which case-level rows, and who was refused.

One SQLite file (env STYRING_AUDIT_DB, default data/audit.sqlite, git-ignored), written
only by appending: this module has no UPDATE or DELETE, and triggers in the database
abort any UPDATE or DELETE on the log tables, whoever issues it. WAL mode plus a busy
timeout and one short `BEGIN IMMEDIATE` transaction per event let several sessions
(threads or processes) append at once without losing a row.

Tables: `audit_event` (one row per display, download or refusal) and `audit_case`
(event_id, case_id: one row per case id shown), so the log can be searched by case.
Timestamps are UTC, stored as fixed-width ISO text ("2026-11-20T13:05:09.123456Z")
so text order is time order.
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from time import monotonic, sleep
from typing import Literal
from zoneinfo import ZoneInfo

import polars as pl

from metrics.access import AccessDenied, Viewer, aggregate_root, require_unit
from metrics.extract import Extract
from metrics.org import org_tree

Action = Literal["view", "download", "denied"]
ACTIONS: tuple[Action, ...] = ("view", "download", "denied")
ACTION_LABELS: dict[str, str] = {"view": "Visning", "download": "Download", "denied": "Afvist"}
AUDIT_DB_ENV = "STYRING_AUDIT_DB"
DEFAULT_DB = Path(__file__).resolve().parent.parent / "data" / "audit.sqlite"
LOCAL_TZ = "Europe/Copenhagen"
BUSY_TIMEOUT_S = 30.0
# Readers of the log: department heads (and the command line).
AUDIT_READERS = ("leder", "system")

_TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

_SCHEMA = """
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

_COLUMNS = (
    "at_utc",
    "employee_id",
    "name",
    "email",
    "role",
    "unit_id",
    "page",
    "action",
    "allowed",
    "target",
    "extract_as_of",
    "n_cases",
)

SEARCH_SCHEMA = pl.Schema(
    {
        "event_id": pl.Int64,
        "at": pl.Datetime("us", LOCAL_TZ),
        "employee_id": pl.String,
        "name": pl.String,
        "email": pl.String,
        "role": pl.String,
        "unit_id": pl.String,
        "page": pl.String,
        "action": pl.String,
        "allowed": pl.Boolean,
        "target": pl.String,
        "extract_as_of": pl.Date,
        "case_ids": pl.List(pl.String),
    }
)


@dataclass(frozen=True)
class AuditEvent:
    """One display, download or refusal. `case_ids` are the case rows shown (or asked for)."""

    page: str
    action: Action
    employee_id: str | None = None
    name: str | None = None
    email: str | None = None
    role: str | None = None
    unit_id: str | None = None
    case_ids: tuple[str, ...] = ()
    target: str | None = None
    extract_as_of: date | None = None
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @classmethod
    def by(
        cls,
        viewer: Viewer | None,
        page: str,
        action: Action,
        case_ids: Iterable[str] = (),
        target: str | None = None,
        extract_as_of: date | None = None,
        email: str | None = None,
    ) -> AuditEvent:
        """An event by this viewer (None: someone the extract does not know, e.g. an unknown login)."""
        return cls(
            page=page,
            action=action,
            employee_id=None if viewer is None else viewer.employee_id,
            name=None if viewer is None else viewer.name,
            email=email if viewer is None else (viewer.email or email),
            role=None if viewer is None else viewer.role,
            unit_id=None if viewer is None else viewer.unit_id,
            case_ids=tuple(dict.fromkeys(case_ids)),
            target=target,
            extract_as_of=extract_as_of,
        )

    @property
    def allowed(self) -> bool:
        return self.action != "denied"


def audit_db_path() -> Path:
    return Path(os.environ.get(AUDIT_DB_ENV) or DEFAULT_DB)


_ready: set[str] = set()
_ready_lock = threading.Lock()


def _ensure_wal(conn: sqlite3.Connection) -> None:
    """Switch the file to WAL (a property of the file: it then holds for every connection).
    Switching needs an exclusive lock and SQLite does not wait for it (no busy handler), so
    when several processes open a new log at once, retry until the busy timeout."""
    deadline = monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
                return
            conn.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or monotonic() > deadline:
                raise
            sleep(0.005 + random.random() * 0.02)


def _connect(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), schema in place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    key = str(path.resolve())
    with _ready_lock:
        if key not in _ready:
            _ensure_wal(conn)
            conn.executescript(f"BEGIN IMMEDIATE;\n{_SCHEMA}\nCOMMIT;")
            _ready.add(key)
    conn.execute("PRAGMA synchronous = FULL")
    return conn


def _ts(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("audit timestamps must be timezone-aware")
    return at.astimezone(UTC).strftime(_TS_FORMAT)


def append(event: AuditEvent, path: Path | None = None) -> int:
    """Append one event (and its case ids) in one transaction. Returns its event_id."""
    return append_many([event], path)[0]


def append_many(events: Sequence[AuditEvent], path: Path | None = None) -> list[int]:
    """Append events in one transaction: all of them are logged, or none (and it raises)."""
    if not events:
        return []
    conn = _connect(path or audit_db_path())
    try:
        # IMMEDIATE takes the write lock up front, so a busy database waits (busy_timeout)
        # instead of failing half-way on a lock upgrade.
        conn.execute("BEGIN IMMEDIATE")
        ids: list[int] = []
        try:
            for ev in events:
                if ev.action not in ACTIONS:
                    raise ValueError(f"unknown audit action {ev.action!r}")
                cur = conn.execute(
                    f"INSERT INTO audit_event ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
                    (
                        _ts(ev.at),
                        ev.employee_id,
                        ev.name,
                        ev.email,
                        ev.role,
                        ev.unit_id,
                        ev.page,
                        ev.action,
                        int(ev.allowed),
                        ev.target,
                        None if ev.extract_as_of is None else ev.extract_as_of.isoformat(),
                        len(set(ev.case_ids)),
                    ),
                )
                event_id = int(cur.lastrowid or 0)
                conn.executemany(
                    "INSERT INTO audit_case (event_id, case_id) VALUES (?, ?)",
                    [(event_id, c) for c in dict.fromkeys(ev.case_ids)],
                )
                ids.append(event_id)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return ids
    finally:
        conn.close()


def require_audit_reader(viewer: Viewer) -> None:
    if viewer.role not in AUDIT_READERS:
        raise AccessDenied("revisionsloggen", viewer.employee_id or viewer.name)


def can_read_audit(viewer: Viewer) -> bool:
    return viewer.role in AUDIT_READERS


def _local_day_start_utc(d: date) -> str:
    return _ts(datetime.combine(d, time.min, tzinfo=ZoneInfo(LOCAL_TZ)))


def _casefold_contains(haystack: str | None, needle: str) -> int:
    return int(haystack is not None and needle in haystack.casefold())


def search(
    ex: Extract,
    viewer: Viewer,
    *,
    person: str | None = None,
    case_id: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    actions: Sequence[str] | None = None,
    unit_id: str | None = None,
    limit: int = 1000,
    path: Path | None = None,
) -> pl.DataFrame:
    """Events newest first (at most `limit`; ask for limit+1 to know if there are more).

    Only department heads may search. A head sees the events of people in their unit's
    subtree, or in `unit_id`'s subtree if given (it must be in theirs), by the unit logged
    with the event; searching from the root also shows events by people the extract does
    not know (unknown logins) or units no longer in the tree.
    person: an employee_id (exact) or part of a name or email (case-insensitive).
    date_from/date_to: days in Danish local time, both included.
    """
    require_audit_reader(viewer)
    top = unit_id or aggregate_root(ex, viewer)
    require_unit(ex, viewer, top)
    db = path or audit_db_path()
    if not db.exists():
        return pl.DataFrame(schema=SEARCH_SCHEMA)
    where: list[str] = []
    args: list[object] = []
    if top != org_tree(ex).root:
        units = sorted(org_tree(ex).subtree(top))
        where.append(f"e.unit_id IN ({', '.join('?' * len(units))})")
        args.extend(units)
    if person and person.strip():
        where.append("(e.employee_id = ? OR casefold_contains(e.name, ?) OR casefold_contains(e.email, ?))")
        needle = person.strip().casefold()
        args.extend([person.strip(), needle, needle])
    if case_id and case_id.strip():
        where.append("e.event_id IN (SELECT event_id FROM audit_case WHERE case_id = ?)")
        args.append(case_id.strip())
    if date_from is not None:
        where.append("e.at_utc >= ?")
        args.append(_local_day_start_utc(date_from))
    if date_to is not None:
        where.append("e.at_utc < ?")
        args.append(_local_day_start_utc(date_to + timedelta(days=1)))
    if actions is not None:
        where.append(f"e.action IN ({', '.join('?' * len(actions))})")
        args.extend(actions)
    sql = (
        "SELECT e.event_id, e.at_utc, e.employee_id, e.name, e.email, e.role, e.unit_id, e.page, "
        "e.action, e.allowed, e.target, e.extract_as_of, "
        "(SELECT group_concat(case_id, char(31)) FROM audit_case c WHERE c.event_id = e.event_id) "
        "FROM audit_event e"
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY e.at_utc DESC, e.event_id DESC LIMIT ?"
    )
    args.append(int(limit))
    conn = _connect(db)
    try:
        conn.create_function("casefold_contains", 2, _casefold_contains, deterministic=True)
        rows = conn.execute(sql, args).fetchall()
    finally:
        conn.close()
    if not rows:
        return pl.DataFrame(schema=SEARCH_SCHEMA)
    df = pl.DataFrame(
        {
            "event_id": [r[0] for r in rows],
            "at": [datetime.strptime(r[1], _TS_FORMAT).replace(tzinfo=UTC) for r in rows],
            "employee_id": [r[2] for r in rows],
            "name": [r[3] for r in rows],
            "email": [r[4] for r in rows],
            "role": [r[5] for r in rows],
            "unit_id": [r[6] for r in rows],
            "page": [r[7] for r in rows],
            "action": [r[8] for r in rows],
            "allowed": [bool(r[9]) for r in rows],
            "target": [r[10] for r in rows],
            "extract_as_of": [None if r[11] is None else date.fromisoformat(r[11]) for r in rows],
            "case_ids": [[] if r[12] is None else sorted(r[12].split("\x1f")) for r in rows],
        },
        schema={**dict(SEARCH_SCHEMA), "at": pl.Datetime("us", "UTC")},
    )
    return df.with_columns(pl.col("at").dt.convert_time_zone(LOCAL_TZ))


def count_events(path: Path | None = None) -> tuple[int, int]:
    """(events, case rows) in the log: for checks and tests, not for display scoping."""
    db = path or audit_db_path()
    if not db.exists():
        return 0, 0
    conn = _connect(db)
    try:
        events = conn.execute("SELECT count(*) FROM audit_event").fetchone()[0]
        cases = conn.execute("SELECT count(*) FROM audit_case").fetchone()[0]
    finally:
        conn.close()
    return int(events), int(cases)


_ROW_ID_COLUMNS = (
    "notification_id",
    "child_id",
    "deadline_id",
    "intervention_id",
    "payment_id",
    "employee_id",
)


def rows_without_case(rows: pl.DataFrame) -> str | None:
    """The identifying ids of shown rows that carry no case id (e.g. a notification not linked
    to a case, and its child), for an audit event's target; None when every row has a case."""
    loose = rows.filter(pl.col("case_id").is_null()) if "case_id" in rows.columns else rows
    parts = [
        f"{col}: {', '.join(str(v) for v in loose[col].drop_nulls().unique(maintain_order=True).to_list())}"
        for col in _ROW_ID_COLUMNS
        if col in loose.columns and loose[col].drop_nulls().len()
    ]
    return "; ".join(parts) or None
