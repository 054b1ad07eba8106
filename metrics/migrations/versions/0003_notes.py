"""Comments, decisions, case review notes and action status: what users write at meetings.

`note` is the identity of one comment (what it is about: subject, unit, period, kind; who
began it); `note_version` holds every version of its content, numbered from 1. Nothing is
ever updated or deleted (triggers refuse it); an edit is a new version, withdrawing one is a
version with `withdrawn` set. The primary key (note_id, version) is what makes a stale save
fail: two saves of version n+1 cannot both succeed, whichever engine and however close.
`action_status` does the same for the status of a scorecard action (config/scorecard.toml
id) in a unit. Times are UTC ISO text, dates ISO text, as in the audit log.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_WHO = "saved_at TEXT NOT NULL, saved_by TEXT, saved_by_name TEXT NOT NULL, saved_by_role TEXT NOT NULL"
_STATUSES = "('ikke_startet', 'i_gang', 'gennemfoert')"

_TABLES = [
    """CREATE TABLE note (
    note_id         TEXT PRIMARY KEY,
    subject_kind    TEXT NOT NULL CHECK (subject_kind IN ('kpi', 'account', 'case')),
    subject_id      TEXT NOT NULL,
    unit_id         TEXT NOT NULL,
    period          TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('explanation', 'decision', 'case_review')),
    created_at      TEXT NOT NULL,
    created_by      TEXT,
    created_by_name TEXT NOT NULL,
    CHECK ((subject_kind = 'case') = (kind = 'case_review'))
)""",
    "CREATE INDEX note_by_subject ON note (subject_kind, subject_id, unit_id, period)",
    "CREATE INDEX note_by_unit_period ON note (unit_id, period)",
    f"""CREATE TABLE note_version (
    note_id   TEXT    NOT NULL REFERENCES note (note_id),
    version   INTEGER NOT NULL CHECK (version >= 1),
    text      TEXT    NOT NULL,
    owner     TEXT,
    due       TEXT,
    status    TEXT CHECK (status IS NULL OR status IN {_STATUSES}),
    withdrawn INTEGER NOT NULL CHECK (withdrawn IN (0, 1)),
    {_WHO},
    PRIMARY KEY (note_id, version)
)""",
    f"""CREATE TABLE action_status (
    action_id TEXT    NOT NULL,
    unit_id   TEXT    NOT NULL,
    version   INTEGER NOT NULL CHECK (version >= 1),
    status    TEXT    NOT NULL CHECK (status IN {_STATUSES}),
    status_on TEXT    NOT NULL,
    note      TEXT    NOT NULL,
    {_WHO},
    PRIMARY KEY (action_id, unit_id, version)
)""",
]
_GUARDED = ("note", "note_version", "action_status")


def upgrade() -> None:
    for sql in _TABLES:
        op.execute(sql)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """CREATE FUNCTION notes_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'notes are append-only: save a new version' USING ERRCODE = 'integrity_constraint_violation';
END $$"""
        )
        for table in _GUARDED:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION notes_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION notes_append_only()"
            )
    else:
        for table in _GUARDED:
            for what in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_append_only_{what[0].lower()} BEFORE {what} ON {table} "
                    "BEGIN SELECT RAISE(ABORT, 'notes are append-only: save a new version'); END"
                )
        # INSERT OR REPLACE would delete the old version without the DELETE trigger.
        for table, key in (("note_version", "note_id"), ("action_status", "action_id")):
            op.execute(
                f"CREATE TRIGGER {table}_no_overwrite BEFORE INSERT ON {table} "
                f"WHEN EXISTS (SELECT 1 FROM {table} t WHERE t.{key} = NEW.{key} AND t.version = NEW.version"
                + (" AND t.unit_id = NEW.unit_id" if table == "action_status" else "")
                + ") BEGIN SELECT RAISE(ABORT, 'notes are append-only: this version exists'); END"
            )
