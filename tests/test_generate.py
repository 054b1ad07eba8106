"""The demo-data generator: determinism, the contract, snapshot consistency and calibration.

The contract rules are checked here with plain polars, independently of metrics.loader.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from data.generate import DEFECTS, default_end, ensure_demo_data, generate_extract, generate_series, main
from metrics.contract import (
    ABSENCE_KINDS,
    ACCOUNT_PATTERN,
    ALL_TABLE_NAMES,
    CATEGORIES,
    CHANNELS,
    DEADLINE_KINDS,
    DEMAND_TYPES,
    MANIFEST_FILE,
    ROLES,
    TABLE_NAMES,
    TABLES,
    UNIT_LEVELS,
    file_name,
    polars_schema,
)

END = date(2026, 11, 20)  # a Friday
Tables = dict[str, pl.DataFrame]


def num(x: Any) -> float:
    """A polars scalar as a float (polars types sums and means as a wide union)."""
    return float(x)


def read(path: Path) -> Tables:
    # the demo world always registers contacts (the optional table of contract 1.1)
    return {t: pl.read_parquet(path / file_name(t)) for t in ALL_TABLE_NAMES}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return generate_series(tmp_path_factory.mktemp("small"), end=END, seed=7, count=2, size="small")


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return generate_series(tmp_path_factory.mktemp("full"), end=END, count=3)


@pytest.fixture(scope="module")
def newest(full: list[Path]) -> Tables:
    return read(full[0])


# --- the contract, rule by rule ------------------------------------------------------------------


def _count(df: pl.DataFrame, bad: pl.Expr) -> int:
    return df.filter(bad.fill_null(False)).height


def _dupes(df: pl.DataFrame, cols: list[str]) -> int:
    return df.height - df.unique(cols).height


def _orphans(df: pl.DataFrame, col: str, ref: pl.DataFrame, ref_col: str) -> int:
    present = df.filter(pl.col(col).is_not_null())
    return present.join(ref.select(pl.col(ref_col).alias(col)).unique(), on=col, how="anti").height


def violations(t: Tables, as_of: date) -> Counter[str]:
    """Rows breaking each contract rule (a rule → count); empty when the extract is clean."""
    v: Counter[str] = Counter()
    for name, spec in TABLES.items():
        for c in spec:
            if not c.nullable:
                v[f"{name}.not_null:{c.name}"] += t[name][c.name].null_count()
    org, emp, cases = t["org_units"], t["employees"], t["cases"]
    kinds, iv, pay = t["intervention_kinds"], t["interventions"], t["payments"]
    bud, notes, dl, ab, ms = (
        t["budgets"],
        t["notifications"],
        t["deadlines"],
        t["absences"],
        t["measurements"],
    )
    cutoff = datetime.combine(as_of + timedelta(days=1), datetime.min.time())

    v["org_units.pk"] += _dupes(org, ["unit_id"])
    v["org_units.fk:parent_id"] += _orphans(org, "parent_id", org, "unit_id")
    v["org_units.one_root"] += abs(org["parent_id"].null_count() - 1)
    v["org_units.enum:level"] += _count(org, ~pl.col("level").is_in(UNIT_LEVELS))
    # no cycles: walking up from every unit reaches the root within len(org) steps
    walk = org.select("unit_id", pl.col("parent_id").alias("up"))
    parent = dict(zip(org["unit_id"], org["parent_id"], strict=True))
    for _ in range(org.height):
        walk = walk.with_columns(pl.col("up").replace_strict(parent, default=None))
    v["org_units.cycle"] += int(walk["up"].is_not_null().sum())

    v["employees.pk"] += _dupes(emp, ["employee_id"])
    v["employees.fk:unit_id"] += _orphans(emp, "unit_id", org, "unit_id")
    v["employees.enum:role"] += _count(emp, ~pl.col("role").is_in(ROLES))
    v["employees.range:fte"] += _count(emp, (pl.col("fte") <= 0) | (pl.col("fte") > 1))
    v["employees.order:employed_to"] += _count(emp, pl.col("employed_to") < pl.col("employed_from"))

    v["cases.pk"] += _dupes(cases, ["case_id"])
    v["cases.fk:unit_id"] += _orphans(cases, "unit_id", org, "unit_id")
    v["cases.fk:caseworker_id"] += _orphans(cases, "caseworker_id", emp, "employee_id")
    v["cases.range:birth_year"] += _count(
        cases, (pl.col("birth_year") < 1990) | (pl.col("birth_year") > as_of.year)
    )
    v["cases.order:closed_on"] += _count(cases, pl.col("closed_on") < pl.col("opened_on"))

    ct = t["contacts"]
    v["contacts.pk"] += _dupes(ct, ["contact_id"])
    v["contacts.fk:unit_id"] += _orphans(ct, "unit_id", org, "unit_id")
    v["contacts.fk:case_id"] += _orphans(ct, "case_id", cases, "case_id")
    v["contacts.enum:channel"] += _count(ct, ~pl.col("channel").is_in(CHANNELS))
    v["contacts.enum:demand_type"] += _count(ct, ~pl.col("demand_type").is_in(DEMAND_TYPES))
    v["contacts.range:received_at"] += _count(ct, pl.col("received_at") >= cutoff)

    v["intervention_kinds.pk"] += _dupes(kinds, ["kind_id"])
    v["intervention_kinds.enum:category"] += _count(kinds, ~pl.col("category").is_in(CATEGORIES))
    v["intervention_kinds.pattern:account"] += _count(kinds, ~pl.col("account").str.contains(ACCOUNT_PATTERN))

    v["interventions.pk"] += _dupes(iv, ["intervention_id"])
    v["interventions.fk:case_id"] += _orphans(iv, "case_id", cases, "case_id")
    v["interventions.fk:kind_id"] += _orphans(iv, "kind_id", kinds, "kind_id")
    v["interventions.order:decided_on"] += _count(iv, pl.col("decided_on") > pl.col("start_on"))
    v["interventions.order:end_on"] += _count(iv, pl.col("end_on") < pl.col("start_on"))
    v["interventions.range:monthly_cost"] += _count(iv, pl.col("monthly_cost") < 0)

    v["payments.pk"] += _dupes(pay, ["payment_id"])
    v["payments.fk:intervention_id"] += _orphans(pay, "intervention_id", iv, "intervention_id")
    v["payments.period:first_of_month"] += _count(pay, pl.col("period").dt.day() != 1)
    v["payments.range:posted_on"] += _count(pay, pl.col("posted_on") > as_of)

    v["budgets.pk"] += _dupes(bud, ["year", "unit_id", "account"])
    v["budgets.fk:unit_id"] += _orphans(bud, "unit_id", org, "unit_id")
    v["budgets.pattern:account"] += _count(bud, ~pl.col("account").str.contains(ACCOUNT_PATTERN))
    v["budgets.range:amount"] += _count(bud, pl.col("amount") < 0)

    v["notifications.pk"] += _dupes(notes, ["notification_id"])
    v["notifications.fk:case_id"] += _orphans(notes, "case_id", cases, "case_id")
    v["notifications.fk:unit_id"] += _orphans(notes, "unit_id", org, "unit_id")
    v["notifications.order:assessed_at"] += _count(notes, pl.col("assessed_at") < pl.col("received_at"))

    v["deadlines.pk"] += _dupes(dl, ["deadline_id"])
    v["deadlines.fk:case_id"] += _orphans(dl, "case_id", cases, "case_id")
    v["deadlines.enum:kind"] += _count(dl, ~pl.col("kind").is_in(DEADLINE_KINDS))
    v["deadlines.order:due_on"] += _count(dl, pl.col("due_on") < pl.col("started_on"))
    v["deadlines.order:done_on"] += _count(dl, pl.col("done_on") < pl.col("started_on"))

    v["absences.fk:employee_id"] += _orphans(ab, "employee_id", emp, "employee_id")
    v["absences.enum:kind"] += _count(ab, ~pl.col("kind").is_in(ABSENCE_KINDS))
    v["absences.order:end_on"] += _count(ab, pl.col("end_on") < pl.col("start_on"))

    v["measurements.fk:unit_id"] += _orphans(ms, "unit_id", org, "unit_id")
    v["measurements.range:respondents"] += _count(ms, pl.col("respondents") < 0)

    # facts dated after as_of are not in an extract
    for name, col in (
        ("payments", "posted_on"),
        ("cases", "opened_on"),
        ("cases", "closed_on"),
        ("interventions", "decided_on"),
        ("employees", "employed_from"),
        ("employees", "employed_to"),
        ("deadlines", "started_on"),
        ("deadlines", "done_on"),
        ("absences", "start_on"),
        ("measurements", "period_end"),
    ):
        v[f"{name}.after_as_of:{col}"] += _count(t[name], pl.col(col) > as_of)
    for ts in ("received_at", "assessed_at"):
        v[f"notifications.after_as_of:{ts}"] += _count(notes, pl.col(ts) >= cutoff)
    v["budgets.after_as_of:year"] += _count(bud, pl.col("year") > as_of.year)
    return +v  # drop the zero counts


def assert_clean(path: Path) -> Tables:
    manifest = json.loads((path / MANIFEST_FILE).read_text(encoding="utf-8"))
    as_of = date.fromisoformat(manifest["as_of"])
    assert as_of.isoformat() == path.name
    assert manifest["contract_version"] == 1 and manifest["synthetic"] is True
    assert manifest["municipality"] and manifest["sources"] and isinstance(manifest["sources"], list)
    datetime.fromisoformat(manifest["created_at"])
    t = read(path)
    for name in ALL_TABLE_NAMES:
        assert t[name].schema == polars_schema(name), name
        assert t[name].height > 0, name
    assert violations(t, as_of) == Counter()
    return t


def test_small_and_full_extracts_follow_the_contract(small: list[Path], full: list[Path]) -> None:
    for path in [*small, *full]:
        assert_clean(path)


def test_extracts_are_snapshots_of_one_world(full: list[Path]) -> None:
    newer, older = read(full[0]), read(full[1])
    assert date.fromisoformat(full[0].name) - date.fromisoformat(full[1].name) == timedelta(days=14)
    # a payment known then is still there, unchanged; and more have come
    assert older["payments"].join(newer["payments"], on=older["payments"].columns, how="anti").height == 0
    assert newer["payments"].height > older["payments"].height

    def same(table: str, key: str, cols: list[str]) -> None:
        o, n = older[table].select(key, *cols), newer[table].select(key, *cols)
        assert o.join(n, on=[key, *cols], how="anti", nulls_equal=True).height == 0, table

    same("cases", "case_id", ["child_id", "birth_year", "opened_on", "unit_id"])
    same("interventions", "intervention_id", ["case_id", "kind_id", "decided_on", "start_on", "monthly_cost"])
    same("notifications", "notification_id", ["child_id", "received_at", "source"])
    same("employees", "employee_id", ["name", "employed_from", "unit_id", "role"])
    same("deadlines", "deadline_id", ["case_id", "kind", "started_on", "due_on"])
    same("budgets", "year", ["unit_id", "account", "amount"])
    # what had happened stays happened
    for table, key, col in (
        ("cases", "case_id", "closed_on"),
        ("notifications", "notification_id", "assessed_at"),
        ("deadlines", "deadline_id", "done_on"),
        ("employees", "employee_id", "employed_to"),
    ):
        done = older[table].filter(pl.col(col).is_not_null()).select(key, col)
        assert done.join(newer[table].select(key, col), on=[key, col], how="anti").height == 0, table
    # and some things happened in between
    assert newer["notifications"]["assessed_at"].null_count() < older["notifications"].height
    assert newer["cases"]["closed_on"].is_not_null().sum() > older["cases"]["closed_on"].is_not_null().sum()


def test_same_seed_same_bytes_other_seed_other_data(tmp_path: Path, small: list[Path]) -> None:
    again = generate_series(tmp_path / "again", end=END, seed=7, count=2, size="small")
    other = generate_extract(tmp_path / "other", as_of=END, seed=8, size="small")
    for a, b in zip(small, again, strict=True):
        assert a.name == b.name
        for f in [MANIFEST_FILE, *(file_name(t) for t in ALL_TABLE_NAMES)]:
            assert (a / f).read_bytes() == (b / f).read_bytes(), f
    mine, theirs = read(small[0]), read(other)
    for table in ("cases", "payments", "notifications", "employees"):
        assert not mine[table].equals(theirs[table]), table
    assert mine["org_units"].equals(theirs["org_units"])


def test_one_extract_equals_the_newest_of_a_series(tmp_path: Path, small: list[Path]) -> None:
    one = generate_extract(tmp_path, as_of=END, seed=7, size="small")
    for t in ALL_TABLE_NAMES:
        assert (one / file_name(t)).read_bytes() == (small[0] / file_name(t)).read_bytes(), t


def test_small_preset_shape(small: list[Path]) -> None:
    t = read(small[0])
    org = t["org_units"]
    assert org.group_by("level").len().sort("level").rows() == [
        ("afdeling", 1),
        ("forvaltning", 1),
        ("kommune", 1),
        ("team", 2),
    ]
    employed = t["employees"].filter(pl.col("employed_to").is_null())
    assert 3 <= employed.filter(pl.col("role") == "raadgiver").height <= 7
    assert set(employed["role"]) == set(ROLES)
    active = t["cases"].filter(pl.col("closed_on").is_null())
    assert 50 <= active.height <= 120
    assert t["notifications"]["assessed_at"].null_count() >= 1


# --- calibration (full size, default seed, newest extract) ----------------------------------------


def _live(df: pl.DataFrame, d: date) -> pl.DataFrame:
    return df.filter((pl.col("start_on") <= d) & (pl.col("end_on").is_null() | (pl.col("end_on") >= d)))


def test_children_placed_and_on_preventive_measures(newest: Tables) -> None:
    iv = newest["interventions"].join(newest["intervention_kinds"], on="kind_id")
    live = _live(iv, END).join(newest["cases"].select("case_id", "child_id"), on="case_id")
    placed = live.filter(pl.col("category") == "anbringelse")["child_id"].n_unique()
    preventive = live.filter(pl.col("category") == "forebyggende")["child_id"].n_unique()
    assert 145 <= placed <= 175
    assert 440 <= preventive <= 560


def test_spend_peaks_over_budget_in_2022_23_and_is_back_in_balance(newest: Tables) -> None:
    iv = newest["interventions"].join(newest["intervention_kinds"], on="kind_id")
    pay = newest["payments"].join(iv.select("intervention_id", "category"), on="intervention_id")
    by_year = dict(pay.group_by(pl.col("period").dt.year()).agg(pl.col("amount").sum()).rows())
    budget = dict(newest["budgets"].group_by("year").agg(pl.col("amount").sum()).rows())
    assert sorted(budget) == list(range(2021, END.year + 1))
    past = {y: s for y, s in by_year.items() if y < END.year}
    peak = max(past, key=past.__getitem__)
    assert peak in (2022, 2023)
    assert 140e6 <= past[peak] <= 175e6
    for y in (2022, 2023):
        assert past[y] > 1.03 * budget[y]
    placed = pay.filter((pl.col("period").dt.year() == peak) & (pl.col("category") == "anbringelse"))
    assert 0.55 <= placed["amount"].sum() / past[peak] <= 0.70
    # expected (kpis.md) = actual this year + the rest of the year for decided interventions
    actual = pay.filter(pl.col("period").dt.year() == END.year)["amount"].sum()
    decided = iv.filter(pl.col("decided_on") <= END)
    committed = 0.0
    for m in range(END.month + 1, 13):
        first = date(END.year, m, 1)
        last = (date(END.year + 1, 1, 1) if m == 12 else date(END.year, m + 1, 1)) - timedelta(days=1)
        lo = pl.max_horizontal("start_on", pl.lit(first))
        hi = pl.min_horizontal(pl.col("end_on").fill_null(last), pl.lit(last))
        days = ((hi - lo).dt.total_days() + 1).clip(lower_bound=0)
        committed += decided.select((pl.col("monthly_cost") * days).sum()).item() / ((last - first).days + 1)
    assert abs((num(actual) + committed) / budget[END.year] - 1) < 0.02


def test_unit_costs_accounts_and_legal_basis(newest: Tables) -> None:
    kinds = newest["intervention_kinds"]
    assert set(kinds["account"]) == {"5.28.20", "5.28.21", "5.28.22", "5.28.23", "5.28.24"}
    placements = kinds.filter(pl.col("category") == "anbringelse")
    assert set(placements["legal_basis"]) == {"Barnets lov § 43"}
    support = kinds.filter(pl.col("category") == "forebyggende")["legal_basis"].to_list()
    assert sorted(support) == [f"Barnets lov § 32, stk. 1, nr. {i}" for i in range(1, 9)]
    yearly = (
        newest["interventions"].group_by("kind_id").agg((pl.col("monthly_cost").median() * 12).alias("y"))
    )
    cost = dict(yearly.rows())
    assert 430e3 <= cost["plejefamilie"] <= 510e3
    assert 100e3 <= cost["netvaerksplejefamilie"] <= 250e3
    assert 1.4e6 <= cost["doegninstitution"] <= 1.9e6
    assert 0.85e6 <= cost["opholdssted"] <= 1.0e6
    assert 1.4e6 <= cost["sikret"] <= 1.6e6


def test_notifications_volume_sources_and_assessment(newest: Tables, full: list[Path]) -> None:
    n = newest["notifications"]
    per_year = (
        n.filter(pl.col("received_at").dt.year() < END.year)
        .group_by(pl.col("received_at").dt.year())
        .agg(pl.len(), pl.col("child_id").n_unique().alias("children"))
    )
    assert per_year.height == END.year - 2021
    assert num(per_year["len"].min()) >= 1700 and num(per_year["len"].max()) <= 2100
    assert 850 <= num(per_year["children"].mean()) <= 1200
    share = dict(n.group_by("source").agg(pl.len() / n.height).rows())
    assert share["skole"] == pytest.approx(0.21, abs=0.03)
    assert share["sundhed"] == pytest.approx(0.20, abs=0.03)
    assert share["politi"] == pytest.approx(0.125, abs=0.03)
    done = n.filter(pl.col("assessed_at").is_not_null())
    late = ((done["assessed_at"] - done["received_at"]) > timedelta(hours=24)).mean()
    assert 0.08 <= num(late) <= 0.15
    for path in full:
        waiting = read(path)["notifications"]["assessed_at"].null_count()
        assert 1 <= waiting <= 15, path.name


def test_organisation_staff_and_caseload(newest: Tables) -> None:
    org = newest["org_units"]
    level = dict(zip(org["unit_id"], org["level"], strict=True))
    for unit, parent in zip(org["unit_id"], org["parent_id"], strict=True):
        if parent is not None:
            assert UNIT_LEVELS.index(level[unit]) == UNIT_LEVELS.index(level[parent]) + 1
    teams = set(org.filter(pl.col("level") == "team")["name"])
    assert {"Modtagelsen", "Unge 14–17 år", "Børnehandicap"} <= teams
    emp = newest["employees"]
    assert emp["email"].drop_nulls().is_unique().all()
    assert emp["email"].drop_nulls().str.ends_with(".invalid").all()
    on = emp.filter((pl.col("employed_from") <= END) & pl.col("employed_to").is_null())
    roles = dict(on.group_by("role").len().rows())
    assert roles["leder"] == 1 and 2 <= roles["administration"] <= 6
    assert roles["teamleder"] <= org.filter(pl.col("level") == "team").height
    cw = on.filter(pl.col("role") == "raadgiver")
    assert 25 <= cw.height <= 35
    active = newest["cases"].filter(pl.col("closed_on").is_null())
    assert 25 <= num(active["caseworker_id"].is_not_null().sum()) / num(cw["fte"].sum()) <= 33


def test_sick_leave_turnover_and_deadlines(newest: Tables) -> None:
    emp = newest["employees"]
    days = pl.date_range(date(END.year, 1, 1), END, eager=True)
    grid = emp.join(pl.DataFrame({"d": days.filter(days.dt.weekday() <= 5)}), how="cross").filter(
        (pl.col("employed_from") <= pl.col("d"))
        & (pl.col("employed_to").is_null() | (pl.col("d") <= pl.col("employed_to")))
    )
    sick = newest["absences"].filter(pl.col("kind") == "egen_sygdom")
    sick_days = (
        grid.join(sick, on="employee_id")
        .filter(pl.col("d").is_between("start_on", "end_on"))
        .unique(["employee_id", "d"])
    )
    assert 0.04 <= num(sick_days["fte"].sum()) / num(grid["fte"].sum()) <= 0.075
    ab = newest["absences"]
    assert ab.filter((pl.col("end_on") - pl.col("start_on")).dt.total_days() >= 14).height >= 3
    assert set(ab["kind"]) >= {"egen_sygdom", "barns_sygdom"}
    pairs = (
        ab.with_row_index("i")
        .join(ab.with_row_index("i"), on="employee_id")
        .filter(
            (pl.col("i") < pl.col("i_right"))
            & (pl.col("start_on") <= pl.col("end_on_right"))
            & (pl.col("start_on_right") <= pl.col("end_on"))
        )
    )
    assert pairs.height > 0

    def headcount(d: date) -> int:
        return emp.filter(
            (pl.col("employed_from") <= d) & (pl.col("employed_to").is_null() | (pl.col("employed_to") >= d))
        ).height

    year_ago = END - timedelta(days=365)
    leavers = emp.filter(pl.col("employed_to").is_between(year_ago + timedelta(days=1), END)).height
    assert 0.08 <= leavers / ((headcount(year_ago) + headcount(END)) / 2) <= 0.22

    dl = newest["deadlines"]
    assert set(dl["kind"]) == set(DEADLINE_KINDS)
    due = dl.filter(pl.col("due_on").is_between(date(END.year, 1, 1), END))
    met = due.filter(pl.col("done_on") <= pl.min_horizontal("due_on", pl.lit(END)))
    assert 0.75 <= met.height / due.height <= 0.92
    assert dl.filter(pl.col("done_on").is_null() & (pl.col("due_on") < END)).height > 0  # overdue
    assert dl.filter(pl.col("done_on").is_null() & (pl.col("due_on") >= END)).height > 0  # still running
    inv = dl.filter(pl.col("kind") == "undersoegelse").join(newest["cases"], on="case_id")
    months = (
        (pl.col("due_on").dt.year() - pl.col("opened_on").dt.year()) * 12
        + pl.col("due_on").dt.month()
        - pl.col("opened_on").dt.month()
    )
    assert inv.select((months == 4).all()).item()


def test_payments_measurements_and_price_changes(newest: Tables) -> None:
    pay = newest["payments"]
    assert pay.filter(pl.col("amount") < 0).height > 0
    december_in_january = pay.filter(
        (pl.col("period").dt.month() == 12)
        & (pl.col("posted_on").dt.year() == pl.col("period").dt.year() + 1)
    )
    assert december_in_january.height > 0
    per_month = pay.filter(pl.col("amount") > 0).group_by("intervention_id", "period").len()
    assert per_month["len"].max() == 1  # one posting per intervention and month, corrections aside
    # some family-care allowances are paid ahead, in the month before, from the 15th on
    ahead = pay.filter(pl.col("posted_on") < pl.col("period")).join(
        newest["interventions"].select("intervention_id", "kind_id"), on="intervention_id"
    )
    assert ahead.height > 100
    assert set(ahead["kind_id"]) == {"plejefamilie", "netvaerksplejefamilie"}
    before = pl.col("period").dt.offset_by("-1mo")
    assert (
        ahead.filter(
            (pl.col("posted_on").dt.month_start() != before) | (pl.col("posted_on").dt.day() < 15)
        ).height
        == 0
    )
    # the newest extract (20 Nov) holds a few for December: the demo exercises kpis.md's prepaid
    assert ahead.filter(pl.col("period") == date(2026, 12, 1)).height > 0
    iv = newest["interventions"]
    chained = iv.join(
        iv,
        left_on=["case_id", "kind_id", pl.col("end_on") + timedelta(days=1)],
        right_on=["case_id", "kind_id", "start_on"],
    )
    assert chained.filter(pl.col("monthly_cost") != pl.col("monthly_cost_right")).height > 10
    ms = newest["measurements"]
    assert set(ms["kpi_id"]) == {"brugertilfredshed", "medarbejdertilfredshed"}
    assert num(ms["value"].min()) >= 3.6 and num(ms["value"].max()) <= 4.7
    assert ms.group_by("kpi_id", "unit_id").len()["len"].min() == END.year - 2021 + 1  # one per year


# --- scale, defects, helpers, command line ---------------------------------------------------------


def test_scale_two_doubles_and_keeps_one_root(tmp_path: Path, newest: Tables) -> None:
    t = assert_clean(generate_extract(tmp_path, as_of=END, scale=2))
    org = t["org_units"]
    root = org.filter(pl.col("parent_id").is_null())
    assert root.height == 1 and root["level"].item() == "kommune"
    assert org.filter(pl.col("level") == "forvaltning").height == 2
    assert org.height == 2 * (newest["org_units"].height - 1) + 1
    for table in ("payments", "cases", "notifications", "employees"):
        assert 1.6 <= t[table].height / newest[table].height <= 2.4, table


def test_defects_are_exactly_the_documented_rows(tmp_path: Path) -> None:
    clean = read(generate_extract(tmp_path / "clean", as_of=END, seed=3, size="small"))
    bad_path = generate_extract(tmp_path / "bad", as_of=END, seed=3, size="small", defects=True)
    bad = read(bad_path)
    added = sum(bad[t].height - clean[t].height for t in TABLE_NAMES)
    assert added == len(DEFECTS) <= 10
    found = violations(bad, END)
    assert set(found) == {
        "payments.fk:intervention_id",
        "payments.period:first_of_month",
        "deadlines.order:done_on",
        "notifications.pk",
        "notifications.order:assessed_at",
        "employees.range:fte",
        "cases.order:closed_on",
        "interventions.order:decided_on",
        "absences.enum:kind",
        "budgets.not_null:unit_id",
    }
    assert found["notifications.pk"] == 1 and sum(found.values()) == len(DEFECTS)
    assert {d.table for d in DEFECTS} == {k.split(".")[0] for k in found}


def test_small_series_across_new_year_with_several_municipalities(tmp_path: Path) -> None:
    paths = generate_series(tmp_path, end=date(2027, 1, 8), seed=4, count=3, size="small", scale=3)
    assert [p.name for p in paths] == ["2027-01-08", "2026-12-25", "2026-12-11"]
    for path in paths:
        t = assert_clean(path)
        assert t["org_units"].filter(pl.col("level") == "team").height == 6
    newer, older = read(paths[0]), read(paths[1])
    assert set(newer["budgets"]["year"]) - set(older["budgets"]["year"]) == {2027}
    assert older["payments"].join(newer["payments"], on=older["payments"].columns, how="anti").height == 0
    with pytest.raises(ValueError, match="before the history starts"):
        generate_series(tmp_path, end=date(2021, 2, 5), count=7)


def test_default_end_is_the_latest_friday() -> None:
    assert default_end(date(2026, 11, 23)) == date(2026, 11, 20)  # Monday
    assert default_end(date(2026, 11, 20)) == date(2026, 11, 20)  # Friday
    assert default_end(date(2026, 11, 19)) == date(2026, 11, 13)  # Thursday
    assert default_end().weekday() == 4


def test_ensure_demo_data_generates_once(tmp_path: Path) -> None:
    seen: list[tuple[float, str]] = []
    paths = ensure_demo_data(tmp_path, progress=lambda f, text: seen.append((f, text)))
    assert len(paths) == 7 and paths == sorted(paths, reverse=True)
    assert date.fromisoformat(paths[0].name) == default_end()
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[0] >= 0 and fractions[-1] == 1.0
    assert all(isinstance(text, str) and text for _, text in seen)
    stamp = (paths[0] / MANIFEST_FILE).stat().st_mtime_ns
    assert ensure_demo_data(tmp_path) == paths
    assert (paths[0] / MANIFEST_FILE).stat().st_mtime_ns == stamp
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folders left


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--out", str(tmp_path), "--small", "--single", "--end", "2026-11-20", "--seed", "5"]) == 0
    out = capsys.readouterr().out
    assert [p.name for p in tmp_path.iterdir()] == ["2026-11-20"]
    assert "payments" in out and "2023:" in out and "100.0 %" in out
    with pytest.raises(SystemExit):
        main(["--out", str(tmp_path), "--scale", "0"])


# --- contacts and the assessment routine (issue 13) ----------------------------------------------


def test_contacts_volume_failure_share_and_reasons(newest: Tables, full: list[Path]) -> None:
    ct = newest["contacts"]
    as_of = date.fromisoformat(full[0].name)
    per_year = (
        ct.filter(pl.col("received_at").dt.year() < as_of.year)
        .group_by(pl.col("received_at").dt.year().alias("y"))
        .agg(pl.len().alias("n"), (pl.col("demand_type") == "fejl").mean().alias("fail"))
    )
    # a few thousand contacts a year; failure demand about a third
    assert num(per_year["n"].min()) >= 2_000 and num(per_year["n"].max()) <= 4_000
    assert num(per_year["fail"].min()) >= 0.25 and num(per_year["fail"].max()) <= 0.45
    assert set(ct["channel"]) <= set(CHANNELS) and ct["channel"].n_unique() == len(CHANNELS)
    reasons = set(ct["reason"])
    for r in (
        "Har ikke hørt fra rådgiver",
        "Spørger til bevilling",
        "Klage over afgørelse",
        "Ny oplysning i sagen",
        "Ønsker møde",
    ):
        assert r in reasons, r
    assert set(ct.filter(pl.col("demand_type") == "fejl")["reason"]).isdisjoint(
        {"Ny oplysning i sagen", "Ønsker møde"}
    )
    # more failure demand in months when caseworkers leave: months with a caseworker leaving that
    # month or the month before against months without
    cw = newest["employees"].filter((pl.col("role") == "raadgiver") & pl.col("employed_to").is_not_null())
    left = set(cw["employed_to"].dt.truncate("1mo").to_list())
    left |= {(m + timedelta(days=32)).replace(day=1) for m in left}
    monthly = ct.group_by(pl.col("received_at").dt.date().dt.truncate("1mo").alias("m")).agg(
        (pl.col("demand_type") == "fejl").mean().alias("fail")
    )
    with_leavers = monthly.filter(pl.col("m").is_in(sorted(left)))["fail"].mean()
    without = monthly.filter(~pl.col("m").is_in(sorted(left)))["fail"].mean()
    assert num(with_leavers) > num(without) + 0.02


def test_assessment_routine_shifts_notification_assessment_time(full: list[Path]) -> None:
    from data._world import assessment_routine_from
    from metrics.capability import capability
    from metrics.loader import load_extract
    from metrics.org import org_tree
    from metrics.scope import Scope

    ex = load_extract(full[0])
    routine = assessment_routine_from(ex.as_of)
    assert routine == date(2026, 6, 1)  # five months before November 2026
    root = Scope.unit(org_tree(ex).root)
    before = capability(ex, "vurdering_timer", root, routine - timedelta(days=1)).figures
    after = capability(ex, "vurdering_timer", root, ex.as_of, routine).figures
    assert before.mean is not None and after.mean is not None
    assert after.mean < 0.8 * before.mean
    # over the default window (before and after the routine) the shift shows as a run: rule 2
    window = capability(ex, "vurdering_timer", root, ex.as_of).figures
    assert any(s.rule == 2 for s in window.signals)
