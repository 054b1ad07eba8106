"""Scopes (a unit's subtree, or one caseworker's cases) and the scoped, enriched frames.

Per kpis.md: cases, interventions, payments and deadlines belong to the unit of
their case; notifications, employees, budgets and measurements to their own
unit_id. A caseworker scope means the cases whose caseworker_id is that employee;
for the tables that are not case-based it means: notifications and contacts linked
to those cases, and the caseworker as the only employee (their own absences).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

import polars as pl

from metrics.extract import STORED_AS_ROWS, Extract, chunked_like, row_column
from metrics.org import org_tree

CASE_TABLES = ("cases", "interventions", "payments", "deadlines")
_SCOPED_CACHE_SIZE = 96
_LOCK = threading.Lock()


class UnknownScope(ValueError):
    """A unit or caseworker that is not in the extract."""


@dataclass(frozen=True)
class Scope:
    unit_id: str | None = None
    caseworker_id: str | None = None
    # the units the viewer may see (metrics.access.scope_for): an older extract shown within
    # today's scope leaves out the rest of the subtree; None: the whole subtree
    within: frozenset[str] | None = None

    @classmethod
    def unit(cls, unit_id: str, within: frozenset[str] | None = None) -> Scope:
        return cls(unit_id=unit_id, within=within)

    @classmethod
    def caseworker(cls, employee_id: str) -> Scope:
        return cls(caseworker_id=employee_id)


def _case_frame(ex: Extract) -> pl.DataFrame:
    """case_id, unit_id, caseworker_id and case_key: an integer per case (counting distinct cases
    over millions of payments is ~10x faster on it than on the string ids). Cached per extract."""
    hit = ex._cache.get("enriched:case_keys")
    if isinstance(hit, pl.DataFrame):
        return hit
    cases = ex["cases"]
    # unit_keys numbers the sorted unit ids, so a unit's key is its place in this Enum (a fifth of
    # the transient memory of replace_strict with the dict)
    units = pl.Enum(sorted(unit_keys(ex)))
    unit_key = cases.get_column("unit_id").cast(units).to_physical().cast(pl.UInt32)
    # the keys in the chunks of the id columns (the frame evenly chunked): measured, the peak after
    # load and the first KPIs is 15-25 MB lower than with one-chunk keys, though a root-wide gather
    # from it is slower (README, "Where the memory goes")
    like = cases.get_column("case_id")
    out = cases.select("case_id", "unit_id", "caseworker_id").with_columns(
        chunked_like(pl.int_range(cases.height, dtype=pl.UInt32, eager=True), like).alias("case_key"),
        chunked_like(unit_key.rechunk(), like).alias("unit_key"),
    )
    ex._cache["enriched:case_keys"] = out
    return out


def unit_keys(ex: Extract) -> dict[str, int]:
    """An integer per unit (its place among the sorted unit ids): the case-based enriched tables
    carry it as `unit_key`, so scoping and grouping them compare integers, not strings."""
    hit = ex._cache.get("unit_keys")
    if isinstance(hit, dict):
        return hit
    out = {u: i for i, u in enumerate(sorted(org_tree(ex).parent))}
    ex._cache["unit_keys"] = out
    return out


def _unit_filter(units: frozenset[str]) -> pl.Expr:
    return pl.col("unit_id").is_in(pl.Series(sorted(units), dtype=pl.String).implode())


def _row_of(keys: pl.Series, target: pl.Series) -> pl.Series:
    """For each key, the row of `target` (unique ids) holding it; null when none does.

    Cast to an Enum whose categories are `target` in order, a key's physical value is its row:
    about half the time and memory of a join on millions of string keys (whose output carries a
    copy of the key column). Accepted primary keys are unique and never null; should `target`
    not be, the join gives the same answer. A few keys among many ids (a team's rows among the
    country's cases) are looked up instead: the Enum of every id would cost what the country costs."""
    if keys.len() * 8 < target.len():
        wanted = keys.drop_nulls().unique().implode()
        hits = pl.DataFrame({"k": target}).with_row_index("row").filter(pl.col("k").is_in(wanted))
        return pl.DataFrame({"k": keys}).join(hits, on="k", how="left", maintain_order="left")["row"]
    try:
        return keys.cast(pl.Enum(target), strict=False).to_physical().cast(pl.UInt32).alias("row")
    except (ValueError, TypeError, pl.exceptions.PolarsError):
        rows = pl.DataFrame({"k": target}).with_row_index("row")
        return pl.DataFrame({"k": keys}).join(rows, on="k", how="left", maintain_order="left")["row"]


_ROW_KEYS = {
    "interventions": ("case_id", "cases"),
    "deadlines": ("case_id", "cases"),
    "payments": ("intervention_id", "interventions"),
}


def row_keys(ex: Extract, table: str) -> pl.Series:
    """The row of each row's parent (a case for interventions and deadlines, an intervention for
    payments): integer keys, so scoping and enriching them gathers instead of joining strings.
    Built once per extract (`prepare` builds them right after loading)."""
    key = f"rows:{table}"
    hit = ex._cache.get(key)
    if isinstance(hit, pl.Series):
        return hit
    column, parent = _ROW_KEYS[table]
    stored = ex.stored(table)
    if row_column(column) in stored.columns:  # kept as these keys (`prepare`)
        out = stored.get_column(row_column(column)).alias("row")
    else:
        out = _row_of(ex[table][column], ex[parent][column])
    ex._cache[key] = out
    return out


def _kind_rows(ex: Extract) -> pl.Series:
    """Per intervention, the row of its kind in intervention_kinds (cached per extract)."""
    hit = ex._cache.get("rows:interventions:kind")
    if isinstance(hit, pl.Series):
        return hit
    out = _row_of(ex["interventions"]["kind_id"], ex["intervention_kinds"]["kind_id"])
    ex._cache["rows:interventions:kind"] = out
    return out


def prepare(ex: Extract) -> Extract:
    """Build the integer keys the scoped tables are made from (called by the loader), and keep
    the columns of `STORED_AS_ROWS` as those keys instead of their strings."""
    for table in _ROW_KEYS:
        row_keys(ex, table)
    for table in STORED_AS_ROWS:
        ex.store_as_rows(table, row_keys(ex, table))
    return ex


def _in_units(ex: Extract, table: str, units: frozenset[str]) -> pl.Series:
    """Per row of a case-based table: whether its case is in `units`."""
    keys = unit_keys(ex)
    wanted = pl.Series([keys[u] for u in units], dtype=pl.UInt32).implode()
    case_in = _case_frame(ex).select(pl.col("unit_key").is_in(wanted)).to_series()
    if table == "payments":
        return case_in.gather(row_keys(ex, "interventions")).gather(row_keys(ex, "payments"))
    return case_in.gather(row_keys(ex, table))


def _build(ex: Extract, table: str, units: frozenset[str] | None, year: int | None) -> pl.DataFrame:
    """The rows of `table` of `units` (None: all) that can count in `year` (None: every year; see
    `_YEAR_FILTERS`), joined with what scoping and grouping need. Filters come before the joins,
    and case-based tables are scoped and joined through integer row keys, so a team's rows cost
    what they are, not what the whole extract is."""
    source = _SOURCE.get(table, table)
    raw = ex.stored(source)
    if source in _ROW_KEYS:
        keep = raw.select(_YEAR_FILTERS[table](year)).to_series() if year is not None else None
        if units is not None:
            inside = _in_units(ex, source, units)
            keep = inside if keep is None else keep & inside
        rows = row_keys(ex, source)
        # the intervention's row in the interventions table: an integer key for joining payments
        # to their intervention (the row key of a payment, the row itself of an intervention)
        iv_key = None
        if source == "interventions":
            iv_key = pl.int_range(raw.height, dtype=pl.UInt32, eager=True)
        elif source == "payments":
            iv_key = rows
        if table in _NARROW:  # filter only the columns kept (not payment_id's 16 bytes a row)
            raw = raw.select(c for c in _NARROW[table] if c in raw.columns)
        if keep is not None:
            raw, rows = raw.filter(keep), rows.filter(keep)
            iv_key = None if iv_key is None else iv_key.filter(keep)
        iv_keys = [] if iv_key is None else [iv_key.alias("intervention_key")]
        if table in _NARROW:
            wanted = _NARROW[table]
            from_cases = [c for c in wanted if c not in raw.columns and c != "intervention_key"]
            case_rows = row_keys(ex, "interventions").gather(rows) if source == "payments" else rows
            cases = _case_frame(ex).select(from_cases)[case_rows]
            return raw.hstack([*cases.get_columns(), *iv_keys]).select(wanted)
        if source == "interventions":
            kinds = ex["intervention_kinds"].select(
                "kind_id", "category", "account", pl.col("name").alias("kind_name")
            )
            cases = _case_frame(ex).select("unit_id", "caseworker_id", "case_key", "unit_key")
            return raw.hstack([*cases[rows].get_columns(), *iv_keys]).join(
                kinds, on="kind_id", how="left", maintain_order="left"
            )
        if source == "payments":
            # the intervention's case and kind, gathered row by row from the case and kind tables
            # (no table of every intervention, no join on string keys)
            cases = _case_frame(ex).select("case_id", "case_key", "unit_id", "caseworker_id", "unit_key")[
                row_keys(ex, "interventions").gather(rows)
            ]
            kinds = ex["intervention_kinds"].select("kind_id", "category", "account")[
                _kind_rows(ex).gather(rows)
            ]
            parent = pl.concat([cases, kinds], how="horizontal").select(
                "case_id",
                "case_key",
                "kind_id",
                "category",
                "account",
                "unit_id",
                "caseworker_id",
                "unit_key",
            )
            return (
                ex.restore(source, raw)
                .hstack([*parent.get_columns(), *iv_keys])
                .with_columns(pl.col("period").dt.year().alias("period_year"))
            )
        cases = _case_frame(ex).select("unit_id", "caseworker_id", "unit_key")
        return raw.hstack(cases[rows].get_columns())
    narrow = _NARROW.get(table)
    if narrow is not None:  # only the columns kept (and the case_id a caseworker is found by)
        raw = raw.select(c for c in dict.fromkeys((*narrow, "case_id")) if c in raw.columns)
    if year is not None:
        raw = raw.filter(_YEAR_FILTERS[table](year))
    table = source
    how: Literal["inner", "left"] = "left" if units is None else "inner"
    if table in ("notifications", "contacts"):
        if units is not None:
            raw = raw.filter(_unit_filter(units))
        if narrow is not None and "caseworker_id" not in narrow:
            return raw.select(narrow)
        # the case's caseworker gathered by row (a null or unknown case_id gives null, as a left join
        # would): no hash table over every case's string id, whose memory outlives the join
        rows = _row_of(raw["case_id"], _case_frame(ex)["case_id"])
        out = raw.with_columns(_case_frame(ex)["caseworker_id"].gather(rows))
        return out if narrow is None else out.select(narrow)
    if table == "absences":
        emp = ex["employees"].select("employee_id", "unit_id", "fte", "employed_from", "employed_to")
        if units is not None:
            emp = emp.filter(_unit_filter(units))
        return raw.join(emp, on="employee_id", how=how)
    if units is not None and "unit_id" in raw.columns:
        raw = raw.filter(_unit_filter(units))
    return raw


def _enriched(ex: Extract, table: str, year: int | None = None) -> pl.DataFrame:
    """Every row of the table (of `year`), enriched. Built once per extract; a year's rows are
    taken from the whole table when that is built already."""
    key = f"enriched:{table}" if year is None else f"enriched:{table}:{year}"
    hit = ex._cache.get(key)
    if isinstance(hit, pl.DataFrame):
        return hit
    source = _SOURCE.get(table, table)
    full = ex._cache.get(f"enriched:{source}")
    wider = _wider(ex, table, year)
    if wider is not None:  # the same rows, its columns shared, not copied
        out = wider.select(_NARROW[table])
    elif (
        year is not None
        and isinstance(full, pl.DataFrame)
        and set(_NARROW.get(table, ())) <= set(full.columns)
    ):
        out = full.filter(_YEAR_FILTERS[table](year))
        if table in _NARROW:
            out = out.select(_NARROW[table])
    elif (
        year is None
        and table in _NARROW
        and isinstance(full, pl.DataFrame)
        and set(_NARROW[table]) <= set(full.columns)
    ):
        out = full.select(_NARROW[table])
    else:
        out = _build(ex, table, None, year)
    ex._cache[key] = out
    return out


def _wider(ex: Extract, table: str, year: int | None) -> pl.DataFrame | None:
    """For a narrow table: a frame of the same year's rows built already that holds its columns
    (the whole table's year, or a wider narrow one)."""
    if table not in _NARROW or year is None:
        return None
    source = _SOURCE[table]
    for name in (source, *_NARROW):
        if name == table or _YEAR_FILTERS[name] is not _YEAR_FILTERS[table]:
            continue  # other rows (deadlines open in a year are not those due in it)
        hit = ex._cache.get(f"enriched:{name}:{year}")
        if isinstance(hit, pl.DataFrame) and set(_NARROW[table]) <= set(hit.columns):
            return hit
    return None


def _is_built(ex: Extract, table: str, year: int | None) -> bool:
    source = _SOURCE.get(table, table)
    return (
        f"enriched:{source}" in ex._cache
        or (year is not None and f"enriched:{table}:{year}" in ex._cache)
        or _wider(ex, table, year) is not None
    )


def check_scope(ex: Extract, scope: Scope) -> None:
    tree = org_tree(ex)
    if scope.unit_id is not None and scope.unit_id not in tree:
        raise UnknownScope(f"ukendt enhed: {scope.unit_id!r}")
    if scope.caseworker_id is not None and (
        ex["employees"].filter(pl.col("employee_id") == scope.caseworker_id).height == 0
    ):
        raise UnknownScope(f"ukendt medarbejder: {scope.caseworker_id!r}")


def units_in(ex: Extract, scope: Scope) -> frozenset[str] | None:
    """The units of a unit scope (None = no unit restriction): the subtree, cut to `within`."""
    if scope.unit_id is None:
        return None
    units = org_tree(ex).subtree(scope.unit_id)
    return units if scope.within is None else units & scope.within


def _memo(ex: Extract, key: tuple[str, Scope], build: Callable[[], pl.DataFrame]) -> pl.DataFrame:
    """A small LRU per extract. The extract is shared by every session of the app, hence the lock;
    building twice in a race is harmless."""
    with _LOCK:
        cache: OrderedDict[tuple[str, Scope], pl.DataFrame] = ex._cache.setdefault("scoped", OrderedDict())  # type: ignore[assignment]
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
    df = build()
    with _LOCK:
        cache[key] = df
        if len(cache) > _SCOPED_CACHE_SIZE:
            cache.popitem(last=False)
    return df


def _filter_scope(ex: Extract, table: str, scope: Scope, year: int | None = None) -> pl.DataFrame:
    check_scope(ex, scope)
    units = units_in(ex, scope)
    if units is not None and len(units) >= len(org_tree(ex).parent):
        units = None
    if units is None or _is_built(ex, table, year):
        df = _enriched(ex, table, year)
        if units is not None and "unit_key" in df.columns:
            keys = unit_keys(ex)
            df = df.filter(
                pl.col("unit_key").is_in(pl.Series([keys[u] for u in units], dtype=pl.UInt32).implode())
            )
        elif units is not None:
            df = df.filter(_unit_filter(units))
    else:
        df = _build(ex, table, units, year)
    table = _SOURCE.get(table, table)
    if scope.caseworker_id is not None:
        if table in (*CASE_TABLES, "notifications", "contacts") and "caseworker_id" in df.columns:
            df = df.filter(pl.col("caseworker_id") == scope.caseworker_id)
        elif table in ("notifications", "contacts"):  # a narrow frame: those linked to the caseworker's cases
            ids = _case_frame(ex).filter(pl.col("caseworker_id") == scope.caseworker_id)["case_id"]
            df = df.filter(pl.col("case_id").is_in(ids.implode()))
        elif table in CASE_TABLES:  # a narrow frame: the rows of the caseworker's cases, by key
            keys = _case_frame(ex).filter(pl.col("caseworker_id") == scope.caseworker_id)["case_key"]
            df = df.filter(pl.col("case_key").is_in(keys.implode()))
        elif table in ("employees", "absences"):
            df = df.filter(pl.col("employee_id") == scope.caseworker_id)
        else:  # budgets and measurements have no caseworker
            df = df.clear()
    return df


def scoped(ex: Extract, table: str, scope: Scope) -> pl.DataFrame:
    """Rows of `table` in scope, enriched with unit_id/caseworker_id/account/category where relevant."""
    return _memo(ex, (table, scope), lambda: _filter_scope(ex, table, scope))


def scoped_payments_year(ex: Extract, scope: Scope, year: int) -> pl.DataFrame:
    """Payments in scope covering a month of `year` (cached: the hot path of every economy figure)."""
    return scoped_year(ex, "payments", scope, year)


def scoped_payments_udgift(ex: Extract, scope: Scope, year: int) -> pl.DataFrame:
    """`scoped_payments_year` with only the columns udgift_pr_sag counts on (period, posted_on,
    amount, case_key; unit_key for scoping, a caseworker's rows are found by case_key). Cached."""
    return scoped_year(ex, "payments_udgift", scope, year)


def scoped_payments_economy(ex: Extract, scope: Scope, year: int) -> pl.DataFrame:
    """`scoped_payments_year` with only the columns actual and committed count on (period,
    posted_on, amount, intervention_key; case_key and unit_key as in the udgift frame). Cached."""
    return scoped_year(ex, "payments_economy", scope, year)


def scoped_interventions_economy(ex: Extract, scope: Scope, year: int) -> pl.DataFrame:
    """`scoped_interventions_year` with only the columns committed counts on (intervention_key,
    decided_on, start_on, end_on, monthly_cost; case_key and unit_key for scoping). Cached."""
    return scoped_year(ex, "interventions_economy", scope, year)


def overlaps_year(year: int) -> pl.Expr:
    return (pl.col("start_on") <= date(year, 12, 31)) & (
        pl.col("end_on").is_null() | (pl.col("end_on") >= date(year, 1, 1))
    )


def open_deadlines(year: int) -> pl.Expr:
    """Deadlines that can be overdue at some day of `year` (due before its end, not done before
    its start): all that frister_overskredne can count at an as_of in `year`."""
    return (pl.col("due_on") <= date(year, 12, 31)) & (
        pl.col("done_on").is_null() | (pl.col("done_on") >= date(year, 1, 1))
    )


# Rows of a table that can matter for a figure of `year`. Only a pre-filter: every KPI
# applies its own full rule afterwards, and each rule implies its table's predicate here.
_YEAR_FILTERS: dict[str, Callable[[int], pl.Expr]] = {
    "interventions": overlaps_year,
    "absences": overlaps_year,
    "payments": lambda year: pl.col("period").is_between(date(year, 1, 1), date(year, 12, 31)),
    "deadlines": lambda year: pl.col("due_on").is_between(date(year, 1, 1), date(year, 12, 31)),
    "notifications": lambda year: (
        (pl.col("received_at") >= datetime(year, 1, 1)) & (pl.col("received_at") < datetime(year + 1, 1, 1))
    ),
    "contacts": lambda year: (
        (pl.col("received_at") >= datetime(year, 1, 1)) & (pl.col("received_at") < datetime(year + 1, 1, 1))
    ),
    "deadlines_open": open_deadlines,
}
# a row filter of a table that is kept like a table of its own
_SOURCE = {
    "deadlines_open": "deadlines",
    "deadlines_kpi": "deadlines",
    "payments_udgift": "payments",
    "payments_economy": "payments",
    "interventions_economy": "interventions",
    "notifications_kpi": "notifications",
    "notifications_capability": "notifications",
    "deadlines_capability": "deadlines",
}
# Narrow variants of a table: only the columns a KPI needs (and scoping needs). The KPIs and
# their trends never build payments with every column (only economy_table's groupings need
# those), and the year before as_of, which only udgift_pr_sag's change asks for, is narrower still.
_NARROW: dict[str, tuple[str, ...]] = {
    "payments_udgift": ("period", "posted_on", "amount", "case_key", "unit_key"),
    "payments_economy": ("intervention_key", "period", "posted_on", "amount", "case_key", "unit_key"),
    # the notification KPIs and their trends (unit_id and caseworker_id for scoping; the
    # drill-down and the cascade keep every column)
    "notifications_kpi": ("received_at", "assessed_at", "unit_id", "caseworker_id"),
    # the economy KPIs' interventions: committed, and its trend (economy_table groups the full frame)
    "interventions_economy": (
        "intervention_key",
        "decided_on",
        "start_on",
        "end_on",
        "monthly_cost",
        "case_key",
        "unit_key",
    ),
    # the deadline KPIs and their trends and cascade (the drill-down's rows keep every column)
    "deadlines_kpi": ("kind", "due_on", "done_on", "case_key", "unit_key"),
    "deadlines_open": ("kind", "due_on", "done_on", "case_key", "unit_key"),
    # the capability measures (metrics.capability): no caseworker_id, so no lookup of every
    # notification's case; a caseworker's notifications are found by case_id (`_filter_scope`)
    "notifications_capability": ("notification_id", "received_at", "assessed_at", "case_id", "unit_id"),
    "deadlines_capability": ("deadline_id", "kind", "started_on", "done_on", "case_key", "unit_key"),
}
_YEAR_FILTERS["payments_udgift"] = _YEAR_FILTERS["payments"]
_YEAR_FILTERS["payments_economy"] = _YEAR_FILTERS["payments"]
_YEAR_FILTERS["deadlines_kpi"] = _YEAR_FILTERS["deadlines"]
_YEAR_FILTERS["interventions_economy"] = _YEAR_FILTERS["interventions"]
_YEAR_FILTERS["notifications_kpi"] = _YEAR_FILTERS["notifications"]
_YEAR_FILTERS["notifications_capability"] = _YEAR_FILTERS["notifications"]
_YEAR_FILTERS["deadlines_capability"] = _YEAR_FILTERS["deadlines"]


def scoped_year(ex: Extract, table: str, scope: Scope, year: int) -> pl.DataFrame:
    """`scoped(ex, table, scope)` restricted to rows that can count in `year` (cached)."""
    return _memo(ex, (f"{table}:{year}", scope), lambda: _filter_scope(ex, table, scope, year))


def scoped_open_deadlines(ex: Extract, scope: Scope, year: int) -> pl.DataFrame:
    """`scoped(ex, "deadlines", scope)` restricted to `open_deadlines(year)`, with only the columns
    frister_overskredne counts on (`_NARROW`; cached)."""
    return scoped_year(ex, "deadlines_open", scope, year)


def scoped_deadlines_kpi(ex: Extract, scope: Scope, year: int) -> pl.DataFrame:
    """`scoped_year(ex, "deadlines", scope, year)` with only the columns the deadline KPIs count on
    (kind, due_on, done_on) and scoping needs."""
    return scoped_year(ex, "deadlines_kpi", scope, year)


def scoped_notifications_kpi(ex: Extract, scope: Scope, year: int) -> pl.DataFrame:
    """`scoped_year(ex, "notifications", scope, year)` with only the columns the notification KPIs
    count on (received_at, assessed_at) and scoping needs (unit_id, caseworker_id). Cached."""
    return scoped_year(ex, "notifications_kpi", scope, year)


def scoped_capability(ex: Extract, table: str, scope: Scope) -> pl.DataFrame:
    """`scoped(ex, table, scope)` (notifications or deadlines) with only the columns the capability
    measures count on (`_NARROW`; cached)."""
    return _memo(ex, (f"{table}_capability", scope), lambda: _filter_scope(ex, f"{table}_capability", scope))


def scoped_interventions_year(ex: Extract, scope: Scope, year: int) -> pl.DataFrame:
    """Interventions in scope running on at least one day of `year` (all that committed can count)."""
    return scoped_year(ex, "interventions", scope, year)
