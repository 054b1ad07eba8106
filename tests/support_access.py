"""A tiny hand-made organisation for access tests, in memory or written to disk as an extract.

    K  Testkommune (kommune)
    └─ D  Familieafdelingen (afdeling)        L1 leder, AD administration
       ├─ TA Team Nord (team)                 T1 teamleder, R1 + R2 raadgiver, OLD (left)
       └─ TB Team Syd (team)                  R3 raadgiver
    DUP1, DUP2 (TB) share one email; NOMAIL (TB) has none.

Cases: C1 (TA, R1), C2 (TA, R2), C3 (TB, R3), C4 (TA, unassigned), C5 (D, R1).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from metrics.contract import TABLE_NAMES, empty_frame, file_name, polars_schema

AS_OF = date(2024, 6, 14)
EMAIL = {
    "L1": "Lise.Leder@Testkommune.dk",
    "AD": "ada@testkommune.dk",
    "T1": "tove@testkommune.dk",
    "R1": "rasmus@testkommune.dk",
    "R2": "rikke@testkommune.dk",
    "R3": "rune@testkommune.dk",
    "OLD": "olga@testkommune.dk",
}
UNKNOWN_EMAIL = "ukendt@example.org"


def tables() -> dict[str, pl.DataFrame]:
    org = pl.DataFrame(
        {
            "unit_id": ["K", "D", "TA", "TB"],
            "parent_id": [None, "K", "D", "D"],
            "name": ["Testkommune", "Familieafdelingen", "Team Nord", "Team Syd"],
            "level": ["kommune", "afdeling", "team", "team"],
        }
    )
    rows = [
        ("L1", "Lise Leder", EMAIL["L1"], "D", "leder", None),
        ("AD", "Ada Admin", EMAIL["AD"], "D", "administration", None),
        ("T1", "Tove Teamleder", EMAIL["T1"], "TA", "teamleder", None),
        ("R1", "Rasmus Rådgiver", EMAIL["R1"], "TA", "raadgiver", None),
        ("R2", "Rikke Rådgiver", EMAIL["R2"], "TA", "raadgiver", None),
        ("R3", "Rune Rådgiver", EMAIL["R3"], "TB", "raadgiver", None),
        ("OLD", "Olga Fratrådt", EMAIL["OLD"], "TA", "raadgiver", date(2024, 1, 31)),
        ("DUP1", "Dorte Dobbelt", "dup@testkommune.dk", "TB", "raadgiver", None),
        ("DUP2", "Dennis Dobbelt", "DUP@testkommune.dk", "TB", "raadgiver", None),
        ("NOMAIL", "Niels Uden Mail", None, "TB", "raadgiver", None),
    ]
    employees = pl.DataFrame(
        {
            "employee_id": [r[0] for r in rows],
            "name": [r[1] for r in rows],
            "email": [r[2] for r in rows],
            "unit_id": [r[3] for r in rows],
            "role": [r[4] for r in rows],
            "fte": [1.0] * len(rows),
            "employed_from": [date(2020, 1, 1)] * len(rows),
            "employed_to": [r[5] for r in rows],
        },
        schema=polars_schema("employees"),
    )
    case_rows = [
        ("C1", "TA", "R1"),
        ("C2", "TA", "R2"),
        ("C3", "TB", "R3"),
        ("C4", "TA", None),
        ("C5", "D", "R1"),
    ]
    cases = pl.DataFrame(
        {
            "case_id": [c[0] for c in case_rows],
            "child_id": [f"B{c[0]}" for c in case_rows],
            "unit_id": [c[1] for c in case_rows],
            "caseworker_id": [c[2] for c in case_rows],
            "birth_year": [2015] * len(case_rows),
            "opened_on": [date(2023, 1, 1)] * len(case_rows),
            "closed_on": [None] * len(case_rows),
        },
        schema=polars_schema("cases"),
    )
    return {"org_units": org, "employees": employees, "cases": cases}


def write_extract(root: Path, *, synthetic: bool, as_of: date = AS_OF, **frames: Any) -> Path:
    """Write an extract folder root/<as_of>/ (manifest + every contract table)."""
    folder = root / as_of.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, Any] = {
        "contract_version": 1,
        "municipality": "Testkommune",
        "as_of": as_of.isoformat(),
        "created_at": datetime.combine(as_of, datetime.min.time()).isoformat(),
        "sources": ["test"],
    }
    if synthetic:
        manifest["synthetic"] = True
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    data = {**tables(), **frames}
    for table in TABLE_NAMES:
        df = data.get(table, empty_frame(table))
        df.cast(dict(polars_schema(table))).write_parquet(folder / file_name(table))
    return folder


# An older extract for "access follows the person today" (tests/test_access_today.py): as
# above plus TX "Team Gammel" under TA (gone today) with case C6 (R2); R1 was then teamleder.
OLDER = date(2024, 1, 15)


def older_frames() -> dict[str, pl.DataFrame]:
    t = tables()
    org = pl.concat(
        [
            t["org_units"],
            pl.DataFrame(
                {"unit_id": ["TX"], "parent_id": ["TA"], "name": ["Team Gammel"], "level": ["team"]},
                schema=t["org_units"].schema,
            ),
        ]
    )
    employees = t["employees"].with_columns(
        pl.when(pl.col("employee_id") == "R1").then(pl.lit("teamleder")).otherwise("role").alias("role")
    )
    c6 = (
        t["cases"]
        .filter(pl.col("case_id") == "C2")
        .with_columns(
            pl.lit("C6").alias("case_id"), pl.lit("BC6").alias("child_id"), pl.lit("TX").alias("unit_id")
        )
    )
    return {"org_units": org, "employees": employees, "cases": pl.concat([t["cases"], c6])}
