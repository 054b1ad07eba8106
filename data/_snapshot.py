"""An extract is what the simulated world looks like on its as_of date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import polars as pl

from data._contacts import cut as cut_contacts
from data._params import HISTORY_START
from data._world import World
from metrics.contract import TABLES


def _conform(table: str, df: pl.DataFrame) -> pl.DataFrame:
    """Contract columns in contract order and dtypes, nothing else."""
    return df.select([pl.col(c.name).cast(c.dtype) for c in TABLES[table]])


def snapshot(world: World, as_of: date) -> dict[str, pl.DataFrame]:
    """The contract tables as known on as_of: facts dated later are left out or shown as not yet happened."""
    if as_of > world.horizon:
        raise ValueError(f"as_of {as_of} is after the simulated horizon {world.horizon}")
    a = pl.lit(as_of)
    cutoff = pl.lit(datetime.combine(as_of + timedelta(days=1), datetime.min.time()))
    h0 = pl.lit(HISTORY_START)

    def null_after(col: str, limit: pl.Expr = a) -> pl.Expr:
        return pl.when(pl.col(col) > limit).then(None).otherwise(pl.col(col)).alias(col)

    emp = world.employees.filter(
        (pl.col("employed_from") <= a) & (pl.col("employed_to").is_null() | (pl.col("employed_to") >= h0))
    )
    # accounts of people who left more than a year ago are deleted
    gone = pl.col("employed_to") <= pl.lit(as_of - timedelta(days=365))
    emp = emp.with_columns(
        pl.when(gone).then(None).otherwise(pl.col("email")).alias("email"), null_after("employed_to")
    )

    day_no = (as_of - date(1970, 1, 1)).days
    cases = world.cases.filter(
        (pl.col("opened_on") <= a) & (pl.col("closed_on").is_null() | (pl.col("closed_on") >= h0))
    )
    # the caseworker is whoever holds the case's position on as_of (or on the day the case closed)
    on_day = pl.min_horizontal(pl.col("closed_on").cast(pl.Int64).fill_null(day_no), pl.lit(day_no))
    holder = (
        cases.select("case_id", "position_id", on_day.alias("d"))
        .join(world.holders, on="position_id", how="inner")
        .filter((pl.col("from_day") <= pl.col("d")) & (pl.col("d") <= pl.col("to_day")))
        .select("case_id", pl.col("employee_id").alias("caseworker_id"))
    )
    cases = cases.join(holder, on="case_id", how="left", maintain_order="left").with_columns(
        pl.when(pl.col("opened_on") > pl.lit(as_of) - pl.duration(days=pl.col("assign_lag")))
        .then(None)
        .otherwise(pl.col("caseworker_id"))
        .alias("caseworker_id"),
        null_after("closed_on"),
    )
    case_ids = cases.select("case_id")

    iv = world.interventions.filter(pl.col("decided_on") <= a).join(case_ids, on="case_id", how="semi")
    iv = iv.with_columns(
        pl.when(pl.col("end_known_on") > a).then(None).otherwise(pl.col("end_on")).alias("end_on")
    )
    pay = world.payments.filter(pl.col("posted_on") <= a).join(
        iv.select("intervention_id"), on="intervention_id", how="semi"
    )
    notes = world.notifications.filter(pl.col("received_at") < cutoff).with_columns(
        null_after("assessed_at", cutoff - pl.duration(microseconds=1)),
        pl.when(pl.col("case_id").is_in(case_ids["case_id"].implode()))
        .then(pl.col("case_id"))
        .otherwise(None)
        .alias("case_id"),
    )
    deadlines = (
        world.deadlines.filter(pl.col("started_on") <= a)
        .join(case_ids, on="case_id", how="semi")
        .with_columns(null_after("done_on"))
    )
    absences = world.absences.filter(pl.col("start_on") <= a).join(
        emp.select("employee_id"), on="employee_id", how="semi"
    )
    tables = {
        "org_units": world.org_units,
        "employees": emp,
        "cases": cases,
        "intervention_kinds": world.intervention_kinds,
        "interventions": iv,
        "payments": pay,
        "budgets": world.budgets.filter(pl.col("year") <= as_of.year),
        "notifications": notes,
        "deadlines": deadlines,
        "absences": absences,
        "measurements": world.measurements.filter(pl.col("period_end") <= a),
    }
    if world.contacts is not None:
        tables["contacts"] = cut_contacts(world.contacts, as_of, case_ids)
    return {name: _conform(name, df) for name, df in tables.items()}


@dataclass(frozen=True)
class Defect:
    table: str
    rule: str
    description: str


DEFECTS: tuple[Defect, ...] = (
    Defect("payments", "fk:intervention_id", "en betaling til en indsats, der ikke findes (I9999999)"),
    Defect("payments", "period:first_of_month", "en betaling med period den 15. i måneden"),
    Defect("deadlines", "order:done_on>=started_on", "en frist, der er udført før den startede"),
    Defect(
        "notifications", "pk:notification_id", "et dubleret notification_id (kopi af den nyeste med nyt barn)"
    ),
    Defect(
        "notifications", "order:assessed_at>=received_at", "en underretning vurderet før den blev modtaget"
    ),
    Defect("employees", "range:fte", "en medarbejder med fte 0"),
    Defect("cases", "order:closed_on>=opened_on", "en sag lukket før den blev åbnet"),
    Defect("interventions", "order:decided_on<=start_on", "en indsats besluttet efter den startede"),
    Defect("absences", "enum:kind", "et fravær af den ukendte art 'ferie'"),
    Defect("budgets", "not_null:unit_id", "en budgetlinje uden unit_id"),
)


def inject_defects(tables: dict[str, pl.DataFrame], as_of: date) -> dict[str, pl.DataFrame]:
    """Add the rows described in DEFECTS (one each) to a copy of the tables."""
    t = dict(tables)
    month = as_of.replace(day=1)

    def add(table: str, row: pl.DataFrame) -> None:
        t[table] = pl.concat([t[table], _conform(table, row)], how="vertical")

    some_iv = t["interventions"].row(0, named=True)
    some_case = t["cases"].row(0, named=True)
    some_emp = t["employees"].filter(pl.col("role") == "raadgiver").row(0, named=True)
    some_team = t["org_units"].filter(pl.col("level") == "team").row(0, named=True)["unit_id"]
    add(
        "payments",
        pl.DataFrame(
            {
                "payment_id": ["P99999991"],
                "intervention_id": ["I9999999"],
                "period": [month],
                "posted_on": [as_of],
                "amount": [12_345.0],
            }
        ),
    )
    add(
        "payments",
        pl.DataFrame(
            {
                "payment_id": ["P99999992"],
                "intervention_id": [some_iv["intervention_id"]],
                "period": [month.replace(day=15)],
                "posted_on": [as_of],
                "amount": [5_000.0],
            }
        ),
    )
    add(
        "deadlines",
        pl.DataFrame(
            {
                "deadline_id": ["F9999999"],
                "case_id": [some_case["case_id"]],
                "kind": ["opfoelgning"],
                "started_on": [as_of - timedelta(days=10)],
                "due_on": [as_of + timedelta(days=80)],
                "done_on": [as_of - timedelta(days=40)],
            }
        ),
    )
    newest = t["notifications"].sort("received_at").tail(1)
    add(
        "notifications",
        newest.with_columns(pl.lit("B0000001").alias("child_id"), pl.lit(None).alias("case_id")),
    )
    add(
        "notifications",
        pl.DataFrame(
            {
                "notification_id": ["U9999999"],
                "child_id": ["B0000002"],
                "case_id": [None],
                "unit_id": [some_team],
                "source": ["skole"],
                "received_at": [datetime.combine(as_of, datetime.min.time()) + timedelta(hours=10)],
                "assessed_at": [datetime.combine(as_of, datetime.min.time()) + timedelta(hours=9)],
            }
        ),
    )
    add(
        "employees",
        pl.DataFrame(
            {
                "employee_id": ["M99999"],
                "name": ["Fejl Fejlsen"],
                "email": ["fejl.fejlsen@demo.invalid"],
                "unit_id": [some_emp["unit_id"]],
                "role": ["raadgiver"],
                "fte": [0.0],
                "employed_from": [as_of - timedelta(days=30)],
                "employed_to": [None],
            }
        ),
    )
    add(
        "cases",
        pl.DataFrame(
            {
                "case_id": ["S9999999"],
                "child_id": ["B0000003"],
                "unit_id": [some_case["unit_id"]],
                "caseworker_id": [None],
                "birth_year": [as_of.year - 8],
                "opened_on": [as_of - timedelta(days=5)],
                "closed_on": [as_of - timedelta(days=20)],
            }
        ),
    )
    add(
        "interventions",
        pl.DataFrame(
            {
                "intervention_id": ["I9999998"],
                "case_id": [some_iv["case_id"]],
                "kind_id": [some_iv["kind_id"]],
                "provider": [None],
                "decided_on": [as_of],
                "start_on": [as_of - timedelta(days=30)],
                "end_on": [None],
                "monthly_cost": [10_000.0],
            }
        ),
    )
    add(
        "absences",
        pl.DataFrame(
            {
                "employee_id": [some_emp["employee_id"]],
                "kind": ["ferie"],
                "start_on": [as_of - timedelta(days=3)],
                "end_on": [as_of],
            }
        ),
    )
    add(
        "budgets",
        pl.DataFrame(
            {"year": [as_of.year], "unit_id": [None], "account": ["5.28.21"], "amount": [100_000.0]},
            schema_overrides={"unit_id": pl.String},
        ),
    )
    assert sum(len(t[k]) - len(tables[k]) for k in t) == len(DEFECTS)
    return t
