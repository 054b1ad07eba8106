"""What leaders write at the economy meeting: comments, decisions, case review notes and the
status of scorecard actions, kept in the one database of `metrics.storage`.

A note is about a subject in a unit and a period: a KPI or an account of a unit
(`Subject.kpi`, `Subject.account`), or a case (`Subject.case`); the period is the as_of date
of the extract the meeting looks at. Kinds: an explanation (afvigelsesforklaring) and a
decision (with owner, due date and status) on KPIs and accounts; a review note on a case
(the monthly case review).

Nothing is lost: every save is a new, complete version (history readable with
`note_history`), nothing is deleted (`withdraw_note` saves a version marked withdrawn), and
every version says who (employee id, name, role) and when (UTC). A save names the version it
was based on; when someone saved a newer one meanwhile it raises `EditConflict` (who, when)
and writes nothing. The database's primary key (note_id, version) makes this hold under real
concurrency on both engines. Action status works the same way, per action id (the `id` of
an action in config/scorecard.toml) and unit.

Who may write is decided here, as `metrics.access` decides who may read:
- leder and teamleder write explanations, decisions and action status on the units of their
  subtree, and review notes on the cases in their case scope; system (the command line) may
  write everything; raadgiver and administration write nothing.
- KPI and account notes and action status are read by whoever may see the unit's aggregate
  figures; case notes only by whoever may see the case. Reading or writing case notes is
  case-level data: it is logged in the audit log as a view of the case, a refusal as denied.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy import Connection, bindparam, text
from sqlalchemy.exc import IntegrityError

from metrics import storage
from metrics.access import AccessDenied, Viewer, can_see_case, can_see_unit
from metrics.audit import LOCAL_TZ, AuditEvent
from metrics.audit import append as audit_append
from metrics.extract import Extract
from metrics.org import org_tree

if TYPE_CHECKING:
    from metrics.scorecard import Scorecard

SubjectKind = Literal["kpi", "account", "case"]
NoteKind = Literal["explanation", "decision", "case_review"]
Status = Literal["ikke_startet", "i_gang", "gennemfoert"]
SUBJECT_KINDS: tuple[SubjectKind, ...] = ("kpi", "account", "case")
NOTE_KINDS: tuple[NoteKind, ...] = ("explanation", "decision", "case_review")
STATUSES: tuple[Status, ...] = ("ikke_startet", "i_gang", "gennemfoert")
KIND_LABELS: dict[str, str] = {
    "explanation": "Afvigelsesforklaring",
    "decision": "Beslutning",
    "case_review": "Sagsgennemgang",
}
STATUS_LABELS: dict[str, str] = {
    "ikke_startet": "Ikke startet",
    "i_gang": "I gang",
    "gennemfoert": "Gennemført",
}
WRITERS = ("leder", "teamleder", "system")
MAX_TEXT = 10_000
_TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

NOTES_SCHEMA = pl.Schema(
    {
        "note_id": pl.String,
        "version": pl.Int64,
        "subject_kind": pl.String,
        "subject_id": pl.String,
        "unit_id": pl.String,
        "period": pl.Date,
        "kind": pl.String,
        "text": pl.String,
        "owner": pl.String,
        "due": pl.Date,
        "status": pl.String,
        "withdrawn": pl.Boolean,
        "saved_at": pl.Datetime("us", "UTC"),
        "saved_by": pl.String,
        "saved_by_name": pl.String,
        "created_at": pl.Datetime("us", "UTC"),
        "created_by": pl.String,
        "created_by_name": pl.String,
    }
)


class NoteError(ValueError):
    """A note or status that cannot be saved as given (empty text, a decision without owner…)."""


class NoteNotFound(LookupError):
    """No note with this id."""


class EditConflict(Exception):
    """Someone saved a newer version after the one this save was based on; nothing was written."""

    def __init__(
        self, what: str, based_on: int, version: int, by: str | None, by_name: str, at: datetime
    ) -> None:
        local = at.astimezone(ZoneInfo(LOCAL_TZ)).strftime("%d.%m.%Y kl. %H:%M")
        super().__init__(
            f"{by_name} har gemt en nyere udgave (version {version}) {local}, efter du begyndte "
            f"(version {based_on}). Intet er overskrevet: læs den nye udgave og gem igen."
        )
        self.what = what  # the note id, or "action_id@unit_id"
        self.based_on = based_on
        self.version = version
        self.by = by  # employee id (None for the command line)
        self.by_name = by_name
        self.at = at  # UTC


@dataclass(frozen=True)
class Subject:
    kind: SubjectKind
    id: str
    unit_id: str

    @classmethod
    def kpi(cls, kpi_id: str, unit_id: str) -> Subject:
        return cls("kpi", kpi_id, unit_id)

    @classmethod
    def account(cls, account: str, unit_id: str) -> Subject:
        return cls("account", account, unit_id)

    @classmethod
    def case(cls, ex: Extract, case_id: str) -> Subject:
        """A case, in the unit the extract places it in (the unit is recorded with the note)."""
        unit = ex["cases"].filter(pl.col("case_id") == case_id)["unit_id"]
        return cls("case", case_id, str(unit[0]) if unit.len() else "")


@dataclass(frozen=True)
class NoteVersion:
    """One version of a note, with what it is about and who began it."""

    note_id: str
    version: int
    subject_kind: SubjectKind
    subject_id: str
    unit_id: str
    period: date
    kind: NoteKind
    text: str
    owner: str | None
    due: date | None
    status: Status | None
    withdrawn: bool
    saved_at: datetime  # UTC
    saved_by: str | None  # employee id
    saved_by_name: str
    created_at: datetime  # UTC
    created_by: str | None
    created_by_name: str

    @property
    def subject(self) -> Subject:
        return Subject(self.subject_kind, self.subject_id, self.unit_id)


@dataclass(frozen=True)
class ActionStatus:
    """One dated status update of a scorecard action in a unit."""

    action_id: str
    unit_id: str
    version: int
    status: Status
    status_on: date  # the day the status was true (the update's date)
    note: str
    saved_at: datetime  # UTC
    saved_by: str | None
    saved_by_name: str


# --- who may -----------------------------------------------------------------------------------


def can_read(ex: Extract, viewer: Viewer, subject: Subject) -> bool:
    if subject.kind == "case":
        return can_see_case(ex, viewer, subject.id)
    return can_see_unit(ex, viewer, subject.unit_id)


def can_write(ex: Extract, viewer: Viewer, subject: Subject) -> bool:
    """Whether the viewer may write notes on this subject (for showing or hiding the form;
    the save functions check it again)."""
    return viewer.role in WRITERS and can_read(ex, viewer, subject)


def can_write_unit(ex: Extract, viewer: Viewer, unit_id: str) -> bool:
    """Whether the viewer may write KPI/account notes and action status on this unit."""
    return viewer.role in WRITERS and can_see_unit(ex, viewer, unit_id)


def _refuse(ex: Extract, viewer: Viewer, subject: Subject, page: str, writing: bool) -> AccessDenied:
    if subject.kind == "case":
        audit_append(
            AuditEvent.by(
                viewer,
                page,
                "denied",
                [subject.id],
                target=f"sagsnoter på sagen {subject.id}" + (" (skrive)" if writing else ""),
                extract_as_of=ex.as_of,
            )
        )
        return AccessDenied("sagen", subject.id)
    if writing and can_see_unit(ex, viewer, subject.unit_id):
        return AccessDenied("at skrive kommentarer på enheden", subject.unit_id)
    return AccessDenied("enheden", subject.unit_id)


def _require_read(ex: Extract, viewer: Viewer, subject: Subject, page: str) -> None:
    if not can_read(ex, viewer, subject):
        raise _refuse(ex, viewer, subject, page, writing=False)


def _require_write(ex: Extract, viewer: Viewer, subject: Subject, page: str) -> None:
    if not can_write(ex, viewer, subject):
        raise _refuse(ex, viewer, subject, page, writing=True)


def _audit_case_notes(
    ex: Extract, viewer: Viewer, page: str, notes: Sequence[NoteVersion], what: str
) -> None:
    ids = [n.subject_id for n in notes if n.subject_kind == "case"]
    if ids:
        audit_append(AuditEvent.by(viewer, page, "view", ids, target=what, extract_as_of=ex.as_of))


# --- checking what is saved ------------------------------------------------------------------


def _clean_text(value: str, what: str, *, required: bool) -> str:
    cleaned = (value or "").strip()
    if required and not cleaned:
        raise NoteError(f"{what} mangler")
    if len(cleaned) > MAX_TEXT:
        raise NoteError(f"{what} er for lang ({len(cleaned)} tegn; højst {MAX_TEXT})")
    return cleaned


def _content(
    kind: NoteKind, text_: str, owner: str | None, due: date | None, status: Status | None
) -> dict[str, Any]:
    body = _clean_text(text_, "Teksten", required=True)
    if kind == "decision":
        who = _clean_text(owner or "", "Ansvarlig", required=True)
        if due is None:
            raise NoteError("En beslutning skal have en frist (dato)")
        status = status or "ikke_startet"
        if status not in STATUSES:
            raise NoteError(f"ukendt status {status!r} (tilladt: {', '.join(STATUSES)})")
        return {"text": body, "owner": who, "due": due.isoformat(), "status": status}
    if owner or due is not None or status is not None:
        raise NoteError(
            f"kun en beslutning har ansvarlig, frist og status, ikke en {KIND_LABELS[kind].lower()}"
        )
    return {"text": body, "owner": None, "due": None, "status": None}


def _check_kind(subject: Subject, kind: str) -> None:
    if subject.kind not in SUBJECT_KINDS:
        raise NoteError(f"ukendt emne {subject.kind!r} (tilladt: {', '.join(SUBJECT_KINDS)})")
    if kind not in NOTE_KINDS:
        raise NoteError(f"ukendt notetype {kind!r} (tilladt: {', '.join(NOTE_KINDS)})")
    if (subject.kind == "case") != (kind == "case_review"):
        raise NoteError(
            "en sag får en sagsgennemgang; et nøgletal eller en konto en forklaring eller beslutning"
        )
    if not subject.id or not subject.unit_id:
        raise NoteError("emnet mangler id eller enhed")


def _ts(at: datetime) -> str:
    return at.astimezone(UTC).strftime(_TS_FORMAT)


def _parse_ts(value: str) -> datetime:
    return datetime.strptime(value, _TS_FORMAT).replace(tzinfo=UTC)


def _who(viewer: Viewer, now: datetime) -> dict[str, Any]:
    return {
        "saved_at": _ts(now),
        "saved_by": viewer.employee_id,
        "saved_by_name": viewer.name,
        "saved_by_role": viewer.role,
    }


# --- notes: writing ----------------------------------------------------------------------------

_SELECT = (
    "SELECT n.note_id, v.version, n.subject_kind, n.subject_id, n.unit_id, n.period, n.kind, v.text, "
    "v.owner, v.due, v.status, v.withdrawn, v.saved_at, v.saved_by, v.saved_by_name, n.created_at, "
    "n.created_by, n.created_by_name FROM note n JOIN note_version v ON v.note_id = n.note_id"
)
_LATEST = " AND v.version = (SELECT max(w.version) FROM note_version w WHERE w.note_id = n.note_id)"


def _note(row: Sequence[Any]) -> NoteVersion:
    return NoteVersion(
        note_id=row[0],
        version=int(row[1]),
        subject_kind=row[2],
        subject_id=row[3],
        unit_id=row[4],
        period=date.fromisoformat(row[5]),
        kind=row[6],
        text=row[7],
        owner=row[8],
        due=None if row[9] is None else date.fromisoformat(row[9]),
        status=row[10],
        withdrawn=bool(row[11]),
        saved_at=_parse_ts(row[12]),
        saved_by=row[13],
        saved_by_name=row[14],
        created_at=_parse_ts(row[15]),
        created_by=row[16],
        created_by_name=row[17],
    )


def add_note(
    ex: Extract,
    viewer: Viewer,
    subject: Subject,
    period: date,
    kind: NoteKind,
    text_: str,
    *,
    owner: str | None = None,
    due: date | None = None,
    status: Status | None = None,
    page: str = "noter",
    path: Path | str | None = None,
) -> NoteVersion:
    """Begin a new note (version 1). AccessDenied outside the writer's scope, NoteError for
    content that cannot be saved."""
    _check_kind(subject, kind)
    _require_write(ex, viewer, subject, page)
    content = _content(kind, text_, owner, due, status)
    note_id = uuid.uuid4().hex
    now = datetime.now(UTC)
    if subject.kind == "case":
        audit_append(
            AuditEvent.by(
                viewer,
                page,
                "view",
                [subject.id],
                target=f"sagsnote {note_id} skrevet",
                extract_as_of=ex.as_of,
            )
        )
    with storage.write(path) as conn:
        conn.execute(
            text(
                "INSERT INTO note (note_id, subject_kind, subject_id, unit_id, period, kind, created_at, "
                "created_by, created_by_name) VALUES (:note_id, :subject_kind, :subject_id, :unit_id, :period, "
                ":kind, :created_at, :created_by, :created_by_name)"
            ),
            {
                "note_id": note_id,
                "subject_kind": subject.kind,
                "subject_id": subject.id,
                "unit_id": subject.unit_id,
                "period": period.isoformat(),
                "kind": kind,
                "created_at": _ts(now),
                "created_by": viewer.employee_id,
                "created_by_name": viewer.name,
            },
        )
        _insert_version(conn, note_id, 1, content, False, viewer, now)
    return _one(path, note_id)


def _insert_version(
    conn: Connection,
    note_id: str,
    version: int,
    content: dict[str, Any],
    withdrawn: bool,
    viewer: Viewer,
    now: datetime,
) -> None:
    conn.execute(
        text(
            "INSERT INTO note_version (note_id, version, text, owner, due, status, withdrawn, saved_at, saved_by, "
            "saved_by_name, saved_by_role) VALUES (:note_id, :version, :text, :owner, :due, :status, :withdrawn, "
            ":saved_at, :saved_by, :saved_by_name, :saved_by_role)"
        ),
        {"note_id": note_id, "version": version, **content, "withdrawn": int(withdrawn), **_who(viewer, now)},
    )


def _one(path: Path | str | None, note_id: str, version: int | None = None) -> NoteVersion:
    with storage.read(path) as conn:
        if version is None:
            row = conn.execute(text(_SELECT + " WHERE n.note_id = :id" + _LATEST), {"id": note_id}).first()
        else:
            row = conn.execute(
                text(_SELECT + " WHERE n.note_id = :id AND v.version = :v"), {"id": note_id, "v": version}
            ).first()
    if row is None:
        raise NoteNotFound(f"ingen note med id {note_id!r}")
    return _note(row)


def edit_note(
    ex: Extract,
    viewer: Viewer,
    note_id: str,
    based_on: int,
    text_: str,
    *,
    owner: str | None = None,
    due: date | None = None,
    status: Status | None = None,
    withdrawn: bool = False,
    page: str = "noter",
    path: Path | str | None = None,
) -> NoteVersion:
    """Save a new version (the whole content) of a note, based on version `based_on`.

    EditConflict (nothing written) when a newer version than `based_on` exists;
    NoteNotFound, AccessDenied (outside the writer's scope), NoteError (content)."""
    current = _one(path, note_id)
    subject = current.subject
    _require_write(ex, viewer, subject, page)
    content = _content(current.kind, text_, owner, due, status)
    if subject.kind == "case":
        audit_append(
            AuditEvent.by(
                viewer,
                page,
                "view",
                [subject.id],
                target=f"sagsnote {note_id} version {based_on + 1} gemt",
                extract_as_of=ex.as_of,
            )
        )
    now = datetime.now(UTC)
    try:
        with storage.write(path) as conn:
            latest = conn.execute(
                text("SELECT max(version) FROM note_version WHERE note_id = :id"), {"id": note_id}
            ).scalar()
            if latest != based_on:
                raise _conflict(note_id, based_on, _one_in(conn, note_id))
            _insert_version(conn, note_id, based_on + 1, content, withdrawn, viewer, now)
    except IntegrityError:
        # Another save of the same version won the race (the primary key refused ours).
        newest = _one(path, note_id)
        if newest.version == based_on:
            raise
        raise _conflict(note_id, based_on, newest) from None
    return _one(path, note_id, based_on + 1)


def _one_in(conn: Connection, note_id: str) -> NoteVersion:
    row = conn.execute(text(_SELECT + " WHERE n.note_id = :id" + _LATEST), {"id": note_id}).first()
    assert row is not None
    return _note(row)


def _conflict(what: str, based_on: int, newest: NoteVersion | ActionStatus) -> EditConflict:
    return EditConflict(
        what, based_on, newest.version, newest.saved_by, newest.saved_by_name, newest.saved_at
    )


def withdraw_note(
    ex: Extract,
    viewer: Viewer,
    note_id: str,
    based_on: int,
    *,
    page: str = "noter",
    path: Path | str | None = None,
) -> NoteVersion:
    """Withdraw a note: a new version with the same content, marked withdrawn (history kept).
    Restore it with `edit_note(..., withdrawn=False)`."""
    current = _one(path, note_id, based_on)
    return edit_note(
        ex,
        viewer,
        note_id,
        based_on,
        current.text,
        owner=current.owner,
        due=current.due,
        status=current.status,
        withdrawn=True,
        page=page,
        path=path,
    )


# --- notes: reading ----------------------------------------------------------------------------


def notes_for(
    ex: Extract,
    viewer: Viewer,
    subject: Subject,
    period: date,
    *,
    include_withdrawn: bool = False,
    page: str = "noter",
    path: Path | str | None = None,
) -> list[NoteVersion]:
    """The latest version of every note on this subject, unit and period, oldest note first."""
    _require_read(ex, viewer, subject, page)
    with storage.read(path) as conn:
        rows = conn.execute(
            text(
                _SELECT
                + " WHERE n.subject_kind = :k AND n.subject_id = :s AND n.unit_id = :u AND n.period = :p"
                + _LATEST
                + ("" if include_withdrawn else " AND v.withdrawn = 0")
                + " ORDER BY n.created_at, n.note_id"
            ),
            {"k": subject.kind, "s": subject.id, "u": subject.unit_id, "p": period.isoformat()},
        ).all()
    notes = [_note(r) for r in rows]
    _audit_case_notes(ex, viewer, page, notes, f"sagsnoter på sagen {subject.id}")
    return notes


def previous_note(
    ex: Extract,
    viewer: Viewer,
    subject: Subject,
    period: date,
    kind: NoteKind = "explanation",
    *,
    page: str = "noter",
    path: Path | str | None = None,
) -> NoteVersion | None:
    """ "Fra sidste møde": the latest version of the newest note of this kind on the subject and
    unit from an earlier period (withdrawn notes skipped); None if there is none."""
    _require_read(ex, viewer, subject, page)
    with storage.read(path) as conn:
        row = conn.execute(
            text(
                _SELECT
                + " WHERE n.subject_kind = :k AND n.subject_id = :s AND n.unit_id = :u AND n.kind = :kind "
                "AND n.period < :p"
                + _LATEST
                + " AND v.withdrawn = 0 ORDER BY n.period DESC, v.saved_at DESC LIMIT 1"
            ),
            {"k": subject.kind, "s": subject.id, "u": subject.unit_id, "kind": kind, "p": period.isoformat()},
        ).first()
    note = None if row is None else _note(row)
    if note is not None:
        _audit_case_notes(ex, viewer, page, [note], f"sagsnote fra sidste møde på sagen {subject.id}")
    return note


def note_history(
    ex: Extract, viewer: Viewer, note_id: str, *, page: str = "noter", path: Path | str | None = None
) -> list[NoteVersion]:
    """Every version of a note, oldest first (withdrawn ones included)."""
    current = _one(path, note_id)
    _require_read(ex, viewer, current.subject, page)
    with storage.read(path) as conn:
        rows = conn.execute(
            text(_SELECT + " WHERE n.note_id = :id ORDER BY v.version"), {"id": note_id}
        ).all()
    versions = [_note(r) for r in rows]
    _audit_case_notes(ex, viewer, page, versions[-1:], f"historik for sagsnote {note_id}")
    return versions


def _visible(ex: Extract, viewer: Viewer, notes: Iterable[NoteVersion]) -> list[NoteVersion]:
    """The notes the viewer may read (case notes by case scope; notes on a unit that is not in
    the extract's tree are left out)."""
    return [n for n in notes if can_read(ex, viewer, n.subject)]


def _in_subtree(
    conn: Connection, sql: str, units: Sequence[str], params: dict[str, Any]
) -> list[NoteVersion]:
    stmt = text(sql).bindparams(bindparam("units", expanding=True))
    return [_note(r) for r in conn.execute(stmt, {**params, "units": list(units)})]


def open_decisions(
    ex: Extract,
    viewer: Viewer,
    unit_id: str,
    before: date,
    *,
    path: Path | str | None = None,
) -> list[NoteVersion]:
    """Decisions from periods before `before` on the units of `unit_id`'s subtree that are
    not done (status not gennemfoert) and not withdrawn, for the next agenda: earliest due
    date first. AccessDenied if the viewer may not see the unit."""
    _require_read(ex, viewer, Subject.kpi("", unit_id), "noter")
    units = sorted(org_tree(ex).subtree(unit_id))
    with storage.read(path) as conn:
        notes = _in_subtree(
            conn,
            _SELECT
            + " WHERE n.kind = 'decision' AND n.unit_id IN :units AND n.period < :p"
            + _LATEST
            + " AND v.withdrawn = 0 AND v.status <> 'gennemfoert' ORDER BY v.due, n.period, n.created_at",
            units,
            {"p": before.isoformat()},
        )
    return _visible(ex, viewer, notes)


def meeting_notes(
    ex: Extract,
    viewer: Viewer,
    unit_id: str,
    period: date,
    *,
    include_withdrawn: bool = False,
    page: str = "moede",
    path: Path | str | None = None,
) -> pl.DataFrame:
    """Every note of this period on the units of `unit_id`'s subtree (latest versions; case
    notes only on cases the viewer may see, and then audited), as a frame of NOTES_SCHEMA
    sorted by unit, subject kind, subject and creation."""
    _require_read(ex, viewer, Subject.kpi("", unit_id), page)
    units = sorted(org_tree(ex).subtree(unit_id))
    with storage.read(path) as conn:
        notes = _in_subtree(
            conn,
            _SELECT
            + " WHERE n.unit_id IN :units AND n.period = :p"
            + _LATEST
            + ("" if include_withdrawn else " AND v.withdrawn = 0")
            + " ORDER BY n.unit_id, n.subject_kind, n.subject_id, n.created_at, n.note_id",
            units,
            {"p": period.isoformat()},
        )
    notes = _visible(ex, viewer, notes)
    _audit_case_notes(ex, viewer, page, notes, f"sagsnoter til mødet {period.isoformat()}")
    return notes_frame(notes)


def pack_notes(
    ex: Extract,
    viewer: Viewer,
    unit_id: str,
    period: date,
    *,
    page: str = "moede",
    path: Path | str | None = None,
) -> pl.DataFrame:
    """What the meeting pack carries (NOTES_SCHEMA): this period's notes on the unit's subtree
    (`meeting_notes`, case notes only where the viewer may see the case) and the open
    decisions of earlier meetings (`open_decisions`)."""
    now = meeting_notes(ex, viewer, unit_id, period, page=page, path=path)
    return pl.concat([now, notes_frame(open_decisions(ex, viewer, unit_id, period, path=path))])


def notes_frame(notes: Sequence[NoteVersion]) -> pl.DataFrame:
    """Notes as a frame with the columns of NOTES_SCHEMA (one row per note version given)."""
    rows = [{k: getattr(n, k) for k in NOTES_SCHEMA.names()} for n in notes]
    return (
        pl.DataFrame(rows, schema=NOTES_SCHEMA, orient="row") if rows else pl.DataFrame(schema=NOTES_SCHEMA)
    )


# --- action status -----------------------------------------------------------------------------

_ACTION_SELECT = (
    "SELECT action_id, unit_id, version, status, status_on, note, saved_at, saved_by, saved_by_name "
    "FROM action_status"
)


def _action(row: Sequence[Any]) -> ActionStatus:
    return ActionStatus(
        action_id=row[0],
        unit_id=row[1],
        version=int(row[2]),
        status=row[3],
        status_on=date.fromisoformat(row[4]),
        note=row[5],
        saved_at=_parse_ts(row[6]),
        saved_by=row[7],
        saved_by_name=row[8],
    )


def _known_action(action_id: str, scorecard: Scorecard | None) -> None:
    if scorecard is None:
        from metrics.scorecard import load_scorecard

        scorecard = load_scorecard()
    known = {a.id for k in scorecard.kpis for a in k.actions}
    if action_id not in known:
        raise NoteError(f"ukendt handling {action_id!r}: ikke et id i scorecard-filens handlinger")


def set_action_status(
    ex: Extract,
    viewer: Viewer,
    action_id: str,
    unit_id: str,
    status: Status,
    based_on: int | None,
    *,
    on: date | None = None,
    note: str = "",
    scorecard: Scorecard | None = None,
    path: Path | str | None = None,
) -> ActionStatus:
    """Save a dated status update of a scorecard action in a unit, based on version
    `based_on` (None: the first status). `on`: the day it applies, default today (UTC).
    EditConflict when someone saved a newer update meanwhile; AccessDenied outside the
    writer's subtree; NoteError for an unknown action id (checked against `scorecard`, a
    metrics.scorecard.Scorecard, default the configured file) or status."""
    if not can_write_unit(ex, viewer, unit_id):
        raise AccessDenied(
            "at skrive på enheden" if can_see_unit(ex, viewer, unit_id) else "enheden", unit_id
        )
    _known_action(action_id, scorecard)
    if status not in STATUSES:
        raise NoteError(f"ukendt status {status!r} (tilladt: {', '.join(STATUSES)})")
    body = _clean_text(note, "Noten", required=False)
    now = datetime.now(UTC)
    base = based_on or 0
    what = f"{action_id}@{unit_id}"
    params = {"a": action_id, "u": unit_id}
    try:
        with storage.write(path) as conn:
            latest = conn.execute(
                text("SELECT max(version) FROM action_status WHERE action_id = :a AND unit_id = :u"), params
            ).scalar()
            if (latest or 0) != base:
                row = conn.execute(
                    text(
                        _ACTION_SELECT
                        + " WHERE action_id = :a AND unit_id = :u ORDER BY version DESC LIMIT 1"
                    ),
                    params,
                ).first()
                assert row is not None
                raise _conflict(what, base, _action(row))
            conn.execute(
                text(
                    "INSERT INTO action_status (action_id, unit_id, version, status, status_on, note, saved_at, "
                    "saved_by, saved_by_name, saved_by_role) VALUES (:a, :u, :v, :status, :on, :note, :saved_at, "
                    ":saved_by, :saved_by_name, :saved_by_role)"
                ),
                {
                    **params,
                    "v": base + 1,
                    "status": status,
                    "on": (on or now.date()).isoformat(),
                    "note": body,
                    **_who(viewer, now),
                },
            )
    except IntegrityError:
        newest = action_status(ex, viewer, action_id, unit_id, path=path)
        if newest is None or newest.version == base:
            raise
        raise _conflict(what, base, newest) from None
    history = action_history(ex, viewer, action_id, unit_id, path=path)
    return history[base]


def action_history(
    ex: Extract, viewer: Viewer, action_id: str, unit_id: str, *, path: Path | str | None = None
) -> list[ActionStatus]:
    """Every status update of the action in the unit, oldest first."""
    if not can_see_unit(ex, viewer, unit_id):
        raise AccessDenied("enheden", unit_id)
    with storage.read(path) as conn:
        rows = conn.execute(
            text(_ACTION_SELECT + " WHERE action_id = :a AND unit_id = :u ORDER BY version"),
            {"a": action_id, "u": unit_id},
        ).all()
    return [_action(r) for r in rows]


def action_status(
    ex: Extract, viewer: Viewer, action_id: str, unit_id: str, *, path: Path | str | None = None
) -> ActionStatus | None:
    """The newest status update of the action in the unit; None if it has none (ikke startet)."""
    history = action_history(ex, viewer, action_id, unit_id, path=path)
    return history[-1] if history else None


def action_statuses(
    ex: Extract, viewer: Viewer, unit_id: str, *, path: Path | str | None = None
) -> dict[str, ActionStatus]:
    """The newest status update of every action that has one in the unit, by action id."""
    if not can_see_unit(ex, viewer, unit_id):
        raise AccessDenied("enheden", unit_id)
    with storage.read(path) as conn:
        rows = conn.execute(
            text(
                _ACTION_SELECT + " s WHERE unit_id = :u AND version = "
                "(SELECT max(t.version) FROM action_status t WHERE t.action_id = s.action_id AND t.unit_id = s.unit_id)"
            ),
            {"u": unit_id},
        ).all()
    return {r[0]: _action(r) for r in rows}
