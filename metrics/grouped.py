"""Every KPI for all child units of a unit in one grouped pass (the scorecard cascade).

Each row of the unit's scope gets the child of the unit whose subtree holds it (`child`);
numerators, denominators and bases are summed per child and divided afterwards, exactly as
the per-unit functions of `kpis` and `economy` do for one subtree (kpis.md: ratios are
recomputed at every level, never averaged). Rows registered on the unit itself belong to no
child. A metric without a grouped form here is evaluated child by child.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import polars as pl

from metrics import demand, economy, kpis, registry
from metrics.extract import Extract
from metrics.org import org_tree
from metrics.scope import Scope, _memo, scoped, scoped_year, unit_keys
from metrics.values import KpiValue, one_year_earlier, ratio, year_start

ByChild = dict[str, KpiValue]
Grouped = Callable[[Extract, Scope, date, tuple[str, ...]], ByChild]
CHILD = "child"


def children_of(ex: Extract, unit_id: str) -> tuple[str, ...]:
    return org_tree(ex).children.get(unit_id, ())


def visible_children(ex: Extract, unit_id: str, within: frozenset[str] | None = None) -> tuple[str, ...]:
    """The children of unit_id whose subtree holds a unit of `within` (all of them when None)."""
    kids = children_of(ex, unit_id)
    if within is None:
        return kids
    tree = org_tree(ex)
    return tuple(c for c in kids if tree.subtree(c) & within)


def _child_map(ex: Extract, unit_id: str) -> pl.DataFrame:
    """unit_id → child index (in `children_of` order) for every unit below unit_id (unit_id
    itself left out: it is no child)."""
    place = {c: i for i, c in enumerate(children_of(ex, unit_id))}
    mapping = {u: place[c] for u, c in org_tree(ex).child_of(unit_id).items() if u != unit_id}
    return pl.DataFrame(
        {"unit_id": list(mapping), CHILD: list(mapping.values())},
        schema={"unit_id": pl.String, CHILD: pl.UInt32},
    )


def _child_lookup(ex: Extract, unit_id: str) -> pl.Series:
    """By `unit_key`: the child index of the unit, null for unit_id itself and units outside."""
    m = dict(_child_map(ex, unit_id).iter_rows())
    keys = unit_keys(ex)
    lookup: list[int | None] = [None] * len(keys)
    for u, k in keys.items():
        lookup[k] = m.get(u)
    return pl.Series(lookup, dtype=pl.UInt32)


def with_child(ex: Extract, table: str, scope: Scope, year: int | None = None) -> pl.DataFrame:
    """Rows of `table` in the unit scope (of `year`, like `scoped_year`) that lie below a child of
    its unit, with the column `child` (the child's index in `children_of`). Cached like the scoped
    frames."""
    unit_id = scope.unit_id
    assert unit_id is not None

    def build() -> pl.DataFrame:
        df = scoped(ex, table, scope) if year is None else scoped_year(ex, table, scope, year)
        if "unit_key" in df.columns:
            child = pl.lit(_child_lookup(ex, unit_id)).gather(pl.col("unit_key")).alias(CHILD)
            return df.with_columns(child).filter(pl.col(CHILD).is_not_null())
        return df.join(_child_map(ex, unit_id), on="unit_id", how="inner")

    return _memo(ex, (f"child:{table}:{year}", scope), build)


def _rows(df: pl.DataFrame, kids: tuple[str, ...]) -> dict[str, dict[str, object]]:
    """Rows by child id; `child` holds the index in kids."""
    return {kids[r[CHILD]]: r for r in df.iter_rows(named=True)}


def _counts(df: pl.DataFrame, kids: tuple[str, ...]) -> ByChild:
    got = {kids[i]: n for i, n in df.group_by(CHILD).len().iter_rows()}
    return {c: KpiValue(float(got.get(c, 0)), int(got.get(c, 0))) for c in kids}


def _aktive_sager(ex: Extract, scope: Scope, as_of: date, kids: tuple[str, ...]) -> ByChild:
    return _counts(with_child(ex, "cases", scope).filter(kpis.active_on(as_of)), kids)


def _sager_pr_raadgiver(ex: Extract, scope: Scope, as_of: date, kids: tuple[str, ...]) -> ByChild:
    cases = with_child(ex, "cases", scope).filter(
        kpis.active_on(as_of) & pl.col("caseworker_id").is_not_null()
    )
    assigned = {kids[i]: n for i, n in cases.group_by(CHILD).len().iter_rows()}
    staff = _rows(
        with_child(ex, "employees", scope)
        .filter((pl.col("role") == "raadgiver") & kpis.employed_on(as_of))
        .group_by(CHILD)
        .agg(pl.col("fte").sum(), pl.len().alias("n")),
        kids,
    )
    out = {}
    for c in kids:
        a = int(assigned.get(c, 0))
        s = staff.get(c, {"fte": 0.0, "n": 0})
        out[c] = ratio(float(a), float(s["fte"]), a + int(s["n"]), scale=1.0)  # type: ignore[arg-type]
    return out


def _deadlines_met(kind: str | None) -> Grouped:
    def compute(ex: Extract, scope: Scope, as_of: date, kids: tuple[str, ...]) -> ByChild:
        d = with_child(ex, "deadlines_kpi", scope, as_of.year)
        if kind is not None:
            d = d.filter(pl.col("kind") == kind)
        met = pl.col("done_on").is_not_null() & (
            pl.col("done_on") <= pl.min_horizontal("due_on", pl.lit(as_of))
        )
        got = _rows(
            d.filter(pl.col("due_on").is_between(year_start(as_of), as_of))
            .group_by(CHILD)
            .agg(pl.len().alias("eligible"), met.sum().alias("met")),
            kids,
        )
        out = {}
        for c in kids:
            r = got.get(c, {"eligible": 0, "met": 0})
            out[c] = ratio(float(r["met"]), float(r["eligible"]), int(r["eligible"]))  # type: ignore[arg-type]
        return out

    return compute


def _frister_overskredne(ex: Extract, scope: Scope, as_of: date, kids: tuple[str, ...]) -> ByChild:
    return _counts(with_child(ex, "deadlines_open", scope, as_of.year).filter(kpis.overdue(as_of)), kids)


def _underretninger_antal(ex: Extract, scope: Scope, as_of: date, kids: tuple[str, ...]) -> ByChild:
    return _counts(with_child(ex, "notifications", scope, as_of.year).filter(kpis.received_ytd(as_of)), kids)


def _underretninger_24t_pct(ex: Extract, scope: Scope, as_of: date, kids: tuple[str, ...]) -> ByChild:
    got = _rows(
        with_child(ex, "notifications", scope, as_of.year)
        .filter(kpis.eligible_24h(as_of))
        .group_by(CHILD)
        .agg(pl.len().alias("eligible"), kpis.on_time_24h(as_of).sum().alias("on_time")),
        kids,
    )
    out = {}
    for c in kids:
        r = got.get(c, {"eligible": 0, "on_time": 0})
        out[c] = ratio(float(r["on_time"]), float(r["eligible"]), int(r["eligible"]))  # type: ignore[arg-type]
    return out


def _contacts_ytd(ex: Extract, scope: Scope, as_of: date) -> pl.DataFrame:
    return with_child(ex, "contacts", scope, as_of.year).filter(
        demand.received_between(year_start(as_of), as_of)
    )


def _henvendelser_antal(ex: Extract, scope: Scope, as_of: date, kids: tuple[str, ...]) -> ByChild:
    return _counts(_contacts_ytd(ex, scope, as_of), kids)


def _fejlefterspoergsel_pct(ex: Extract, scope: Scope, as_of: date, kids: tuple[str, ...]) -> ByChild:
    got = _rows(
        _contacts_ytd(ex, scope, as_of)
        .group_by(CHILD)
        .agg(pl.len().alias("all"), (pl.col("demand_type") == demand.FAILURE).sum().alias("failure")),
        kids,
    )
    out = {}
    for c in kids:
        r = got.get(c, {"all": 0, "failure": 0})
        out[c] = ratio(float(r["failure"]), float(r["all"]), int(r["all"]))  # type: ignore[arg-type]
    return out


def _sygefravaer_pct(ex: Extract, scope: Scope, as_of: date, kids: tuple[str, ...]) -> ByChild:
    parts = _rows(
        kpis.sygefravaer_parts(
            with_child(ex, "employees", scope),
            scoped_year(ex, "absences", scope, as_of.year),
            as_of,
            [CHILD],
        ),
        kids,
    )
    empty = {"sick": 0.0, "scheduled": 0.0, "employees": 0, "spells": 0}
    return {
        c: kpis.sygefravaer_value(*(parts.get(c, empty)[k] for k in empty))  # type: ignore[arg-type]
        for c in kids
    }


def _personaleomsaetning_pct(ex: Extract, scope: Scope, as_of: date, kids: tuple[str, ...]) -> ByChild:
    start = as_of - kpis.DAY * 365
    left = (
        pl.col("employed_to").is_not_null()
        & (pl.col("employed_to") > start)
        & (pl.col("employed_to") <= as_of)
    )
    got = _rows(
        with_child(ex, "employees", scope)
        .group_by(CHILD)
        .agg(
            left.sum().alias("leavers"),
            kpis.employed_on(start).sum().alias("then"),
            kpis.employed_on(as_of).sum().alias("now"),
        ),
        kids,
    )
    out = {}
    for c in kids:
        r = got.get(c, {"leavers": 0, "then": 0, "now": 0})
        n, t, w = int(r["leavers"]), int(r["then"]), int(r["now"])  # type: ignore[call-overload]
        out[c] = ratio(float(n), (t + w) / 2, n + t + w)
    return out


def _udgift_parts(
    ex: Extract, scope: Scope, as_of: date, kids: tuple[str, ...]
) -> dict[str, dict[str, object]]:
    return _rows(
        with_child(ex, "payments_udgift", scope, as_of.year)
        .filter(economy.counted_in_actual(as_of))
        .group_by(CHILD)
        .agg(pl.col("amount").sum(), pl.col("case_key").n_unique().alias("cases"), pl.len().alias("n")),
        kids,
    )


def _udgift_value(r: dict[str, object] | None) -> KpiValue:
    if r is None:
        return ratio(0.0, 0, 0, scale=1.0)
    return ratio(float(r["amount"]), int(r["cases"]), int(r["n"]), scale=1.0)  # type: ignore[arg-type]


def _udgift_pr_sag(ex: Extract, scope: Scope, as_of: date, kids: tuple[str, ...]) -> ByChild:
    got = _udgift_parts(ex, scope, as_of, kids)
    return {c: _udgift_value(got.get(c)) for c in kids}


def _udgift_pr_sag_aendring_pct(ex: Extract, scope: Scope, as_of: date, kids: tuple[str, ...]) -> ByChild:
    earlier = one_year_earlier(as_of)
    now_parts, before_parts = _udgift_parts(ex, scope, as_of, kids), _udgift_parts(ex, scope, earlier, kids)
    out = {}
    for c in kids:
        now, before = _udgift_value(now_parts.get(c)), _udgift_value(before_parts.get(c))
        out[c] = economy.udgift_change(now, before)
    return out


def _oekonomi_forventet_pct(ex: Extract, scope: Scope, as_of: date, kids: tuple[str, ...]) -> ByChild:
    table = {
        str(r["group"]): r
        for r in economy.economy_table(ex, scope, as_of, "child_unit").iter_rows(named=True)
    }
    paid = {
        kids[i]: n
        for i, n in with_child(ex, "payments", scope, as_of.year)
        .filter(economy.counted_in_actual(as_of))
        .group_by(CHILD)
        .len()
        .iter_rows()
    }
    out = {}
    for c in kids:
        r = table.get(c, {"expected": 0.0, "budget": 0.0})
        out[c] = ratio(float(r["expected"]), float(r["budget"]), int(paid.get(c, 0)))  # type: ignore[arg-type]
    return out


def _measurement(kpi_id: str) -> Grouped:
    def compute(ex: Extract, scope: Scope, as_of: date, kids: tuple[str, ...]) -> ByChild:
        value_of = kpis.measurement_values(
            scoped(ex, "measurements", scope), org_tree(ex).children, kpi_id, as_of
        )
        return {c: value_of(c) for c in kids}

    return compute


GROUPED: dict[str, Grouped] = {
    "oekonomi_forventet_pct": _oekonomi_forventet_pct,
    "udgift_pr_sag": _udgift_pr_sag,
    "udgift_pr_sag_aendring_pct": _udgift_pr_sag_aendring_pct,
    "aktive_sager": _aktive_sager,
    "sager_pr_raadgiver": _sager_pr_raadgiver,
    "frister_overholdt_pct": _deadlines_met(None),
    "undersoegelser_rettidige_pct": _deadlines_met("undersoegelse"),
    "opfoelgninger_rettidige_pct": _deadlines_met("opfoelgning"),
    "frister_overskredne": _frister_overskredne,
    "underretninger_antal": _underretninger_antal,
    "underretninger_24t_pct": _underretninger_24t_pct,
    "sygefravaer_pct": _sygefravaer_pct,
    "personaleomsaetning_pct": _personaleomsaetning_pct,
    "henvendelser_antal": _henvendelser_antal,
    "fejlefterspoergsel_pct": _fejlefterspoergsel_pct,
}


def by_child(
    ex: Extract, metric_id: str, unit_id: str, as_of: date, within: frozenset[str] | None = None
) -> ByChild:
    """metric_id for the subtree of every child of unit_id, at as_of: {child: value}. With
    `within` (metrics.access.within_for) only those units count, and only the children with one."""
    shown = visible_children(ex, unit_id, within)
    if not shown:
        return {}
    grouped = GROUPED.get(metric_id)
    if grouped is None and registry.get(metric_id).from_measurements:
        grouped = _measurement(metric_id)
    if grouped is None:
        return {c: registry.compute(ex, metric_id, Scope.unit(c, within), as_of) for c in shown}
    # the grouped pass indexes every child (`child` is the place in children_of)
    values = grouped(ex, Scope.unit(unit_id, within), as_of, children_of(ex, unit_id))
    return {c: values[c] for c in shown}
