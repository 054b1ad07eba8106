"""A tamper-evident audit log: a hash chain, and no insert over an existing row.

Every row appended from now on stores `seq` (its position in the log, from 1), `prev_hash`
(the previous row's hash) and `row_hash` (the hash of its own content and prev_hash). Rows
from before (a previous release's log) keep NULL there; the first chained row's prev_hash
seals them (metrics/audit.py computes it over all of them).

SQLite resolves INSERT OR REPLACE by deleting the old row without firing the DELETE
trigger, so a BEFORE INSERT trigger refuses any insert whose key exists. On PostgreSQL an
upsert's DO UPDATE meets the UPDATE trigger; the INSERT trigger makes DO NOTHING loud too.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_COLUMNS = [("seq", "BIGINT"), ("prev_hash", "TEXT"), ("row_hash", "TEXT")]

_SQLITE = [
    """CREATE TRIGGER audit_event_no_overwrite BEFORE INSERT ON audit_event
    WHEN EXISTS (SELECT 1 FROM audit_event WHERE event_id = NEW.event_id)
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: the event id exists'); END""",
    """CREATE TRIGGER audit_case_no_overwrite BEFORE INSERT ON audit_case
    WHEN EXISTS (SELECT 1 FROM audit_case WHERE event_id = NEW.event_id AND case_id = NEW.case_id)
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: the case row exists'); END""",
]

_POSTGRES = [
    """CREATE FUNCTION audit_event_no_overwrite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM audit_event WHERE event_id = NEW.event_id) THEN
        RAISE EXCEPTION 'the audit log is append-only: the event id exists'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$""",
    """CREATE FUNCTION audit_case_no_overwrite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM audit_case WHERE event_id = NEW.event_id AND case_id = NEW.case_id) THEN
        RAISE EXCEPTION 'the audit log is append-only: the case row exists'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$""",
    "CREATE TRIGGER audit_event_no_overwrite BEFORE INSERT ON audit_event "
    "FOR EACH ROW EXECUTE FUNCTION audit_event_no_overwrite()",
    "CREATE TRIGGER audit_case_no_overwrite BEFORE INSERT ON audit_case "
    "FOR EACH ROW EXECUTE FUNCTION audit_case_no_overwrite()",
]


def upgrade() -> None:
    for name, kind in _COLUMNS:
        op.execute(f"ALTER TABLE audit_event ADD COLUMN {name} {kind}")
    for sql in _POSTGRES if op.get_bind().dialect.name == "postgresql" else _SQLITE:
        op.execute(sql)
