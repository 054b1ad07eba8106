"""The audit log: who was shown or downloaded which case-level rows, and who was refused.

Kept in the one database of `metrics.storage` (setting STYRING_DB_URL), tamper-evident on
SQLite and PostgreSQL alike:

- append-only: the database itself refuses UPDATE, DELETE and TRUNCATE on the log tables and
  any insert whose event id (or case row) exists, whoever issues it (migrations 0001, 0002);
- a hash chain: each row stores its position `seq`, the previous row's hash and the hash of
  its own canonical content (every column and its sorted case ids) with that previous hash,
  so a changed, deleted, inserted or reordered row breaks the chain (`verify`);
- appends are serialised (SQLite BEGIN IMMEDIATE, PostgreSQL an advisory transaction lock),
  so the chain never forks when several sessions, processes or servers append at once;
- after every append a checkpoint (row count and newest hash) goes to the server log and,
  when STYRING_AUDIT_CHECKPOINT names a file, is appended to it: cutting rows off the end
  or recomputing the whole chain can only be caught against a copy the database's writer
  cannot rewrite, and `verify` compares with the newest checkpoint it is given;
- a log from the previous release (a raw SQLite file at STYRING_AUDIT_DB, default
  data/audit.sqlite) is carried into the database at start, rows unchanged (same ids and
  values), and sealed: the first chained row's prev_hash is the chain computed over all of
  them, so none of them can change afterwards without breaking it.

Tables: `audit_event` (one row per display, download or refusal) and `audit_case`
(event_id, case_id: one row per case id shown), so the log can be searched by case.
Timestamps are UTC, stored as fixed-width ISO text ("2026-11-20T13:05:09.123456Z")
so text order is time order.

Functions taking `path` accept a SQLite file (Path) or a SQLAlchemy URL (str); None is the
configured database.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Integer,
    MetaData,
    Table,
    Text,
    func,
    insert,
    or_,
    select,
)
from sqlalchemy.exc import SQLAlchemyError

from metrics import storage
from metrics.access import AccessDenied, Viewer, aggregate_root, require_unit
from metrics.extract import Extract
from metrics.org import org_tree

Action = Literal["view", "download", "denied"]
ACTIONS: tuple[Action, ...] = ("view", "download", "denied")
ACTION_LABELS: dict[str, str] = {"view": "Visning", "download": "Download", "denied": "Afvist"}
AUDIT_DB_ENV = "STYRING_AUDIT_DB"  # the previous release's log file, imported at start
CHECKPOINT_ENV = "STYRING_AUDIT_CHECKPOINT"
DEFAULT_DB = Path(__file__).resolve().parent.parent / "data" / "audit.sqlite"
LOCAL_TZ = "Europe/Copenhagen"
BUSY_TIMEOUT_S = storage.BUSY_TIMEOUT_S
# Readers of the log: department heads (and the command line).
AUDIT_READERS = ("leder", "system")
GENESIS = "0" * 64
CHECKPOINT_TAG = "audit checkpoint "

_TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
log = logging.getLogger("metrics.audit")
checkpoint_log = logging.getLogger("metrics.audit.checkpoint")

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

_meta = MetaData()
audit_event = Table(
    "audit_event",
    _meta,
    Column("event_id", BigInteger, primary_key=True, autoincrement=False),
    Column("at_utc", Text),
    Column("employee_id", Text),
    Column("name", Text),
    Column("email", Text),
    Column("role", Text),
    Column("unit_id", Text),
    Column("page", Text),
    Column("action", Text),
    Column("allowed", Integer),
    Column("target", Text),
    Column("extract_as_of", Text),
    Column("n_cases", Integer),
    Column("seq", BigInteger),
    Column("prev_hash", Text),
    Column("row_hash", Text),
)
audit_case = Table(
    "audit_case",
    _meta,
    Column("event_id", BigInteger, primary_key=True),
    Column("case_id", Text, primary_key=True),
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
    """The previous release's log file (STYRING_AUDIT_DB), carried into the database at start."""
    return Path(os.environ.get(AUDIT_DB_ENV) or DEFAULT_DB)


def _ts(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("audit timestamps must be timezone-aware")
    return at.astimezone(UTC).strftime(_TS_FORMAT)


# --- the chain --------------------------------------------------------------------------


def row_hash(prev_hash: str, row: Mapping[str, Any], case_ids: Iterable[str]) -> str:
    """The hash of one row: its canonical content (event id, every column, its position and
    its sorted case ids) with the previous row's hash."""
    content = {k: row[k] for k in ("event_id", *_COLUMNS)}
    content["allowed"] = int(content["allowed"])
    content["seq"] = row.get("seq")
    content["case_ids"] = sorted(case_ids)
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{prev_hash}\n{text}".encode()).hexdigest()


@dataclass(frozen=True)
class Checkpoint:
    """The log's size and newest hash at one moment, kept outside the database."""

    rows: int
    hash: str
    at: str = ""
    db: str = ""

    def line(self) -> str:
        return CHECKPOINT_TAG + json.dumps(
            {"rows": self.rows, "hash": self.hash, "at": self.at, "db": self.db}, separators=(",", ":")
        )


def read_checkpoint(path: Path, db: str | None = None) -> Checkpoint | None:
    """The newest checkpoint (the most rows) in a checkpoint file or a server log; with `db`,
    only lines written for that database. None when there is none. OSError if unreadable."""
    best: Checkpoint | None = None
    with path.open(encoding="utf-8", errors="replace") as f:
        for line in f:
            at = line.find(CHECKPOINT_TAG)
            if at < 0:
                continue
            try:
                d = json.loads(line[at + len(CHECKPOINT_TAG) :])
                cp = Checkpoint(int(d["rows"]), str(d["hash"]), str(d.get("at", "")), str(d.get("db", "")))
            except (ValueError, KeyError, TypeError):
                continue
            if db is not None and cp.db and cp.db != db:
                continue
            if best is None or cp.rows >= best.rows:
                best = cp
    return best


def _write_checkpoint(url: str, rows: int, head: str) -> None:
    cp = Checkpoint(rows, head, _ts(datetime.now(UTC)), storage.display_url(url))
    _ensure_checkpoint_handler()
    checkpoint_log.info(cp.line())
    target = os.environ.get(CHECKPOINT_ENV)
    if target:
        # O_APPEND: one short line per write lands whole at the end, whoever else appends.
        fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, (cp.line() + "\n").encode())
        finally:
            os.close(fd)


_handler_lock = threading.Lock()


def _ensure_checkpoint_handler() -> None:
    """Checkpoints must reach the server log even when nobody configured logging (Streamlit
    configures only its own loggers)."""
    with _handler_lock:
        if checkpoint_log.level == logging.NOTSET:
            checkpoint_log.setLevel(logging.INFO)
            if not logging.getLogger().handlers:
                handler = logging.StreamHandler()
                handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
                checkpoint_log.addHandler(handler)


def _case_ids_by_event(conn: Connection, event_ids: Sequence[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for i in range(0, len(event_ids), 500):
        chunk = list(event_ids[i : i + 500])
        for eid, cid in conn.execute(
            select(audit_case.c.event_id, audit_case.c.case_id).where(audit_case.c.event_id.in_(chunk))
        ):
            out.setdefault(int(eid), []).append(str(cid))
    return out


def _rows_in_order(conn: Connection) -> Iterator[tuple[dict[str, Any], list[str]]]:
    """Every event in log order with its case ids (two ordered scans, merged)."""
    events = conn.execute(select(audit_event).order_by(audit_event.c.event_id))
    cases = iter(
        conn.execute(
            select(audit_case.c.event_id, audit_case.c.case_id).order_by(
                audit_case.c.event_id, audit_case.c.case_id
            )
        ).all()
    )
    pending = next(cases, None)
    for r in events:
        row = dict(r._mapping)
        ids: list[str] = []
        while pending is not None and pending[0] < row["event_id"]:
            pending = next(cases, None)  # case rows of no event: the chain does not cover them
        while pending is not None and pending[0] == row["event_id"]:
            ids.append(str(pending[1]))
            pending = next(cases, None)
        yield row, ids


def _head(conn: Connection) -> tuple[int, int, str]:
    """(newest event id, rows in the log, newest hash). Rows from before the chain that are
    not sealed yet are folded into the hash here, so the next chained row seals them."""
    last = conn.execute(
        select(audit_event.c.event_id, audit_event.c.seq, audit_event.c.row_hash)
        .order_by(audit_event.c.event_id.desc())
        .limit(1)
    ).first()
    if last is None:
        return 0, 0, GENESIS
    if last.row_hash is not None and last.seq is not None:
        return int(last.event_id), int(last.seq), str(last.row_hash)
    running, n = GENESIS, 0
    for row, ids in _rows_in_order(conn):
        running = row_hash(running, row, ids) if row["row_hash"] is None else str(row["row_hash"])
        n += 1
    return int(last.event_id), n, running


def _append_locked(conn: Connection, events: Sequence[AuditEvent]) -> tuple[list[int], int, str]:
    """Append inside the caller's write transaction; returns (ids, rows, newest hash)."""
    storage.lock(conn, storage.LOCK_AUDIT)
    last_id, seq, prev = _head(conn)
    # SQLite does not enforce audit_case's foreign key: a case row slipped in for a future id
    # must never become part of a real event, so new ids start above every case row's too.
    last_id = max(last_id, int(conn.execute(select(func.max(audit_case.c.event_id))).scalar() or 0))
    ids: list[int] = []
    for ev in events:
        last_id, seq = last_id + 1, seq + 1
        case_ids = list(dict.fromkeys(ev.case_ids))
        row: dict[str, Any] = {
            "event_id": last_id,
            "at_utc": _ts(ev.at),
            "employee_id": ev.employee_id,
            "name": ev.name,
            "email": ev.email,
            "role": ev.role,
            "unit_id": ev.unit_id,
            "page": ev.page,
            "action": ev.action,
            "allowed": int(ev.allowed),
            "target": ev.target,
            "extract_as_of": None if ev.extract_as_of is None else ev.extract_as_of.isoformat(),
            "n_cases": len(case_ids),
            "seq": seq,
        }
        row["prev_hash"] = prev
        row["row_hash"] = prev = row_hash(prev, row, case_ids)
        conn.execute(insert(audit_event).values(**row))
        if case_ids:
            conn.execute(insert(audit_case), [{"event_id": last_id, "case_id": c} for c in case_ids])
        ids.append(last_id)
    return ids, seq, prev


# --- writing ----------------------------------------------------------------------------


def append(event: AuditEvent, path: Path | str | None = None) -> int:
    """Append one event (and its case ids) in one transaction. Returns its event_id."""
    return append_many([event], path)[0]


def append_many(events: Sequence[AuditEvent], path: Path | str | None = None) -> list[int]:
    """Append events in one transaction: all of them are logged, or none (and it raises
    StorageError when the database cannot be written)."""
    if not events:
        return []
    for ev in events:
        if ev.action not in ACTIONS:
            raise ValueError(f"unknown audit action {ev.action!r}")
        _ts(ev.at)
    url = storage.db_url(path)
    try:
        prepare(url)
        with storage.write(url) as conn:
            ids, rows, head = _append_locked(conn, events)
    except (SQLAlchemyError, sqlite3.Error, OSError) as e:
        raise storage.StorageError(f"the audit log cannot be written: {e}") from e
    _write_checkpoint(url, rows, head)
    return ids


_prepared: set[str] = set()
_prepare_lock = threading.Lock()


def prepare(path: Path | str | None = None) -> None:
    """Once per process and database: migrate, carry in the previous release's log file
    (STYRING_AUDIT_DB) and seal rows from before the chain."""
    url = storage.db_url(path)
    with _prepare_lock:
        if url in _prepared:
            return
        storage.engine(url)
        try:
            sealed = _import_and_seal(url)
        except (SQLAlchemyError, sqlite3.Error, OSError) as e:
            raise storage.StorageError(
                f"the audit log in {storage.display_url(url)} cannot be prepared (previous log "
                f"{audit_db_path()}): {' '.join(str(e).split())[:300]}"
            ) from e
        _prepared.add(url)
    if sealed is not None:
        _write_checkpoint(url, *sealed)


def _legacy_rows(path: Path) -> tuple[list[dict[str, Any]], list[tuple[int, str]]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
    try:
        conn.row_factory = sqlite3.Row
        events = [dict(r) for r in conn.execute("SELECT * FROM audit_event ORDER BY event_id")]
        cases = [(int(r[0]), str(r[1])) for r in conn.execute("SELECT event_id, case_id FROM audit_case")]
    finally:
        conn.close()
    return events, cases


def _import_and_seal(url: str) -> tuple[int, str] | None:
    """Import the legacy log into an empty database, and seal unsealed rows with a chained
    event. Returns the checkpoint to write, None when nothing was done."""
    legacy = audit_db_path()
    target = storage.sqlite_file(url)
    source: str | None = None
    events: list[dict[str, Any]] = []
    cases: list[tuple[int, str]] = []
    if legacy.is_file() and (target is None or legacy.resolve() != target):
        with storage.read(url) as conn:
            empty = conn.execute(select(func.count()).select_from(audit_event)).scalar() == 0
        if empty:
            events, cases = _legacy_rows(legacy)
            source = str(legacy)
        else:
            log.debug("audit log %s not imported: %s already holds events", legacy, storage.display_url(url))
    with storage.write(url) as conn:
        storage.lock(conn, storage.LOCK_AUDIT)
        if events and conn.execute(select(func.count()).select_from(audit_event)).scalar() == 0:
            cols = ("event_id", *_COLUMNS)
            conn.execute(insert(audit_event), [{c: e[c] for c in cols} for e in events])
            if cases:
                conn.execute(insert(audit_case), [{"event_id": e, "case_id": c} for e, c in cases])
            log.warning(
                "audit log %s: %d events carried into %s", source, len(events), storage.display_url(url)
            )
        last = conn.execute(
            select(audit_event.c.row_hash).order_by(audit_event.c.event_id.desc()).limit(1)
        ).first()
        if last is None or last.row_hash is not None:
            return None
        n = conn.execute(select(func.count()).select_from(audit_event)).scalar() or 0
        seal = AuditEvent(
            page="revisionslog",
            action="view",
            name="system",
            role="system",
            target=f"forsegling af {n} hændelser fra før hash-kæden"
            + (f" (overført fra {source})" if source else ""),
        )
        _ids, rows, head = _append_locked(conn, [seal])
    return rows, head


# --- verifying --------------------------------------------------------------------------


class AuditUnreadable(storage.StorageError):
    """The audit log's database cannot be read (missing, not a log, no access)."""


@dataclass(frozen=True)
class Verification:
    """The outcome of `verify`. `message` is English, for logs and the command line; the
    Revisionslog page words the outcome in Danish itself."""

    ok: bool
    rows: int
    head: str
    message: str
    broken_event_id: int | None = None
    checkpoint: Checkpoint | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "rows": self.rows,
            "head": self.head,
            "broken_event_id": self.broken_event_id,
            "checkpoint": None
            if self.checkpoint is None
            else {"rows": self.checkpoint.rows, "hash": self.checkpoint.hash, "at": self.checkpoint.at},
            "message": self.message,
        }


def verify(path: Path | str | None = None, checkpoint: Checkpoint | None = None) -> Verification:
    """Check the whole chain, and the checkpoint if given (the newest one kept outside).

    Never changes the database (no migration, no import). AuditUnreadable when it cannot be
    read or holds no audit log."""
    url = storage.db_url(path)
    file = storage.sqlite_file(url)
    if file is not None and not file.is_file():
        raise AuditUnreadable(f"no database at {file}")
    try:
        with storage.raw_engine(url).connect() as conn, conn.begin():
            return _verify(conn, checkpoint)
    except (SQLAlchemyError, sqlite3.Error, OSError) as e:
        raise AuditUnreadable(f"{storage.display_url(url)}: {' '.join(str(e).split())[:300]}") from e


def _verify(conn: Connection, cp: Checkpoint | None) -> Verification:
    running, n, chained = GENESIS, 0, False
    at_checkpoint: str | None = None
    broken: tuple[int, str] | None = None
    for row, ids in _rows_in_order(conn):
        n += 1
        eid = int(row["event_id"])
        if row["row_hash"] is None:
            if chained:
                broken = (
                    eid,
                    f"event {eid} (row {n}) has no hash after the chain began: inserted or altered",
                )
                break
            running = row_hash(running, row, ids)
        else:
            if row["seq"] != n:
                what = "a row before it was deleted or inserted" if row["seq"] is not None else "no position"
                broken = (eid, f"event {eid} is row {n} of the log but says it is row {row['seq']}: {what}")
                break
            if row_hash(str(row["prev_hash"]), row, ids) != row["row_hash"]:
                broken = (eid, f"event {eid} (row {n}): its content does not match its hash (changed)")
                break
            if row["prev_hash"] != running:
                broken = (
                    eid,
                    f"event {eid} (row {n}) does not follow the row before it "
                    + (
                        "(a sealed row from before the chain changed)"
                        if not chained and n > 1
                        else "(changed, deleted, inserted or reordered)"
                    ),
                )
                break
            chained = True
            running = str(row["row_hash"])
        if cp is not None and n == cp.rows:
            at_checkpoint = running
            if running != cp.hash:
                broken = (
                    eid,
                    f"event {eid} (row {n}) does not match the checkpoint of {cp.at or 'unknown time'}: "
                    "the log was rewritten",
                )
                break
    if broken is not None:
        return Verification(False, n, running, broken[1], broken[0], cp)
    if cp is not None and at_checkpoint is None:
        return Verification(
            False,
            n,
            running,
            f"the log has {n} rows but the checkpoint of {cp.at or 'unknown time'} counted {cp.rows}: "
            "rows were cut off the end",
            None,
            cp,
        )
    checked = (
        f"; matches the checkpoint of {cp.at} ({cp.rows} rows)" if cp is not None else "; no checkpoint given"
    )
    return Verification(True, n, running, f"intact: {n} rows{checked}", None, cp)


def verify_configured() -> Verification:
    """`verify` on the configured database against the newest checkpoint in
    STYRING_AUDIT_CHECKPOINT (if set)."""
    url = storage.db_url()
    cp_file = os.environ.get(CHECKPOINT_ENV)
    cp = None
    if cp_file and Path(cp_file).is_file():
        cp = read_checkpoint(Path(cp_file), storage.display_url(url))
    return verify(url, cp)


# --- reading ----------------------------------------------------------------------------


def require_audit_reader(viewer: Viewer) -> None:
    if viewer.role not in AUDIT_READERS:
        raise AccessDenied("revisionsloggen", viewer.employee_id or viewer.name)


def can_read_audit(viewer: Viewer) -> bool:
    return viewer.role in AUDIT_READERS


def local_today(now: datetime | None = None) -> date:
    """Today in Danish local time (the server may run in UTC: from 23:00 or 22:00 UTC it is
    already tomorrow in Denmark, and the log's days are Danish days)."""
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(LOCAL_TZ)).date()


def _local_day_start_utc(d: date) -> str:
    return _ts(datetime.combine(d, time.min, tzinfo=ZoneInfo(LOCAL_TZ)))


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
    path: Path | str | None = None,
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
    url = storage.db_url(path)
    file = storage.sqlite_file(url)
    if file is not None and not file.exists():
        return pl.DataFrame(schema=SEARCH_SCHEMA)
    prepare(url)
    e = audit_event.c
    where: list[Any] = []
    if top != org_tree(ex).root:
        where.append(e.unit_id.in_(sorted(org_tree(ex).subtree(top))))
    if case_id and case_id.strip():
        where.append(
            e.event_id.in_(select(audit_case.c.event_id).where(audit_case.c.case_id == case_id.strip()))
        )
    if date_from is not None:
        where.append(e.at_utc >= _local_day_start_utc(date_from))
    if date_to is not None:
        where.append(e.at_utc < _local_day_start_utc(date_to + timedelta(days=1)))
    if actions is not None:
        where.append(e.action.in_(list(actions)))
    cols = [e.event_id, e.at_utc, e.employee_id, e.name, e.email, e.role, e.unit_id, e.page]
    cols += [e.action, e.allowed, e.target, e.extract_as_of]
    with storage.read(url) as conn:
        if person and person.strip():
            # Case-insensitive matching in Python (casefold handles æøå on every engine) on
            # the distinct names and emails, which are as many as there are people.
            needle = person.strip().casefold()
            names = [n for (n,) in conn.execute(select(e.name).distinct()) if n and needle in n.casefold()]
            emails = [m for (m,) in conn.execute(select(e.email).distinct()) if m and needle in m.casefold()]
            where.append(or_(e.employee_id == person.strip(), e.name.in_(names), e.email.in_(emails)))
        rows = conn.execute(
            select(*cols).where(*where).order_by(e.at_utc.desc(), e.event_id.desc()).limit(int(limit))
        ).all()
        case_ids = _case_ids_by_event(conn, [int(r[0]) for r in rows])
    if not rows:
        return pl.DataFrame(schema=SEARCH_SCHEMA)
    df = pl.DataFrame(
        {
            "event_id": [int(r[0]) for r in rows],
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
            "case_ids": [sorted(case_ids.get(int(r[0]), [])) for r in rows],
        },
        schema={**dict(SEARCH_SCHEMA), "at": pl.Datetime("us", "UTC")},
    )
    return df.with_columns(pl.col("at").dt.convert_time_zone(LOCAL_TZ))


def count_events(path: Path | str | None = None) -> tuple[int, int]:
    """(events, case rows) in the log: for checks and tests, not for display scoping."""
    url = storage.db_url(path)
    file = storage.sqlite_file(url)
    if file is not None and not file.exists():
        return 0, 0
    prepare(url)
    with storage.read(url) as conn:
        events = conn.execute(select(func.count()).select_from(audit_event)).scalar() or 0
        cases = conn.execute(select(func.count()).select_from(audit_case)).scalar() or 0
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
