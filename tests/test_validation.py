"""Loading and validating extracts against data-contract.md (metrics.loader, metrics.schemas).

Every test starts from `base_frames()`, a tiny valid extract touching all 11 tables,
and changes or adds a row or two. The helpers (`base_frames`, `new_row`, `validate`,
`write_extract`, ...) live only in this module; tests/conftest.py is not used.
"""

from __future__ import annotations

import json
import math
from copy import deepcopy
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from metrics.contract import ALL_TABLE_NAMES, TABLE_NAMES, TABLES, empty_frame, file_name, polars_schema
from metrics.extract import Extract, Manifest
from metrics.loader import (
    RULE_TEXT,
    ExtractRefused,
    list_extracts,
    load_extract,
    rule_text,
    validate_frames,
    validation_json,
)
from metrics.schemas import PRIMARY_KEYS, SCHEMAS
from tests.conftest import frame

AS_OF = date(2024, 6, 14)
MANIFEST = Manifest(
    contract_version=1,
    municipality="Testkommune",
    as_of=AS_OF,
    created_at=datetime(2024, 6, 14, 6, 0),
    sources=("DUBU", "Opus"),
    synthetic=True,
)
MANIFEST_JSON: dict[str, Any] = {
    "contract_version": 1,
    "municipality": "Testkommune",
    "as_of": "2024-06-14",
    "created_at": "2024-06-14T06:00:00",
    "sources": ["DUBU", "Opus"],
    "synthetic": True,
}

# A tiny valid extract. Every foreign key resolves; every date order holds.
BASE: dict[str, list[dict[str, Any]]] = {
    "org_units": [
        {"unit_id": "K", "parent_id": None, "name": "Kommune", "level": "kommune"},
        {"unit_id": "A", "parent_id": "K", "name": "Team A", "level": "team"},
        {"unit_id": "B", "parent_id": "K", "name": "Team B", "level": "team"},
    ],
    "employees": [
        {
            "employee_id": "e1", "name": "Anna", "email": "anna@k.dk", "unit_id": "A", "role": "raadgiver",
            "fte": 1.0, "employed_from": date(2020, 1, 1), "employed_to": None,
        },
        {
            "employee_id": "e2", "name": "Bo", "email": None, "unit_id": "B", "role": "teamleder",
            "fte": 0.5, "employed_from": date(2021, 3, 1), "employed_to": date(2024, 5, 31),
        },
    ],
    "cases": [
        {
            "case_id": "c1", "child_id": "ch1", "unit_id": "A", "caseworker_id": "e1", "birth_year": 2015,
            "opened_on": date(2023, 1, 10), "closed_on": None,
        },
        {
            "case_id": "c2", "child_id": "ch2", "unit_id": "B", "caseworker_id": None, "birth_year": 2010,
            "opened_on": date(2022, 5, 1), "closed_on": date(2024, 1, 31),
        },
    ],
    "intervention_kinds": [
        {
            "kind_id": "k1", "name": "Netværksplejefamilie", "category": "anbringelse", "account": "5.28.22",
            "legal_basis": "Barnets lov § 43",
        },
        {"kind_id": "k2", "name": "Familiebehandling", "category": "forebyggende", "account": "5.28.21", "legal_basis": None},
    ],
    "interventions": [
        {
            "intervention_id": "i1", "case_id": "c1", "kind_id": "k1", "provider": "Lev A",
            "decided_on": date(2023, 1, 15), "start_on": date(2023, 2, 1), "end_on": None, "monthly_cost": 30000.0,
        },
        {
            "intervention_id": "i2", "case_id": "c2", "kind_id": "k2", "provider": None,
            "decided_on": date(2022, 5, 2), "start_on": date(2022, 6, 1), "end_on": date(2023, 12, 31),
            "monthly_cost": 8000.0,
        },
    ],
    "payments": [
        {"payment_id": "p1", "intervention_id": "i1", "period": date(2024, 1, 1), "posted_on": date(2024, 1, 5), "amount": 30000.0},
        {"payment_id": "p2", "intervention_id": "i1", "period": date(2024, 2, 1), "posted_on": date(2024, 2, 5), "amount": 30000.0},
        {"payment_id": "p3", "intervention_id": "i2", "period": date(2023, 12, 1), "posted_on": date(2023, 12, 3), "amount": -500.0},
    ],
    "budgets": [
        {"year": 2024, "unit_id": "A", "account": "5.28.22", "amount": 400000.0},
        {"year": 2024, "unit_id": "B", "account": "5.28.21", "amount": 100000.0},
    ],
    "notifications": [
        {
            "notification_id": "n1", "child_id": "ch1", "case_id": "c1", "unit_id": "A", "source": "skole",
            "received_at": datetime(2024, 3, 1, 10, 0), "assessed_at": datetime(2024, 3, 1, 15, 0),
        },
        {
            "notification_id": "n2", "child_id": "ch3", "case_id": None, "unit_id": "B", "source": "anonym",
            "received_at": datetime(2024, 6, 13, 9, 0), "assessed_at": None,
        },
    ],
    "deadlines": [
        {
            "deadline_id": "d1", "case_id": "c1", "kind": "undersoegelse", "started_on": date(2023, 1, 10),
            "due_on": date(2023, 5, 10), "done_on": date(2023, 4, 1),
        },
        {
            "deadline_id": "d2", "case_id": "c2", "kind": "handleplan", "started_on": date(2023, 1, 1),
            "due_on": date(2023, 3, 1), "done_on": None,
        },
    ],
    "absences": [
        {"employee_id": "e1", "kind": "egen_sygdom", "start_on": date(2024, 2, 5), "end_on": date(2024, 2, 7)},
        {"employee_id": "e2", "kind": "barns_sygdom", "start_on": date(2024, 3, 1), "end_on": date(2024, 3, 1)},
    ],
    "measurements": [
        {"kpi_id": "brugertilfredshed", "unit_id": "A", "period_end": date(2024, 3, 31), "value": 4.2, "respondents": 25},
        {"kpi_id": "brugertilfredshed", "unit_id": "B", "period_end": date(2024, 3, 31), "value": 3.9, "respondents": None},
    ],
    # optional (contract 1.1): not in base_frames(), given explicitly where a test needs it
    "contacts": [
        {
            "contact_id": "h1", "unit_id": "A", "case_id": "c1", "received_at": datetime(2024, 6, 3, 9, 30),
            "channel": "telefon", "demand_type": "fejl", "reason": "Har ikke hørt fra rådgiver",
        },
    ],
}  # fmt: skip

# For a new row: a fresh key, so only the rule under test can set it aside.
FRESH_KEY: dict[str, dict[str, Any]] = {
    "org_units": {"unit_id": "NEW", "parent_id": "A"},
    "employees": {"employee_id": "NEW"},
    "cases": {"case_id": "NEW"},
    "intervention_kinds": {"kind_id": "NEW"},
    "interventions": {"intervention_id": "NEW"},
    "payments": {"payment_id": "NEW"},
    "budgets": {"year": 2023},
    "notifications": {"notification_id": "NEW"},
    "deadlines": {"deadline_id": "NEW"},
    "absences": {},
    "measurements": {},
    "contacts": {"contact_id": "NEW"},
}


def rows(table: str) -> list[dict[str, Any]]:
    return deepcopy(BASE[table])


def base_frames() -> dict[str, pl.DataFrame]:
    return {t: frame(t, rows(t)) for t in TABLE_NAMES}


def new_row(table: str, **changes: Any) -> dict[str, Any]:
    """The table's first base row with a fresh key and `changes`."""
    return {**BASE[table][0], **FRESH_KEY[table], **changes}


def validate(**tables: list[dict[str, Any]] | pl.DataFrame) -> Extract:
    """Validate the base extract with some tables replaced (rows or frames)."""
    return validate_as_of(AS_OF, tables)


def validate_as_of(as_of: date, tables: dict[str, list[dict[str, Any]] | pl.DataFrame]) -> Extract:
    frames = base_frames()
    for t, v in tables.items():
        frames[t] = v if isinstance(v, pl.DataFrame) else frame(t, v)
    manifest = Manifest(1, "Testkommune", as_of, MANIFEST.created_at, MANIFEST.sources, synthetic=True)
    return validate_frames(manifest, frames)


def write_extract(
    root: Path,
    frames: dict[str, pl.DataFrame] | None = None,
    manifest: dict[str, Any] | None = None,
    folder: str = "2024-06-14",
) -> Path:
    """Write an extract folder (manifest.json + one Parquet file per given table)."""
    path = root / folder
    path.mkdir(parents=True, exist_ok=True)
    (path / "manifest.json").write_text(
        json.dumps(MANIFEST_JSON if manifest is None else manifest), encoding="utf-8"
    )
    for t, df in (base_frames() if frames is None else frames).items():
        df.write_parquet(path / file_name(t))
    return path


def only_rejected(ex: Extract, table: str) -> list[list[str]]:
    """The `_rules` of every set-aside row of `table`, in file order."""
    return [list(r) for r in ex.rejected[table]["_rules"].to_list()]


def assert_untouched(ex: Extract, *except_tables: str) -> None:
    """Every base table other than `except_tables` is fully accepted, unchanged."""
    for t in TABLE_NAMES:
        if t in except_tables:
            continue
        assert ex.report[t].rejected == 0, (t, ex.report[t])
        assert_frame_equal(ex[t], frame(t, rows(t)))


# ------------------------------------------------------------------------------------ #
#                                   the valid extract                                      #
# ------------------------------------------------------------------------------------ #


def test_valid_extract_from_frames_is_fully_accepted_with_contract_dtypes() -> None:
    ex = validate()
    assert_untouched(ex)
    for t in TABLE_NAMES:
        assert ex[t].schema == polars_schema(t)
        assert ex.rejected[t].columns == [*polars_schema(t), "_rules", "_message"]
        assert ex.report[t].reasons == {}
    assert ex.rejected_total == 0
    assert ex.manifest == MANIFEST


def test_valid_extract_from_files_matches_frames(tmp_path: Path) -> None:
    path = write_extract(tmp_path)
    ex = load_extract(path)
    assert ex.path == path
    assert ex.manifest == MANIFEST
    assert list(ex.report) == list(TABLE_NAMES)
    assert_untouched(ex)


def test_schemas_follow_the_contract() -> None:
    assert list(SCHEMAS) == list(ALL_TABLE_NAMES)
    for t, cols in TABLES.items():
        schema = SCHEMAS[t]
        assert schema.column_names() == [c.name for c in cols]
        for c in cols:
            column = schema.columns()[c.name]
            assert column.dtype == c.dtype, (t, c.name)
            assert column.nullable == c.nullable, (t, c.name)
        assert all(k in schema.column_names() for k in PRIMARY_KEYS[t])


def test_validate_frames_treats_omitted_tables_as_empty() -> None:
    ex = validate_frames(MANIFEST, {"intervention_kinds": BASE["intervention_kinds"]})
    assert ex["intervention_kinds"].height == 2
    assert_frame_equal(ex["payments"], empty_frame("payments"))
    assert ex.report["org_units"].accepted == 0
    # with an (explicitly) given org tree, facts referring to missing parents are set aside
    ex = validate_frames(MANIFEST, {"org_units": BASE["org_units"], "cases": BASE["cases"]})
    assert ex.report["cases"].reasons == {"caseworker_id|foreign_key": 1}


def test_validate_frames_accepts_python_types_that_cast() -> None:
    ex = validate_frames(
        MANIFEST,
        {
            "org_units": BASE["org_units"],
            "employees": pl.DataFrame(
                {
                    "employee_id": ["e1"], "name": ["Anna"], "email": [None], "unit_id": ["A"],
                    "role": ["raadgiver"], "fte": [1],  # int for float
                    "employed_from": ["2020-01-01"], "employed_to": [None],  # ISO string, all-null
                }
            ),
            "measurements": {
                "kpi_id": ["x"], "unit_id": ["K"], "period_end": [date(2024, 1, 31)], "value": [3],
                "respondents": [None],
            },
        },
    )  # fmt: skip
    assert ex.report["employees"].accepted == 1
    assert ex["employees"]["fte"].to_list() == [1.0]
    assert ex["employees"].schema == polars_schema("employees")
    assert ex["measurements"]["value"].dtype == pl.Float64


def test_validate_frames_rejects_unknown_table_names() -> None:
    with pytest.raises(ValueError, match="payment"):
        validate_frames(MANIFEST, {"payment": BASE["payments"]})


# ------------------------------------------------------------------------------------ #
#                                   refusal                                                #
# ------------------------------------------------------------------------------------ #


def refused(path: Path) -> ExtractRefused:
    with pytest.raises(ExtractRefused) as info:
        load_extract(path)
    return info.value


def errors_of(e: ExtractRefused) -> set[tuple[str, str | None]]:
    return {(err.file, err.column) for err in e.errors}


def test_missing_folder_is_refused(tmp_path: Path) -> None:
    e = refused(tmp_path / "2024-06-14")
    assert len(e.errors) == 1
    assert "mappen findes ikke" in e.errors[0].message


def test_missing_file_is_refused(tmp_path: Path) -> None:
    frames = base_frames()
    del frames["payments"]
    e = refused(write_extract(tmp_path, frames))
    assert errors_of(e) == {("payments.parquet", None)}
    assert "payments.parquet" in str(e)
    assert "mangler" in e.errors[0].message
    # the other tables were read: they are reported
    assert "payments" not in e.tables
    assert e.tables["interventions"].accepted == 2


def test_missing_column_is_refused_naming_file_and_column(tmp_path: Path) -> None:
    frames = base_frames()
    frames["payments"] = frames["payments"].drop("amount")
    e = refused(write_extract(tmp_path, frames))
    assert errors_of(e) == {("payments.parquet", "amount")}
    assert e.errors[0].message == "kolonnen 'amount' mangler (missing column)"
    assert "payments.parquet" in str(e) and "amount" in str(e)


def test_uncastable_columns_all_collected(tmp_path: Path) -> None:
    frames = base_frames()
    frames["payments"] = frames["payments"].with_columns(
        period=pl.Series(["2024-01-01", "abc", "2023-12-01"])
    )
    frames["employees"] = frames["employees"].with_columns(fte=pl.Series(["1", "x"]))
    frames["cases"] = frames["cases"].with_columns(birth_year=pl.Series([2015.0, 2010.5]))  # not whole
    frames["deadlines"] = frames["deadlines"].drop("kind")
    e = refused(write_extract(tmp_path, frames))
    assert errors_of(e) == {
        ("payments.parquet", "period"),
        ("employees.parquet", "fte"),
        ("cases.parquet", "birth_year"),
        ("deadlines.parquet", "kind"),
    }
    by_column = {err.column: err.message for err in e.errors}
    assert "kan ikke læses som dato" in by_column["period"]
    assert "'abc'" in by_column["period"]
    assert "kan ikke læses som tal" in by_column["fte"]
    assert "kan ikke læses som heltal" in by_column["birth_year"]
    text = str(e)
    for name in (
        "payments.parquet",
        "period",
        "employees.parquet",
        "fte",
        "cases.parquet",
        "deadlines.parquet",
    ):
        assert name in text
    assert "\n" not in text


def test_uncastable_column_refused_through_validate_frames() -> None:
    frames = base_frames()
    frames["budgets"] = frames["budgets"].with_columns(year=pl.Series([True, False]))
    with pytest.raises(ExtractRefused) as info:
        validate_frames(MANIFEST, frames)
    assert errors_of(info.value) == {("budgets.parquet", "year")}


def test_unreadable_parquet_is_refused(tmp_path: Path) -> None:
    path = write_extract(tmp_path)
    (path / "absences.parquet").write_bytes(b"not parquet")
    e = refused(path)
    assert errors_of(e) == {("absences.parquet", None)}


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"contract_version": 2}, "contract_version"),
        ({"contract_version": "1"}, "contract_version"),
        ({"as_of": "14-06-2024"}, "as_of"),
        ({"as_of": "2024-02-30"}, "as_of"),
        ({"created_at": "yesterday"}, "created_at"),
        ({"sources": "DUBU"}, "sources"),
        ({"sources": ["DUBU", 3]}, "sources"),
        ({"synthetic": "yes"}, "synthetic"),
        ({"municipality": None}, "municipality"),
    ],
)
def test_bad_manifest_key_is_refused(tmp_path: Path, change: dict[str, Any], key: str) -> None:
    e = refused(write_extract(tmp_path, manifest={**MANIFEST_JSON, **change}))
    assert errors_of(e) == {("manifest.json", key)}
    assert key in str(e)


def test_manifest_errors_are_all_collected_with_file_errors(tmp_path: Path) -> None:
    manifest = {k: v for k, v in MANIFEST_JSON.items() if k not in ("as_of", "municipality")}
    frames = base_frames()
    del frames["budgets"]
    e = refused(write_extract(tmp_path, frames, manifest={**manifest, "contract_version": 0}))
    assert errors_of(e) == {
        ("manifest.json", "as_of"),
        ("manifest.json", "municipality"),
        ("manifest.json", "contract_version"),
        ("budgets.parquet", None),
    }


def test_missing_or_broken_manifest_is_refused(tmp_path: Path) -> None:
    path = write_extract(tmp_path)
    (path / "manifest.json").unlink()
    assert errors_of(refused(path)) == {("manifest.json", None)}
    (path / "manifest.json").write_text("{not json", encoding="utf-8")
    assert errors_of(refused(path)) == {("manifest.json", None)}
    (path / "manifest.json").write_text("[1]", encoding="utf-8")
    assert errors_of(refused(path)) == {("manifest.json", None)}


def test_manifest_optional_synthetic_and_aware_created_at(tmp_path: Path) -> None:
    manifest = {k: v for k, v in MANIFEST_JSON.items() if k != "synthetic"}
    manifest["created_at"] = "2024-06-14T04:00:00+00:00"
    ex = load_extract(write_extract(tmp_path, manifest=manifest))
    assert ex.manifest.synthetic is False
    assert ex.manifest.created_at == datetime(2024, 6, 14, 6, 0)  # CEST, naive
    assert ex.manifest.sources == ("DUBU", "Opus")


# ------------------------------------------------------------------------------------ #
#                                   casting                                                #
# ------------------------------------------------------------------------------------ #


def test_castable_types_are_accepted_from_files(tmp_path: Path) -> None:
    frames = base_frames()
    frames["payments"] = frames["payments"].with_columns(
        amount=pl.Series([30000, 30000, -500], dtype=pl.Int32),  # int for float
        period=pl.Series(["2024-01-01", "2024-02-01", "2023-12-01"]),  # ISO strings for dates
        posted_on=pl.col("posted_on").cast(pl.Datetime("ns")),  # midnight timestamps for dates
    )
    frames["cases"] = frames["cases"].with_columns(
        birth_year=pl.col("birth_year").cast(pl.Float64)
    )  # whole floats
    frames["budgets"] = frames["budgets"].with_columns(year=pl.col("year").cast(pl.UInt16))
    frames["org_units"] = frames["org_units"].with_columns(level=pl.col("level").cast(pl.Categorical))
    frames["notifications"] = frames["notifications"].with_columns(
        # local time in Copenhagen: 09:00 UTC on 1 March is 10:00 (CET), 07:00 UTC on 13 June is 09:00 (CEST)
        received_at=pl.Series([datetime(2024, 3, 1, 9, 0), datetime(2024, 6, 13, 7, 0)]).dt.replace_time_zone(
            "UTC"
        ),
        assessed_at=pl.Series(["2024-03-01T15:00:00", None]),
    )
    ex = load_extract(write_extract(tmp_path, frames))
    assert_untouched(ex)


def test_date_column_with_a_time_of_day_is_refused(tmp_path: Path) -> None:
    frames = base_frames()
    frames["absences"] = frames["absences"].with_columns(
        start_on=pl.Series([datetime(2024, 2, 5, 0, 0), datetime(2024, 3, 1, 12, 30)])
    )
    e = refused(write_extract(tmp_path, frames))
    assert errors_of(e) == {("absences.parquet", "start_on")}


def test_extra_columns_are_ignored(tmp_path: Path) -> None:
    frames = base_frames()
    frames["cases"] = frames["cases"].with_columns(cpr_hint=pl.lit("x"), note=pl.lit(1))
    frames["payments"] = frames["payments"].select(pl.lit(True).alias("first"), pl.all().reverse().reverse())
    ex = load_extract(write_extract(tmp_path, frames))
    assert_untouched(ex)
    assert ex.rejected["cases"].columns == [*polars_schema("cases"), "_rules", "_message"]
    ex = validate(cases=frames["cases"])
    assert_untouched(ex)


def test_columns_in_another_order_are_put_in_contract_order(tmp_path: Path) -> None:
    frames = base_frames()
    frames["employees"] = frames["employees"].select(reversed(frames["employees"].columns))
    ex = load_extract(write_extract(tmp_path, frames))
    assert_untouched(ex)


# ------------------------------------------------------------------------------------ #
#                                   row rules, one row at a time                           #
# ------------------------------------------------------------------------------------ #

NAN, INF = math.nan, math.inf

ONE_RULE_CASES = [
    # nulls in non-nullable columns
    ("employees", {"name": None}, "name|nullability"),
    ("cases", {"child_id": None}, "child_id|nullability"),
    ("payments", {"amount": None}, "amount|nullability"),
    ("notifications", {"received_at": None}, "received_at|nullability"),
    ("measurements", {"kpi_id": None}, "kpi_id|nullability"),
    ("budgets", {"year": None}, "year|nullability"),
    # ranges
    ("employees", {"fte": 0.0}, "fte|min"),
    ("employees", {"fte": -0.5}, "fte|min"),
    ("employees", {"fte": 1.01}, "fte|max"),
    ("interventions", {"monthly_cost": -0.01}, "monthly_cost|min"),
    ("budgets", {"amount": -1.0}, "amount|min"),
    ("measurements", {"respondents": -1}, "respondents|min"),
    ("cases", {"birth_year": 1989}, "birth_year|min"),
    ("cases", {"birth_year": 2025}, "birth_year|max"),
    # enums
    ("org_units", {"level": "region"}, "level|enum"),
    ("employees", {"role": "chef"}, "role|enum"),
    ("intervention_kinds", {"category": "Anbringelse"}, "category|enum"),
    ("deadlines", {"kind": "egen_sygdom"}, "kind|enum"),
    ("absences", {"kind": "ferie"}, "kind|enum"),
    # account pattern
    ("intervention_kinds", {"account": "5.28.2"}, "account|regex"),
    ("intervention_kinds", {"account": "5.28.222"}, "account|regex"),
    ("budgets", {"account": "52822"}, "account|regex"),
    # payments
    ("payments", {"period": date(2024, 1, 2)}, "period|first_of_month"),
    ("payments", {"posted_on": date(2024, 6, 15)}, "posted_on|max"),
    # date order
    ("employees", {"employed_to": date(2019, 12, 31)}, "employed_to|date_order"),
    ("cases", {"closed_on": date(2023, 1, 9)}, "closed_on|date_order"),
    ("interventions", {"decided_on": date(2023, 2, 2)}, "decided_on|date_order"),
    ("interventions", {"end_on": date(2023, 1, 31)}, "end_on|date_order"),
    ("deadlines", {"due_on": date(2023, 1, 9)}, "due_on|date_order"),
    ("deadlines", {"done_on": date(2023, 1, 9), "due_on": date(2023, 5, 10)}, "done_on|date_order"),
    ("notifications", {"assessed_at": datetime(2024, 3, 1, 9, 59)}, "assessed_at|date_order"),
    ("absences", {"end_on": date(2024, 2, 4)}, "end_on|date_order"),
    # non-finite floats
    ("payments", {"amount": NAN}, "amount|nan"),
    ("payments", {"amount": -INF}, "amount|inf"),
    ("employees", {"fte": NAN}, "fte|nan"),
    ("employees", {"fte": INF}, "fte|inf"),
    ("interventions", {"monthly_cost": INF}, "monthly_cost|inf"),
    ("budgets", {"amount": NAN}, "amount|nan"),
    ("measurements", {"value": NAN}, "value|nan"),
    # unknown foreign keys (nullable ones too, when not null)
    ("employees", {"unit_id": "ZZ"}, "unit_id|foreign_key"),
    ("cases", {"unit_id": "ZZ"}, "unit_id|foreign_key"),
    ("cases", {"caseworker_id": "ZZ"}, "caseworker_id|foreign_key"),
    ("interventions", {"case_id": "ZZ"}, "case_id|foreign_key"),
    ("interventions", {"kind_id": "ZZ"}, "kind_id|foreign_key"),
    ("payments", {"intervention_id": "ZZ"}, "intervention_id|foreign_key"),
    ("budgets", {"unit_id": "ZZ"}, "unit_id|foreign_key"),
    ("notifications", {"case_id": "ZZ"}, "case_id|foreign_key"),
    ("notifications", {"unit_id": "ZZ"}, "unit_id|foreign_key"),
    ("deadlines", {"case_id": "ZZ"}, "case_id|foreign_key"),
    ("absences", {"employee_id": "ZZ"}, "employee_id|foreign_key"),
    ("measurements", {"unit_id": "ZZ"}, "unit_id|foreign_key"),
]


@pytest.mark.parametrize(("table", "change", "rule"), ONE_RULE_CASES, ids=lambda v: str(v))
def test_row_breaking_one_rule_is_set_aside(table: str, change: dict[str, Any], rule: str) -> None:
    bad = new_row(table, **change)
    ex = validate(**{table: [*rows(table), bad]})
    assert ex.report[table].rejected == 1
    assert ex.report[table].accepted == len(BASE[table])
    assert ex.report[table].reasons == {rule: 1}
    rejected = ex.rejected[table]
    assert only_rejected(ex, table) == [[rule]]
    assert_frame_equal(rejected.drop("_rules", "_message"), frame(table, [bad]))
    assert rejected["_message"][0] == rule_text(rule, table)
    # the valid rows around it, and every other table, are accepted unchanged
    assert_frame_equal(ex[table], frame(table, rows(table)))
    assert_untouched(ex, table)


ACCEPTED_EDGE_CASES = [
    ("employees", {"fte": 1.0}),
    ("employees", {"fte": 0.01}),
    ("employees", {"employed_to": date(2020, 1, 1)}),  # one-day employment
    ("interventions", {"monthly_cost": 0.0}),
    ("interventions", {"decided_on": date(2023, 2, 1), "end_on": date(2023, 2, 1)}),
    ("budgets", {"amount": 0.0}),
    ("measurements", {"respondents": 0}),
    ("measurements", {"value": -3.5}),
    ("cases", {"birth_year": 1990}),
    ("cases", {"birth_year": 2024}),
    ("cases", {"closed_on": date(2023, 1, 10)}),
    ("cases", {"caseworker_id": None}),
    ("payments", {"posted_on": AS_OF}),
    ("payments", {"amount": -30000.0}),  # refunds are negative
    ("payments", {"period": date(2025, 12, 1)}),  # the last month of the year after as_of (1.1)
    ("notifications", {"case_id": None, "source": "nabo"}),  # source is free text
    ("notifications", {"assessed_at": datetime(2024, 3, 1, 10, 0)}),
    ("deadlines", {"due_on": date(2023, 1, 10), "done_on": date(2023, 1, 10)}),
    ("deadlines", {"done_on": date(2024, 12, 1)}),  # done after due: late, not invalid
    ("absences", {"start_on": date(2024, 2, 6)}),  # overlapping spells are allowed
    ("measurements", {}),  # measurements have no key: a repeated row is fine
    ("intervention_kinds", {"account": "0.00.00", "legal_basis": None}),
    ("org_units", {"parent_id": "K", "level": "afdeling"}),
]


@pytest.mark.parametrize(("table", "change"), ACCEPTED_EDGE_CASES, ids=lambda v: str(v))
def test_row_on_the_edge_is_accepted(table: str, change: dict[str, Any]) -> None:
    ex = validate(**{table: [*rows(table), new_row(table, **change)]})
    assert ex.report[table].rejected == 0, ex.rejected[table].to_dicts()
    assert ex.report[table].accepted == len(BASE[table]) + 1


def test_birth_year_bound_follows_the_manifest_as_of() -> None:
    ex = validate_as_of(date(2025, 1, 2), {"cases": [*rows("cases"), new_row("cases", birth_year=2025)]})
    assert ex.report["cases"].rejected == 0


def test_a_row_breaking_several_rules_counts_once_per_rule() -> None:
    bad = new_row("payments", intervention_id="ZZ", period=date(2024, 1, 15), amount=NAN)
    ex = validate(payments=[*rows("payments"), bad])
    assert ex.report["payments"].rejected == 1
    assert ex.report["payments"].reasons == {
        "intervention_id|foreign_key": 1,
        "period|first_of_month": 1,
        "amount|nan": 1,
    }
    assert sorted(only_rejected(ex, "payments")[0]) == sorted(ex.report["payments"].reasons)
    message = ex.rejected["payments"]["_message"][0]
    assert "indsats findes ikke" in message and "første dag i en måned" in message and "NaN" in message


def test_duplicate_primary_key_sets_aside_every_row_sharing_it() -> None:
    payments = [*rows("payments"), new_row("payments", payment_id="p2", amount=1.0)]
    ex = validate(payments=payments)
    assert ex.report["payments"].reasons == {"primary_key": 2}
    assert ex.rejected["payments"]["payment_id"].to_list() == ["p2", "p2"]
    assert ex["payments"]["payment_id"].to_list() == ["p1", "p3"]


def test_duplicate_budget_key_sets_aside_both_rows() -> None:
    budgets = [
        *rows("budgets"),
        {"year": 2024, "unit_id": "A", "account": "5.28.22", "amount": 1.0},  # repeats row 1's key
        {"year": 2024, "unit_id": "A", "account": "5.28.21", "amount": 1.0},  # other account: fine
        {"year": 2023, "unit_id": "A", "account": "5.28.22", "amount": 1.0},  # other year: fine
    ]
    ex = validate(budgets=budgets)
    assert ex.report["budgets"].reasons == {"primary_key": 2}
    assert ex.rejected["budgets"]["amount"].to_list() == [400000.0, 1.0]
    assert ex.report["budgets"].accepted == 3


def test_duplicate_key_of_a_parent_cascades() -> None:
    cases = [*rows("cases"), new_row("cases", case_id="c1")]
    ex = validate(cases=cases)
    assert ex.report["cases"].reasons == {"primary_key": 2}
    assert ex.report["interventions"].reasons == {"case_id|foreign_key": 1}
    assert ex.report["payments"].reasons == {"intervention_id|foreign_key": 2}


def test_null_keys_are_nullability_not_duplicates() -> None:
    payments = [*rows("payments"), new_row("payments", payment_id=None), new_row("payments", payment_id=None)]
    ex = validate(payments=payments)
    assert ex.report["payments"].reasons == {"payment_id|nullability": 2}


# ------------------------------------------------------------------------------------ #
#                                   foreign keys cascade                                   #
# ------------------------------------------------------------------------------------ #


def test_set_aside_case_cascades_to_interventions_payments_and_others() -> None:
    cases = rows("cases")
    cases[0]["birth_year"] = 1980  # c1 set aside
    ex = validate(cases=cases)
    assert ex.report["cases"].reasons == {"birth_year|min": 1}
    assert ex.rejected["interventions"]["intervention_id"].to_list() == ["i1"]
    assert ex.report["interventions"].reasons == {"case_id|foreign_key": 1}
    assert ex.rejected["payments"]["payment_id"].to_list() == ["p1", "p2"]
    assert ex.report["payments"].reasons == {"intervention_id|foreign_key": 2}
    assert ex.rejected["deadlines"]["deadline_id"].to_list() == ["d1"]
    assert ex.rejected["notifications"]["notification_id"].to_list() == ["n1"]
    assert (
        ex.rejected["payments"]["_message"].to_list()
        == ["indsats findes ikke eller er sat til side (intervention_id)"] * 2
    )
    assert ex.rejected["interventions"]["_message"][0] == "sag findes ikke eller er sat til side (case_id)"
    # c2's chain and the tables that don't depend on cases are untouched
    assert ex["payments"]["payment_id"].to_list() == ["p3"]
    assert_untouched(ex, "cases", "interventions", "payments", "deadlines", "notifications")
    for t in ("cases", "interventions", "payments", "deadlines", "notifications"):
        assert ex.report[t].accepted + ex.report[t].rejected == len(BASE[t])


def test_set_aside_unit_cascades_to_everything_below_it() -> None:
    units = [*rows("org_units"), {"unit_id": "A1", "parent_id": "A", "name": "Team A1", "level": "team"}]
    units[1]["level"] = "hold"  # unit A set aside; its child A1 follows
    ex = validate(org_units=units)
    assert ex.report["org_units"].reasons == {"level|enum": 1, "parent_id|parent_rejected": 1}
    assert ex["org_units"]["unit_id"].to_list() == ["K", "B"]
    assert ex.report["employees"].reasons == {"unit_id|foreign_key": 1}  # e1 in A
    assert ex.report["cases"].reasons == {"unit_id|foreign_key": 1, "caseworker_id|foreign_key": 1}  # c1
    assert ex.report["interventions"].reasons == {"case_id|foreign_key": 1}
    assert ex.report["payments"].reasons == {"intervention_id|foreign_key": 2}
    assert ex.report["budgets"].reasons == {"unit_id|foreign_key": 1}
    assert ex.report["absences"].reasons == {"employee_id|foreign_key": 1}
    assert ex.report["measurements"].reasons == {"unit_id|foreign_key": 1}
    assert ex.report["notifications"].reasons == {"unit_id|foreign_key": 1, "case_id|foreign_key": 1}
    assert ex.report["intervention_kinds"].rejected == 0


def test_set_aside_employee_cascades_to_cases_as_caseworker() -> None:
    employees = rows("employees")
    employees[0]["fte"] = 2.0
    ex = validate(employees=employees)
    assert ex.report["cases"].reasons == {"caseworker_id|foreign_key": 1}
    assert ex.report["absences"].reasons == {"employee_id|foreign_key": 1}


# ------------------------------------------------------------------------------------ #
#                                   the org tree                                            #
# ------------------------------------------------------------------------------------ #


def unit(unit_id: str, parent_id: str | None, level: str = "team") -> dict[str, Any]:
    return {"unit_id": unit_id, "parent_id": parent_id, "name": f"Enhed {unit_id}", "level": level}


def tree_result(units: list[dict[str, Any]]) -> dict[str, list[str]]:
    ex = validate_frames(MANIFEST, {"org_units": units})
    return {
        u: list(r)
        for u, r in zip(ex.rejected["org_units"]["unit_id"], ex.rejected["org_units"]["_rules"], strict=True)
    }


def test_two_roots_larger_subtree_wins_ties_to_smallest_id() -> None:
    bigger = [
        *rows("org_units"),
        unit("X", None, "kommune"),
        unit("X1", "X"),
        unit("X2", "X1"),
        unit("X3", "X1"),
    ]
    assert tree_result(bigger) == {
        "K": ["parent_id|multiple_roots"],
        "A": ["parent_id|parent_rejected"],
        "B": ["parent_id|parent_rejected"],
    }
    tie = [*rows("org_units"), unit("X", None, "kommune"), unit("X1", "X"), unit("X2", "X")]
    assert tree_result(tie) == {
        "X": ["parent_id|multiple_roots"],
        "X1": ["parent_id|parent_rejected"],
        "X2": ["parent_id|parent_rejected"],
    }
    ex = validate(org_units=[*rows("org_units"), unit("Z", None, "kommune")])
    assert ex.report["org_units"].reasons == {"parent_id|multiple_roots": 1}
    assert_untouched(ex, "org_units")


def test_cycle_unknown_parent_and_units_below_them() -> None:
    units = [
        *rows("org_units"),
        unit("C1", "C2"),
        unit("C2", "C1"),
        unit("C3", "C1"),  # below a cycle
        unit("S", "S"),  # its own parent
        unit("F", "NOPE"),  # parent does not exist
        unit("F1", "F"),  # below a unit set aside
    ]
    assert tree_result(units) == {
        "C1": ["parent_id|cycle"],
        "C2": ["parent_id|cycle"],
        "C3": ["parent_id|parent_rejected"],
        "S": ["parent_id|cycle"],
        "F": ["parent_id|foreign_key"],
        "F1": ["parent_id|parent_rejected"],
    }
    ex = validate(org_units=units)
    assert ex.report["org_units"].reasons == {
        "parent_id|cycle": 3,
        "parent_id|parent_rejected": 2,
        "parent_id|foreign_key": 1,
    }
    assert ex.rejected["org_units"].filter(pl.col("unit_id") == "C1")["_message"][0] == rule_text(
        "parent_id|cycle"
    )
    assert_untouched(ex, "org_units")


def test_no_root_refuses_the_extract(tmp_path: Path) -> None:
    frames = base_frames()
    frames["org_units"] = frame("org_units", [unit("A", "B"), unit("B", "A")])
    e = refused(write_extract(tmp_path, frames))
    assert errors_of(e) == {("org_units.parquet", "parent_id")}
    assert "org_units.parquet" in str(e) and "parent_id" in str(e)
    with pytest.raises(ExtractRefused):
        validate_frames(MANIFEST, {"org_units": [unit("K", None, "bad level")]})


# ------------------------------------------------------------------------------------ #
#                                   files and JSON                                         #
# ------------------------------------------------------------------------------------ #


def test_rows_set_aside_from_files(tmp_path: Path) -> None:
    frames = base_frames()
    frames["payments"] = frame(
        "payments", [*rows("payments"), new_row("payments", posted_on=date(2024, 7, 1))]
    )
    frames["employees"] = frame("employees", [*rows("employees"), new_row("employees", role=None)])
    ex = load_extract(write_extract(tmp_path, frames))
    assert ex.report["payments"].reasons == {"posted_on|max": 1}
    assert ex.report["employees"].reasons == {"role|nullability": 1}
    assert_untouched(ex, "payments", "employees")
    assert_frame_equal(ex["payments"], frame("payments", rows("payments")))


def test_validation_json_ok(tmp_path: Path) -> None:
    frames = base_frames()
    frames["payments"] = frame("payments", [*rows("payments"), new_row("payments", period=date(2024, 3, 3))])
    payload, code = validation_json(write_extract(tmp_path, frames))
    assert code == 0
    assert payload["ok"] is True
    assert payload["errors"] == []
    assert list(payload["tables"]) == list(TABLE_NAMES)
    assert payload["tables"]["payments"] == {
        "accepted": 3,
        "rejected": 1,
        "reasons": {"period|first_of_month": 1},
    }
    assert payload["tables"]["cases"] == {"accepted": 2, "rejected": 0, "reasons": {}}
    json.dumps(payload, allow_nan=False)


def test_validation_json_refused(tmp_path: Path) -> None:
    frames = base_frames()
    frames["payments"] = frames["payments"].drop("amount")
    payload, code = validation_json(write_extract(tmp_path, frames))
    assert code == 2
    assert payload["ok"] is False
    assert payload["errors"] == [
        {
            "file": "payments.parquet",
            "column": "amount",
            "message": "kolonnen 'amount' mangler (missing column)",
        }
    ]
    assert "payments" not in payload["tables"]
    assert payload["tables"]["cases"] == {"accepted": 2, "rejected": 0, "reasons": {}}
    json.dumps(payload, allow_nan=False)

    payload, code = validation_json(tmp_path / "nowhere")
    assert code == 2 and payload["ok"] is False and payload["tables"] == {}
    assert len(payload["errors"]) == 1 and set(payload["errors"][0]) == {"file", "column", "message"}


def test_list_extracts_newest_first(tmp_path: Path) -> None:
    write_extract(tmp_path, folder="2024-05-31")
    write_extract(tmp_path, folder="2024-06-14")
    write_extract(tmp_path, folder="2023-12-31")
    (tmp_path / "2024-07-01").mkdir()  # no manifest
    write_extract(tmp_path, folder="latest")  # not a date
    write_extract(tmp_path, folder="2024-02-30")  # not a real date
    (tmp_path / "2024-08-01").write_text("a file", encoding="utf-8")
    assert list_extracts(tmp_path) == [
        (date(2024, 6, 14), tmp_path / "2024-06-14"),
        (date(2024, 5, 31), tmp_path / "2024-05-31"),
        (date(2023, 12, 31), tmp_path / "2023-12-31"),
    ]
    assert list_extracts(tmp_path / "missing") == []


def test_every_rule_has_a_danish_text() -> None:
    for rule in {r for _, _, r in ONE_RULE_CASES} | {
        "primary_key",
        "parent_id|multiple_roots",
        "parent_id|cycle",
        "parent_id|foreign_key",
        "parent_id|parent_rejected",
    }:
        assert rule in RULE_TEXT, rule
        assert not rule_text(rule).startswith("bryder reglen"), rule
    assert rule_text("case_id|foreign_key").startswith("sag findes ikke")
    assert "fravær" in rule_text("kind|enum", "absences")
    assert rule_text("weird|thing") == "bryder reglen weird|thing (weird)"
