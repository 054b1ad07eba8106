"""The balanced scorecard: a TOML file of perspectives and KPIs with targets, the status
rule of kpis.md, and the figures the scorecard page and `python -m metrics scorecard` show.

The file is checked in two steps. `load_scorecard` checks everything that does not
depend on an extract (keys, types, duplicates, directions, tolerances). A metric that
is not in the registry may still be a `measurements.kpi_id`, which only an extract can
tell, so `check_metrics` (called by every evaluating function) rejects a metric that
is neither in the registry nor among the extract's measurement kpi_ids.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal, get_args

from metrics import grouped, registry
from metrics.contract import UNIT_LEVELS
from metrics.extract import Extract
from metrics.org import OrgTree, org_tree
from metrics.own_values import SignalMark, signal_mark
from metrics.registry import Direction
from metrics.scope import Scope, check_scope
from metrics.values import KpiValue, trend_dates

Status = Literal["green", "yellow", "red", "none"]
STATUSES: tuple[Status, ...] = get_args(Status)
DIRECTIONS: tuple[Direction, ...] = get_args(Direction)

SCORECARD_ENV = "STYRING_SCORECARD"
DEFAULT_SCORECARD = Path(__file__).resolve().parent.parent / "config" / "scorecard.toml"
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class ScorecardError(ValueError):
    """A scorecard file that can't be used. The message names the file, the key and what is wrong."""


# --- the status rule (kpis.md, Scorecard status) ------------------------------------


def status(value: float | None, target: float, direction: Direction, tolerance: float) -> Status:
    """green/yellow/red by target and tolerance in the better direction; null → none."""
    if value is None or math.isnan(value):
        return "none"
    if direction == "higher":
        if value >= target:
            return "green"
        return "yellow" if value >= target - tolerance else "red"
    if value <= target:
        return "green"
    return "yellow" if value <= target + tolerance else "red"


def improved(change: float | None, direction: Direction) -> bool | None:
    """Whether a change goes in the better direction; None for no change or no data."""
    if change is None or change == 0 or math.isnan(change):
        return None
    return change > 0 if direction == "higher" else change < 0


# --- the file ------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    text: str
    success_criterion: str
    responsible: str | None = None
    due: date | None = None
    id: str = ""  # stable and unique in the file: action status (metrics.notes) is kept by it


@dataclass(frozen=True)
class KpiSpec:
    id: str
    perspective: str
    name: str
    metric: str
    target: float
    direction: Direction
    tolerance: float
    success_factor: str = ""
    method: str = ""
    source: str = ""
    owner: str | None = None  # an org level (kommune, forvaltning, afdeling, team)
    short_name: str = ""  # column header in the cascade; default name
    actions: tuple[Action, ...] = ()
    key: str = ""  # where it sits in the file, for messages

    @property
    def yellow_limit(self) -> float:
        """The last value that is still yellow."""
        return self.target - self.tolerance if self.direction == "higher" else self.target + self.tolerance

    def status(self, value: float | None) -> Status:
        return status(value, self.target, self.direction, self.tolerance)


@dataclass(frozen=True)
class Perspective:
    id: str
    name: str
    description: str
    kpis: tuple[KpiSpec, ...]


@dataclass(frozen=True)
class Scorecard:
    title: str
    perspectives: tuple[Perspective, ...]
    path: Path | None = None

    @property
    def kpis(self) -> tuple[KpiSpec, ...]:
        return tuple(k for p in self.perspectives for k in p.kpis)


def default_scorecard_path() -> Path:
    env = os.environ.get(SCORECARD_ENV)
    return Path(env) if env else DEFAULT_SCORECARD


_TOP_KEYS = {"title", "perspectives"}
_PERSPECTIVE_KEYS = {"id", "name", "description", "kpis"}
_KPI_KEYS = {
    "id",
    "name",
    "short_name",
    "success_factor",
    "metric",
    "method",
    "source",
    "target",
    "direction",
    "tolerance",
    "owner",
    "actions",
}
_ACTION_KEYS = {"id", "text", "success_criterion", "responsible", "due"}


class _Checker:
    def __init__(self, label: str) -> None:
        self.label = label

    def fail(self, key: str, what: str) -> ScorecardError:
        return ScorecardError(f"{self.label}: {key}: {what}")

    def table(self, value: object, key: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"skal være en tabel, ikke {_kind(value)}")
        return value

    def table_list(self, table: dict[str, Any], name: str, key: str) -> list[dict[str, Any]]:
        value = table.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(f"{key}.{name}", f"skal skrives som [[{_section(key, name)}]]-tabeller")
        return value

    def keys(self, table: dict[str, Any], allowed: set[str], key: str) -> None:
        unknown = sorted(set(table) - allowed)
        if unknown:
            where = f"{key}.{unknown[0]}" if key else unknown[0]
            raise self.fail(where, f"ukendt nøgle (tilladt: {', '.join(sorted(allowed))})")

    def text(self, table: dict[str, Any], name: str, key: str, *, required: bool = False) -> str | None:
        if name not in table:
            if required:
                raise self.fail(f"{key}.{name}", "mangler")
            return None
        value = table[name]
        if not isinstance(value, str):
            raise self.fail(f"{key}.{name}", f"skal være en tekst i anførselstegn, ikke {_kind(value)}")
        if required and not value.strip():
            raise self.fail(f"{key}.{name}", "må ikke være tom")
        return value.strip()

    def ident(self, table: dict[str, Any], name: str, key: str) -> str:
        value = self.text(table, name, key, required=True)
        assert value is not None
        if not _ID.match(value):
            raise self.fail(
                f"{key}.{name}",
                f"{value!r} er ikke et gyldigt id (små bogstaver a–z, cifre og _, begynder med et bogstav)",
            )
        return value

    def number(self, table: dict[str, Any], name: str, key: str, *, what: str) -> float | None:
        if name not in table:
            return None
        value = table[name]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(f"{key}.{name}", f"{what} skal være et tal, ikke {_kind(value)}")
        if math.isnan(value) or math.isinf(value):
            raise self.fail(f"{key}.{name}", f"{what} skal være et endeligt tal")
        return float(value)


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "sand/falsk"
    if isinstance(value, str):
        return f"teksten {value!r}"
    if isinstance(value, int | float):
        return f"tallet {value}"
    if isinstance(value, list):
        return "en liste"
    if isinstance(value, dict):
        return "en tabel"
    return type(value).__name__


def _section(key: str, name: str) -> str:
    """`perspectives.kpis` for the key `perspectives[borgere].kpis`: the TOML header to write."""
    bare = re.sub(r"\[[^\]]*\]", "", key)
    return f"{bare}.{name}" if bare else name


def _where(kind: str, index: int, table: dict[str, Any]) -> str:
    """`kpis["sygefravaer_pct"]` when the table has a string id, else `kpis[3]` (counted from 1)."""
    ident = table.get("id")
    return f'{kind}["{ident}"]' if isinstance(ident, str) and ident.strip() else f"{kind}[{index}]"


def _parse_action(c: _Checker, table: dict[str, Any], key: str) -> Action:
    c.keys(table, _ACTION_KEYS, key)
    text = c.text(table, "text", key, required=True)
    criterion = c.text(table, "success_criterion", key, required=True)
    due = table.get("due")
    if due is not None and not (isinstance(due, date) and not hasattr(due, "hour")):
        raise c.fail(
            f"{key}.due", f"skal være en dato som 2025-06-30 (uden anførselstegn), ikke {_kind(due)}"
        )
    assert text is not None and criterion is not None
    return Action(text, criterion, c.text(table, "responsible", key), due, c.ident(table, "id", key))


def _parse_kpi(c: _Checker, table: dict[str, Any], key: str, perspective: str) -> KpiSpec:
    c.keys(table, _KPI_KEYS, key)
    kpi_id = c.ident(table, "id", key)
    metric = c.ident(table, "metric", key) if "metric" in table else kpi_id
    known = registry.REGISTRY.get(metric)
    target = c.number(table, "target", key, what="målet")
    if target is None:
        raise c.fail(f"{key}.target", "mangler (målet skal være et tal, fx target = 90)")
    if "direction" in table:
        direction = table["direction"]
        if direction not in DIRECTIONS:
            raise c.fail(
                f"{key}.direction",
                f'skal være "higher" (højere er bedre) eller "lower" (lavere er bedre), ikke {_kind(direction)}',
            )
    elif known is not None and known.direction is not None:
        direction = known.direction
    else:
        raise c.fail(f"{key}.direction", 'mangler ("higher" eller "lower")')
    tolerance = c.number(table, "tolerance", key, what="tolerancen")
    if tolerance is not None and tolerance < 0:
        raise c.fail(f"{key}.tolerance", f"må ikke være negativ ({tolerance:g}); brug 0 for ingen gul zone")
    owner = c.text(table, "owner", key)
    if owner is not None and owner not in UNIT_LEVELS:
        raise c.fail(f"{key}.owner", f"skal være et niveau i organisationen: {', '.join(UNIT_LEVELS)}")
    name = c.text(table, "name", key) or (known.label if known else kpi_id)
    actions = tuple(
        _parse_action(c, a, f"{key}.actions[{i}]")
        for i, a in enumerate(c.table_list(table, "actions", key), start=1)
    )
    return KpiSpec(
        id=kpi_id,
        perspective=perspective,
        name=name,
        metric=metric,
        target=target,
        direction=direction,
        tolerance=tolerance or 0.0,
        success_factor=c.text(table, "success_factor", key) or "",
        method=c.text(table, "method", key) or "",
        source=c.text(table, "source", key) or "",
        owner=owner,
        short_name=c.text(table, "short_name", key) or name,
        actions=actions,
        key=key,
    )


def parse_scorecard(doc: dict[str, Any], label: str = "scorecard", path: Path | None = None) -> Scorecard:
    """Check a parsed TOML document; ScorecardError names the first broken key."""
    c = _Checker(label)
    c.keys(doc, _TOP_KEYS, "")
    title = c.text(doc, "title", "") if "title" in doc else None
    if "perspectives" not in doc:
        raise c.fail("perspectives", "mangler: skriv mindst én [[perspectives]]-tabel")
    raw = c.table_list(doc, "perspectives", "")
    if not raw:
        raise c.fail("perspectives", "er tom: skriv mindst én [[perspectives]]-tabel")
    perspectives: list[Perspective] = []
    seen_p: dict[str, str] = {}
    seen_k: dict[str, str] = {}
    seen_a: dict[str, str] = {}
    for i, p in enumerate(raw, start=1):
        pkey = _where("perspectives", i, p)
        c.keys(p, _PERSPECTIVE_KEYS, pkey)
        pid = c.ident(p, "id", pkey)
        if pid in seen_p:
            raise c.fail(f"{pkey}.id", f"id {pid!r} er brugt to gange (også i {seen_p[pid]})")
        seen_p[pid] = f"perspektiv nr. {i}"
        name = c.text(p, "name", pkey, required=True)
        kpis_raw = c.table_list(p, "kpis", pkey)
        if not kpis_raw:
            raise c.fail(f"{pkey}.kpis", "ingen KPI'er: skriv mindst én [[perspectives.kpis]]-tabel")
        kpis: list[KpiSpec] = []
        for j, k in enumerate(kpis_raw, start=1):
            kkey = f"{pkey}.{_where('kpis', j, k)}"
            spec = _parse_kpi(c, c.table(k, kkey), kkey, pid)
            if spec.id in seen_k:
                raise c.fail(f"{kkey}.id", f"id {spec.id!r} er brugt to gange (også i {seen_k[spec.id]})")
            seen_k[spec.id] = f"perspektivet {pid!r}"
            for n, action in enumerate(spec.actions, start=1):
                akey = f"{kkey}.actions[{n}].id"
                if action.id in seen_a:
                    raise c.fail(akey, f"id {action.id!r} er brugt to gange (også i {seen_a[action.id]})")
                seen_a[action.id] = akey
            kpis.append(spec)
        assert name is not None
        perspectives.append(Perspective(pid, name, c.text(p, "description", pkey) or "", tuple(kpis)))
    return Scorecard(title or "Scorecard", tuple(perspectives), path)


def load_scorecard(path: Path | None = None) -> Scorecard:
    """Read and check a scorecard file. None: $STYRING_SCORECARD or config/scorecard.toml."""
    path = path or default_scorecard_path()
    label = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ScorecardError(f"{label}: filen findes ikke") from None
    except OSError as e:
        raise ScorecardError(f"{label}: kan ikke læses ({e.strerror or e})") from None
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ScorecardError(f"{label}: filen er ikke gemt som UTF-8") from None
    except tomllib.TOMLDecodeError as e:
        raise ScorecardError(f"{label}: ugyldig TOML: {e}") from None
    return parse_scorecard(doc, label, path)


def check_metrics(ex: Extract, card: Scorecard) -> None:
    """Every KPI's metric must be a registry id or a kpi_id found in the extract's measurements."""
    found = set(registry.measurement_ids(ex))
    for k in card.kpis:
        if k.metric not in registry.REGISTRY and k.metric not in found:
            where = card.path or "scorecard"
            raise ScorecardError(
                f"{where}: {k.key}.metric: ukendt metric {k.metric!r} – hverken et nøgletal i "
                "registret eller et kpi_id i udtrækkets measurements"
            )


# --- figures -------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    kpi: str
    perspective: str
    unit: str
    as_of: date
    value: float | None
    target: float
    status: Status

    def as_json(self) -> dict[str, Any]:
        return {
            "kpi": self.kpi,
            "perspective": self.perspective,
            "unit": self.unit,
            "as_of": self.as_of.isoformat(),
            "value": self.value,
            "target": self.target,
            "status": self.status,
        }


def _value(
    ex: Extract, spec: KpiSpec, unit_id: str, as_of: date, within: frozenset[str] | None = None
) -> KpiValue:
    return registry.compute(ex, spec.metric, Scope.unit(unit_id, within), as_of)


def _prepare(ex: Extract, card: Scorecard, unit_id: str) -> None:
    check_metrics(ex, card)
    check_scope(ex, Scope.unit(unit_id))


def for_extract(ex: Extract, card: Scorecard) -> Scorecard:
    """The card without the KPIs whose metric needs an optional table the extract lacks
    (`fejlefterspoergsel_pct` without contacts): no tile, no row, no cascade column."""
    if all(registry.available(ex, k.metric) for k in card.kpis):
        return card
    perspectives = tuple(
        Perspective(p.id, p.name, p.description, tuple(k for k in p.kpis if registry.available(ex, k.metric)))
        for p in card.perspectives
    )
    return Scorecard(card.title, perspectives, card.path)


def evaluate_scorecard(
    ex: Extract, card: Scorecard, unit_id: str, as_of: date, within: frozenset[str] | None = None
) -> list[Row]:
    """One row per scorecard KPI for unit_id's subtree at as_of (only the units of `within`, when
    given: metrics.access.within_for)."""
    _prepare(ex, card, unit_id)
    card = for_extract(ex, card)
    out = []
    for k in card.kpis:
        v = _value(ex, k, unit_id, as_of, within).value
        out.append(Row(k.id, k.perspective, unit_id, as_of, v, k.target, k.status(v)))
    return out


def previous_month_end(as_of: date) -> date:
    return date(as_of.year, as_of.month, 1) - timedelta(days=1)


@dataclass(frozen=True)
class TrendPoint:
    month: date  # first day of the month
    as_of: date
    value: float | None


@dataclass(frozen=True)
class KpiDetail:
    """Everything a scorecard tile shows for one KPI and one unit."""

    spec: KpiSpec
    row: Row
    basis: int  # rows the value rests on
    previous: float | None  # value at the end of the previous month
    change: float | None  # value − previous
    improved: bool | None
    trend: tuple[TrendPoint, ...]
    set_aside: dict[str, int]  # table → rows validation set aside, for the metric's tables
    description: str
    format: str
    unit_label: str
    signal: SignalMark | None = None  # rules 1 and 2 on the own values of up to 24 months

    @property
    def set_aside_total(self) -> int:
        return sum(self.set_aside.values())


def set_aside_rows(ex: Extract, metric: str) -> dict[str, int]:
    """Rows that validation set aside in each table the metric reads."""
    return {t: ex.report[t].rejected if t in ex.report else 0 for t in registry.get(metric).tables}


def kpi_detail(
    ex: Extract, spec: KpiSpec, unit_id: str, as_of: date, within: frozenset[str] | None = None
) -> KpiDetail:
    scope = Scope.unit(unit_id, within)
    days = trend_dates(as_of)
    prev_day = previous_month_end(as_of)
    asked = sorted({*days, prev_day})
    values = dict(zip(asked, registry.values_at(ex, spec.metric, scope, asked), strict=True))
    previous = values[prev_day]
    now = values[as_of]
    change = None if now.value is None or previous.value is None else now.value - previous.value
    mdef = registry.get(spec.metric)
    return KpiDetail(
        spec=spec,
        row=Row(spec.id, spec.perspective, unit_id, as_of, now.value, spec.target, spec.status(now.value)),
        basis=now.basis,
        previous=previous.value,
        change=change,
        improved=improved(change, spec.direction),
        trend=tuple(TrendPoint(date(d.year, d.month, 1), d, values[d].value) for d in days),
        set_aside=set_aside_rows(ex, spec.metric),
        description=mdef.description,
        format=mdef.format,
        unit_label=mdef.unit,
        signal=signal_mark(ex, spec.metric, scope, as_of),
    )


def scorecard_details(
    ex: Extract, card: Scorecard, unit_id: str, as_of: date, within: frozenset[str] | None = None
) -> list[KpiDetail]:
    """The tiles of the scorecard page, in the file's order."""
    _prepare(ex, card, unit_id)
    card = for_extract(ex, card)
    return [kpi_detail(ex, k, unit_id, as_of, within) for k in card.kpis]


@dataclass(frozen=True)
class CascadeRow:
    unit_id: str
    name: str
    level: str
    has_children: bool
    is_total: bool  # the chosen unit itself
    cells: tuple[Row, ...]  # in card.kpis order


def cascade(
    ex: Extract, card: Scorecard, unit_id: str, as_of: date, within: frozenset[str] | None = None
) -> list[CascadeRow]:
    """unit_id's child units × KPIs, each value computed for the child's own subtree
    (ratios recomputed, never averaged), then unit_id itself as the total."""
    tree = org_tree(ex)
    return [
        *(
            CascadeRow(
                u, tree.label(u), tree.level[u], bool(grouped.visible_children(ex, u, within)), False, cells
            )
            for u, cells in children_rows(ex, card, unit_id, as_of, within)
        ),
        CascadeRow(
            unit_id,
            tree.label(unit_id),
            tree.level[unit_id],
            bool(grouped.visible_children(ex, unit_id, within)),
            True,
            tuple(evaluate_scorecard(ex, card, unit_id, as_of, within)),
        ),
    ]


def children_rows(
    ex: Extract, card: Scorecard, unit_id: str, as_of: date, within: frozenset[str] | None = None
) -> list[tuple[str, tuple[Row, ...]]]:
    """Every child of unit_id (by name, then id) with its scorecard rows in the file's order, all
    children of a KPI in one grouped pass (`metrics.grouped`). Facts on unit_id itself belong to
    no child. No children: []."""
    _prepare(ex, card, unit_id)
    card = for_extract(ex, card)
    tree = org_tree(ex)
    kids = sorted(grouped.visible_children(ex, unit_id, within), key=lambda u: (tree.label(u), u))
    values = {k.id: grouped.by_child(ex, k.metric, unit_id, as_of, within) for k in card.kpis}
    return [
        (
            u,
            tuple(
                Row(k.id, k.perspective, u, as_of, v, k.target, k.status(v))
                for k in card.kpis
                for v in [values[k.id][u].value]
            ),
        )
        for u in kids
    ]


def status_counts(rows: list[Row]) -> dict[Status, int]:
    out: dict[Status, int] = dict.fromkeys(STATUSES, 0)
    for r in rows:
        out[r.status] += 1
    return out


@dataclass(frozen=True)
class Owner:
    level: str
    unit_id: str | None  # the unit of that level on the chosen unit's path; None when above that level


def owner_of(tree: OrgTree, spec: KpiSpec, unit_id: str) -> Owner | None:
    """Who owns the KPI seen from unit_id: the unit of the owner level on its path, if any.
    Viewed from above that level, every unit of the level owns its own figure."""
    if spec.owner is None:
        return None
    for u in reversed(tree.path(unit_id)):
        if tree.level[u] == spec.owner:
            return Owner(spec.owner, u)
    return Owner(spec.owner, None)
