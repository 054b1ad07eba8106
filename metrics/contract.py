"""The extract contract (../shared/spec/data-contract.md, version 1.1) as data.

Column order, Polars dtypes and nullability for every table. The loader, the
validation schemas, the demo generator and the tests all read this one table.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

CONTRACT_VERSION = 1

UNIT_LEVELS = ("kommune", "forvaltning", "afdeling", "team")
ROLES = ("raadgiver", "teamleder", "leder", "administration")
CATEGORIES = ("anbringelse", "forebyggende", "andet")
DEADLINE_KINDS = ("undersoegelse", "handleplan", "opfoelgning")
ABSENCE_KINDS = ("egen_sygdom", "barns_sygdom", "arbejdsskade", "andet")
ACCOUNT_PATTERN = r"^\d\.\d{2}\.\d{2}$"
CHANNELS = ("telefon", "mail", "digital_post", "personligt", "andet")
DEMAND_TYPES = ("vaerdi", "fejl")

TIMESTAMP = pl.Datetime("us")


@dataclass(frozen=True)
class Col:
    name: str
    dtype: pl.DataType
    nullable: bool = False


TABLES: dict[str, tuple[Col, ...]] = {
    "org_units": (
        Col("unit_id", pl.String()),
        Col("parent_id", pl.String(), nullable=True),
        Col("name", pl.String()),
        Col("level", pl.String()),
    ),
    "employees": (
        Col("employee_id", pl.String()),
        Col("name", pl.String()),
        Col("email", pl.String(), nullable=True),
        Col("unit_id", pl.String()),
        Col("role", pl.String()),
        Col("fte", pl.Float64()),
        Col("employed_from", pl.Date()),
        Col("employed_to", pl.Date(), nullable=True),
    ),
    "cases": (
        Col("case_id", pl.String()),
        Col("child_id", pl.String()),
        Col("unit_id", pl.String()),
        Col("caseworker_id", pl.String(), nullable=True),
        Col("birth_year", pl.Int64()),
        Col("opened_on", pl.Date()),
        Col("closed_on", pl.Date(), nullable=True),
    ),
    "intervention_kinds": (
        Col("kind_id", pl.String()),
        Col("name", pl.String()),
        Col("category", pl.String()),
        Col("account", pl.String()),
        Col("legal_basis", pl.String(), nullable=True),
    ),
    "interventions": (
        Col("intervention_id", pl.String()),
        Col("case_id", pl.String()),
        Col("kind_id", pl.String()),
        Col("provider", pl.String(), nullable=True),
        Col("decided_on", pl.Date()),
        Col("start_on", pl.Date()),
        Col("end_on", pl.Date(), nullable=True),
        Col("monthly_cost", pl.Float64()),
    ),
    "payments": (
        Col("payment_id", pl.String()),
        Col("intervention_id", pl.String()),
        Col("period", pl.Date()),
        Col("posted_on", pl.Date()),
        Col("amount", pl.Float64()),
    ),
    "budgets": (
        Col("year", pl.Int64()),
        Col("unit_id", pl.String()),
        Col("account", pl.String()),
        Col("amount", pl.Float64()),
    ),
    "notifications": (
        Col("notification_id", pl.String()),
        Col("child_id", pl.String()),
        Col("case_id", pl.String(), nullable=True),
        Col("unit_id", pl.String()),
        Col("source", pl.String()),
        Col("received_at", TIMESTAMP),
        Col("assessed_at", TIMESTAMP, nullable=True),
    ),
    "deadlines": (
        Col("deadline_id", pl.String()),
        Col("case_id", pl.String()),
        Col("kind", pl.String()),
        Col("started_on", pl.Date()),
        Col("due_on", pl.Date()),
        Col("done_on", pl.Date(), nullable=True),
    ),
    "absences": (
        Col("employee_id", pl.String()),
        Col("kind", pl.String()),
        Col("start_on", pl.Date()),
        Col("end_on", pl.Date()),
    ),
    "measurements": (
        Col("kpi_id", pl.String()),
        Col("unit_id", pl.String()),
        Col("period_end", pl.Date()),
        Col("value", pl.Float64()),
        Col("respondents", pl.Int64(), nullable=True),
    ),
    # Version 1.1, optional: an extract without contacts.parquet is complete.
    "contacts": (
        Col("contact_id", pl.String()),
        Col("unit_id", pl.String()),
        Col("case_id", pl.String(), nullable=True),
        Col("received_at", TIMESTAMP),
        Col("channel", pl.String()),
        Col("demand_type", pl.String()),
        Col("reason", pl.String()),
    ),
}

OPTIONAL_TABLES: tuple[str, ...] = ("contacts",)
# The tables every extract has; ALL_TABLE_NAMES adds the optional ones an extract may have.
TABLE_NAMES: tuple[str, ...] = tuple(t for t in TABLES if t not in OPTIONAL_TABLES)
ALL_TABLE_NAMES: tuple[str, ...] = tuple(TABLES)
MANIFEST_FILE = "manifest.json"


def file_name(table: str) -> str:
    return f"{table}.parquet"


def polars_schema(table: str) -> pl.Schema:
    return pl.Schema({c.name: c.dtype for c in TABLES[table]})


def empty_frame(table: str) -> pl.DataFrame:
    return pl.DataFrame(schema=polars_schema(table))


# Danish names of the tables, for pages and exports (capitalised; lower-case them mid-sentence).
TABLE_LABELS: dict[str, str] = {
    "org_units": "Organisation",
    "employees": "Medarbejdere",
    "cases": "Sager",
    "intervention_kinds": "Foranstaltningstyper",
    "interventions": "Foranstaltninger",
    "payments": "Betalinger",
    "budgets": "Budgetter",
    "notifications": "Underretninger",
    "deadlines": "Frister",
    "absences": "Fravær",
    "measurements": "Målinger",
    "contacts": "Henvendelser",
}
