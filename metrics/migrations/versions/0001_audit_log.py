"""The audit log as the previous release kept it (raw SQLite, metrics/audit.py).

On SQLite every statement is IF NOT EXISTS, so a log file made by the previous release is
adopted as it is, rows untouched. On PostgreSQL the same tables and guarantees.

Revision ID: 0001
Revises:
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_SQLITE = [
    """CREATE TABLE IF NOT EXISTS audit_event (
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
)""",
    """CREATE TABLE IF NOT EXISTS audit_case (
    event_id INTEGER NOT NULL REFERENCES audit_event (event_id),
    case_id  TEXT    NOT NULL,
    PRIMARY KEY (event_id, case_id)
) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS audit_case_by_case ON audit_case (case_id)",
    "CREATE INDEX IF NOT EXISTS audit_event_by_time ON audit_event (at_utc)",
    "CREATE INDEX IF NOT EXISTS audit_event_by_employee ON audit_event (employee_id)",
    *[
        f"CREATE TRIGGER IF NOT EXISTS {table}_append_only_{op_[0]} BEFORE {op_} ON {table} "
        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
        for table in ("audit_event", "audit_case")
        for op_ in ("UPDATE", "DELETE")
    ],
]

_POSTGRES = [
    """CREATE TABLE audit_event (
    event_id      BIGINT  PRIMARY KEY,
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
)""",
    """CREATE TABLE audit_case (
    event_id BIGINT NOT NULL REFERENCES audit_event (event_id),
    case_id  TEXT   NOT NULL,
    PRIMARY KEY (event_id, case_id)
)""",
    "CREATE INDEX audit_case_by_case ON audit_case (case_id)",
    "CREATE INDEX audit_event_by_time ON audit_event (at_utc)",
    "CREATE INDEX audit_event_by_employee ON audit_event (employee_id)",
    """CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only' USING ERRCODE = 'integrity_constraint_violation';
END $$""",
    *[
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION audit_append_only()"
        for table in ("audit_event", "audit_case")
    ],
    *[
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()"
        for table in ("audit_event", "audit_case")
    ],
]


def upgrade() -> None:
    for sql in _POSTGRES if op.get_bind().dialect.name == "postgresql" else _SQLITE:
        op.execute(sql)
