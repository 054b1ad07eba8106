"""Load an extract folder and validate it against data-contract.md (version 1).

    load_extract(path)                      -> Extract, or raises ExtractRefused
    validate_frames(manifest, frames, path) -> the same checks on in-memory frames
    validation_json(path)                   -> (object of `metrics validate --format json`, exit code)
    list_extracts(root)                     -> [(as_of, folder)], newest first
    rule_text(rule, table) / RULE_TEXT      -> Danish explanation of a rule name

Two kinds of bad input (data-contract.md, "What happens to bad input"):

* The extract is *refused* (`ExtractRefused`, every problem collected, each naming
  file and column) for a missing folder, a missing or bad manifest.json key, a
  missing Parquet file, a missing column, a column whose type cannot be cast to the
  contract type, or an org tree without a root.
* Rows breaking a rule are *set aside* with the stable rule names of
  `metrics.schemas` (plus foreign keys, as_of bounds and the org tree added here).
  Foreign keys are checked against the accepted rows of the referenced table, in
  dependency order, so rejections cascade (case → its interventions → payments).

Casting is strict per whole column: int → float, string → date/timestamp when every
value parses, whole floats → int, a datetime at midnight → date, a time-zone aware
timestamp → Europe/Copenhagen local time without zone. Anything else refuses.
"""

from __future__ import annotations

import json
import re
import types
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import dataframely as dy
import polars as pl

from metrics.contract import (
    ABSENCE_KINDS,
    ALL_TABLE_NAMES,
    CATEGORIES,
    CHANNELS,
    CONTRACT_VERSION,
    DEADLINE_KINDS,
    DEMAND_TYPES,
    MANIFEST_FILE,
    OPTIONAL_TABLES,
    ROLES,
    TABLE_NAMES,
    TABLES,
    UNIT_LEVELS,
    empty_frame,
    file_name,
    polars_schema,
)
from metrics.extract import Extract, Manifest, TableReport
from metrics.schemas import (
    BIRTH_YEAR_MIN,
    EARLIEST_FACT,
    FOREIGN_KEYS,
    FTE_MIN,
    ID_MAX,
    LATEST_PLAN,
    MONEY_LIMIT,
    PLANNED_DATES,
    PRIMARY_KEY_RULE,
    PRIMARY_KEYS,
    SCHEMAS,
    TEXT_MAX,
    plausibility_rules,
    stable_rule_name,
)

LOCAL_TZ = "Europe/Copenhagen"
RULES_COLUMN = "_rules"
MESSAGE_COLUMN = "_message"
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
AS_OF_EARLIEST = date(2000, 1, 1)  # the manifest's as_of lies between this and today + 366 days

# Dependency order: every referenced table comes before the tables referencing it.
VALIDATION_ORDER: tuple[str, ...] = (
    "org_units",
    "employees",
    "cases",
    "intervention_kinds",
    "interventions",
    "payments",
    "budgets",
    "notifications",
    "deadlines",
    "absences",
    "measurements",
    "contacts",
)


# ------------------------------------------------------------------------------------ #
#                                    REFUSAL                                             #
# ------------------------------------------------------------------------------------ #


@dataclass(frozen=True)
class ExtractError:
    """One reason the whole extract is refused."""

    file: str  # "payments.parquet", "manifest.json", or the folder for a missing folder
    column: str | None  # column (or manifest key); None when the whole file is concerned
    message: str

    def __str__(self) -> str:
        where = self.file if self.column is None else f"{self.file}, kolonne '{self.column}'"
        return f"{where}: {self.message}"

    def as_json(self) -> dict[str, str | None]:
        return {"file": self.file, "column": self.column, "message": self.message}


class ExtractRefused(Exception):
    """The extract cannot be used. `errors` lists every problem found (never empty).

    `tables` reports the row checks of the tables that could be read, as far as they
    could be judged (for `validation_json`); the extract itself is not usable.
    """

    def __init__(self, errors: list[ExtractError], tables: dict[str, TableReport] | None = None) -> None:
        if not errors:
            raise ValueError("ExtractRefused needs at least one error")
        self.errors = list(errors)
        self.tables = dict(tables or {})
        super().__init__(str(self))

    def __str__(self) -> str:
        """One line naming file and column of every error."""
        return "; ".join(" ".join(str(e).split()) for e in self.errors)


class _Uncastable(Exception):
    def __init__(self, example: object = None) -> None:
        super().__init__(repr(example))
        self.example = example


# ------------------------------------------------------------------------------------ #
#                                    RULE TEXTS                                          #
# ------------------------------------------------------------------------------------ #


def _allowed(values: tuple[str, ...]) -> str:
    return ", ".join(values)


RULE_TEXT: dict[str, str] = {
    "primary_key": "nøglen findes i flere rækker; alle rækker med nøglen er sat til side (dublet)",
    # ranges
    "fte|min": f"FTE skal være mindst {FTE_MIN:.2f} (fte)".replace(".", ","),
    "fte|max": "FTE må højst være 1 (fte)",
    "monthly_cost|min": "månedlig pris må ikke være negativ (monthly_cost)",
    "amount|min": "budgetbeløb må ikke være negativt (amount)",
    "respondents|min": "antal besvarelser må ikke være negativt (respondents)",
    "birth_year|min": f"fødselsår før {BIRTH_YEAR_MIN} (birth_year)",
    "birth_year|max": "fødselsår efter året for udtrækkets as_of (birth_year)",
    "posted_on|max": "bogført efter udtrækkets as_of (posted_on)",
    "period|first_of_month": "perioden er ikke den første dag i en måned (period)",
    # enums and patterns
    "level|enum": f"ukendt niveau; tilladt er {_allowed(UNIT_LEVELS)} (level)",
    "role|enum": f"ukendt rolle; tilladt er {_allowed(ROLES)} (role)",
    "category|enum": f"ukendt kategori; tilladt er {_allowed(CATEGORIES)} (category)",
    "kind|enum": "ukendt type (kind)",
    "channel|enum": f"ukendt kanal; tilladt er {_allowed(CHANNELS)} (channel)",
    "demand_type|enum": f"ukendt type efterspørgsel; tilladt er {_allowed(DEMAND_TYPES)} (demand_type)",
    "account|regex": "kontoen følger ikke mønstret d.dd.dd, fx 5.28.22 (account)",
    # date order
    "employed_to|date_order": "fratrådt før ansat (employed_to før employed_from)",
    "closed_on|date_order": "lukket før oprettet (closed_on før opened_on)",
    "decided_on|date_order": "besluttet efter start (decided_on efter start_on)",
    "end_on|date_order": "slutter før start (end_on før start_on)",
    "due_on|date_order": "fristen ligger før start (due_on før started_on)",
    "done_on|date_order": "udført før start (done_on før started_on)",
    "assessed_at|date_order": "vurderet før modtaget (assessed_at før received_at)",
    # foreign keys (against accepted rows, so a set-aside parent counts as missing)
    "unit_id|foreign_key": "enhed findes ikke eller er sat til side (unit_id)",
    "case_id|foreign_key": "sag findes ikke eller er sat til side (case_id)",
    "caseworker_id|foreign_key": "rådgiver findes ikke blandt medarbejderne eller er sat til side (caseworker_id)",
    "employee_id|foreign_key": "medarbejder findes ikke eller er sat til side (employee_id)",
    "kind_id|foreign_key": "indsatstype findes ikke eller er sat til side (kind_id)",
    "intervention_id|foreign_key": "indsats findes ikke eller er sat til side (intervention_id)",
    # org tree
    "parent_id|multiple_roots": "ekstra rod i organisationstræet; kun roden med flest enheder under sig beholdes (parent_id)",
    "parent_id|cycle": "enheden indgår i en cyklus i organisationstræet (parent_id)",
    "parent_id|foreign_key": "overordnet enhed findes ikke (parent_id)",
    "parent_id|parent_rejected": "overordnet enhed er sat til side (parent_id)",
}
for _table, _cols in TABLES.items():
    for _c in _cols:
        if not _c.nullable:
            RULE_TEXT.setdefault(f"{_c.name}|nullability", f"mangler værdi ({_c.name})")
        if _c.dtype == pl.Float64():
            RULE_TEXT.setdefault(f"{_c.name}|nan", f"ikke et tal, NaN ({_c.name})")
            RULE_TEXT.setdefault(f"{_c.name}|inf", f"uendelig værdi ({_c.name})")
        if _c.dtype == pl.String():
            _n = ID_MAX if _c.name.endswith("_id") else TEXT_MAX
            RULE_TEXT.setdefault(
                f"{_c.name}|max_length", f"teksten er længere end {_n:,} tegn ({_c.name})".replace(",", ".")
            )
        if isinstance(_c.dtype, pl.Date | pl.Datetime) and (_table, _c.name) not in PLANNED_DATES:
            RULE_TEXT.setdefault(
                f"{_c.name}|date_range",
                f"datoen ligger før {EARLIEST_FACT.year} eller efter året efter udtrækkets as_of ({_c.name})",
            )
RULE_TEXT["received_at|max"] = "modtaget efter udtrækkets as_of (received_at)"
for _c_name in ("amount", "monthly_cost"):
    RULE_TEXT[f"{_c_name}|max_abs"] = (
        f"beløbet er ikke under {MONEY_LIMIT:,.0f} kr. i absolut værdi ({_c_name})".replace(",", ".")
    )

_TABLE_RULE_TEXT: dict[tuple[str, str], str] = {
    **{
        (t, f"{c}|date_range"): f"planlagt dato før {EARLIEST_FACT.year} eller efter {LATEST_PLAN.year} ({c})"
        for t, c in PLANNED_DATES
    },
    ("deadlines", "kind|enum"): f"ukendt fristtype; tilladt er {_allowed(DEADLINE_KINDS)} (kind)",
    ("absences", "kind|enum"): f"ukendt fraværstype; tilladt er {_allowed(ABSENCE_KINDS)} (kind)",
    ("absences", "end_on|date_order"): "fraværet slutter før det starter (end_on før start_on)",
}


def rule_text(rule: str, table: str | None = None) -> str:
    """A Danish explanation of a stable rule name, for display."""
    if table is not None and (table, rule) in _TABLE_RULE_TEXT:
        return _TABLE_RULE_TEXT[(table, rule)]
    if rule in RULE_TEXT:
        return RULE_TEXT[rule]
    column, _, kind = rule.partition("|")
    generic = {
        "nullability": "mangler værdi",
        "foreign_key": "henviser til noget, der ikke findes eller er sat til side",
        "date_order": "datoer i forkert rækkefølge",
        "min": "værdien er for lille",
        "max": "værdien er for stor",
        "enum": "værdien er ikke blandt de tilladte",
        "nan": "ikke et tal, NaN",
        "inf": "uendelig værdi",
        "date_range": "datoen ligger uden for det mulige",
        "max_abs": "beløbet er for stort",
        "max_length": "teksten er for lang",
    }
    return f"{generic.get(kind, 'bryder reglen ' + rule)} ({column})" if kind else f"bryder reglen {rule}"


# ------------------------------------------------------------------------------------ #
#                                    MANIFEST                                            #
# ------------------------------------------------------------------------------------ #


def _local_naive(ts: datetime) -> datetime:
    if ts.tzinfo is None:
        return ts
    return ts.astimezone(ZoneInfo(LOCAL_TZ)).replace(tzinfo=None)


def parse_manifest(raw: object, errors: list[ExtractError], today: date | None = None) -> Manifest | None:
    """Check a decoded manifest.json; append an error per bad key; None if unusable."""
    f = MANIFEST_FILE
    if not isinstance(raw, dict):
        errors.append(ExtractError(f, None, "manifest.json skal være et JSON-objekt (must be a JSON object)"))
        return None
    n_before = len(errors)

    def bad(key: str, message: str) -> None:
        errors.append(ExtractError(f, key, message))

    def missing(key: str) -> bool:
        if key not in raw:
            bad(key, f"nøglen '{key}' mangler (missing key)")
            return True
        return False

    version = raw.get("contract_version")
    if not missing("contract_version") and (
        isinstance(version, bool) or not isinstance(version, int) or version != CONTRACT_VERSION
    ):
        bad(
            "contract_version",
            f"contract_version skal være {CONTRACT_VERSION}, fik {version!r} (unsupported version)",
        )

    municipality = raw.get("municipality")
    if not missing("municipality") and not isinstance(municipality, str):
        bad("municipality", f"municipality skal være tekst, fik {municipality!r} (must be a string)")

    as_of: date | None = None
    if not missing("as_of"):
        value = raw["as_of"]
        try:
            if not isinstance(value, str) or not _ISO_DATE.match(value):
                raise ValueError
            as_of = date.fromisoformat(value)
        except ValueError:
            bad("as_of", f"as_of kan ikke læses som dato ÅÅÅÅ-MM-DD, fik {value!r} (not an ISO date)")
        else:
            latest = (today or date.today()) + timedelta(days=366)
            if not AS_OF_EARLIEST <= as_of <= latest:
                bad(
                    "as_of",
                    f"as_of {as_of.isoformat()} ligger uden for {AS_OF_EARLIEST.isoformat()} … "
                    f"{latest.isoformat()} (implausible as_of)",
                )
                as_of = None

    created_at: datetime | None = None
    if not missing("created_at"):
        value = raw["created_at"]
        try:
            if not isinstance(value, str):
                raise ValueError
            created_at = _local_naive(datetime.fromisoformat(value))
        except ValueError:
            bad(
                "created_at",
                f"created_at kan ikke læses som tidspunkt (ISO 8601), fik {value!r} (not an ISO timestamp)",
            )

    sources = raw.get("sources")
    if not missing("sources") and (
        not isinstance(sources, list) or not all(isinstance(s, str) for s in sources)
    ):
        bad("sources", f"sources skal være en liste af tekster, fik {sources!r} (must be a list of strings)")

    synthetic = raw.get("synthetic", False)
    if not isinstance(synthetic, bool):
        bad("synthetic", f"synthetic skal være true eller false, fik {synthetic!r} (must be a boolean)")

    if len(errors) > n_before:
        return None
    assert as_of is not None and created_at is not None
    return Manifest(
        contract_version=int(version),  # type: ignore[arg-type]
        municipality=str(municipality),
        as_of=as_of,
        created_at=created_at,
        sources=tuple(sources),  # type: ignore[arg-type]
        synthetic=synthetic,
    )


def read_manifest(folder: Path, errors: list[ExtractError]) -> Manifest | None:
    path = folder / MANIFEST_FILE
    if not path.is_file():
        errors.append(ExtractError(MANIFEST_FILE, None, "filen mangler (missing file)"))
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        errors.append(ExtractError(MANIFEST_FILE, None, f"filen kan ikke læses som JSON (invalid JSON): {e}"))
        return None
    except RecursionError:  # e.g. 200,000 nested arrays
        errors.append(
            ExtractError(
                MANIFEST_FILE, None, "filen er indlejret for dybt til at læses (JSON nested too deeply)"
            )
        )
        return None
    return parse_manifest(raw, errors)


# ------------------------------------------------------------------------------------ #
#                                    CASTING                                             #
# ------------------------------------------------------------------------------------ #

_TYPE_WORD = {
    pl.String: "tekst (string)",
    pl.Float64: "tal (float)",
    pl.Int64: "heltal (integer)",
    pl.Date: "dato (date)",
    pl.Datetime: "tidspunkt (timestamp)",
}


def _first_bad(original: pl.Series, converted: pl.Series) -> object:
    bad = original.filter(original.is_not_null() & converted.is_null())
    return bad[0] if len(bad) else None


def _strict(s: pl.Series, convert: Any) -> pl.Series:
    """Apply `convert(series, strict)`; raise _Uncastable(example) if any value fails."""
    try:
        return convert(s, True)  # type: ignore[no-any-return]
    except (pl.exceptions.PolarsError, ValueError, OverflowError):
        try:
            lenient = convert(s, False)
        except (pl.exceptions.PolarsError, ValueError, OverflowError):
            raise _Uncastable(None) from None
        raise _Uncastable(_first_bad(s, lenient)) from None


def _to_local_naive(s: pl.Series) -> pl.Series:
    tz = getattr(s.dtype, "time_zone", None)
    if tz is None:
        return s
    return s.dt.convert_time_zone(LOCAL_TZ).dt.replace_time_zone(None)


def cast_column(s: pl.Series, target: pl.DataType) -> pl.Series:
    """Strictly cast a whole column to a contract dtype, or raise _Uncastable."""
    src = s.dtype
    if src == target:
        return s
    if src == pl.Null:
        return s.cast(target)
    if target == pl.String:
        if src in (pl.Categorical, pl.Enum) or src.is_integer():
            return s.cast(pl.String)
        raise _Uncastable(s.drop_nulls().head(1).to_list()[0] if s.null_count() < len(s) else None)
    if target == pl.Float64:
        if src.is_numeric():
            return s.cast(pl.Float64)
        if src == pl.String:
            return _strict(s, lambda x, strict: x.cast(pl.Float64, strict=strict))
        raise _Uncastable()
    if target == pl.Int64:
        if src.is_integer():
            return _strict(s, lambda x, strict: x.cast(pl.Int64, strict=strict))
        if src.is_float() or src.is_decimal():
            f = s.cast(pl.Float64)
            whole = f.is_null() | (f.is_finite() & (f.floor() == f) & (f.abs() < 2.0**63))
            if not whole.all():
                raise _Uncastable(s.filter(~whole)[0])
            return f.cast(pl.Int64)
        if src == pl.String:
            return _strict(s, lambda x, strict: x.cast(pl.Int64, strict=strict))
        raise _Uncastable()
    if target == pl.Date:
        if isinstance(src, pl.Datetime):
            local = _to_local_naive(s)
            midnight = local.is_null() | (local.dt.truncate("1d") == local)
            if not midnight.all():
                raise _Uncastable(local.filter(~midnight)[0])
            return local.dt.date()
        if src == pl.String:
            return _strict(s, lambda x, strict: x.str.to_date("%Y-%m-%d", strict=strict))
        raise _Uncastable()
    if isinstance(target, pl.Datetime):
        if isinstance(src, pl.Datetime):
            return _to_local_naive(s).cast(target)
        if src == pl.Date:
            return s.cast(target)
        if src == pl.String:
            parsed = _strict(s, lambda x, strict: x.str.to_datetime(time_unit="us", strict=strict))
            return _to_local_naive(parsed).cast(target)
        raise _Uncastable()
    raise _Uncastable()


def _type_word(dtype: pl.DataType) -> str:
    for base, word in _TYPE_WORD.items():
        if dtype == base or isinstance(dtype, base):
            return word
    return str(dtype)


def cast_frame(table: str, df: pl.DataFrame, errors: list[ExtractError]) -> pl.DataFrame | None:
    """Contract columns of `df`, in contract order and dtypes; extra columns dropped.

    Appends an error per missing or uncastable column; returns None if any.
    """
    fname = file_name(table)
    out: list[pl.Series] = []
    ok = True
    for col in TABLES[table]:
        if col.name not in df.columns:
            errors.append(ExtractError(fname, col.name, f"kolonnen '{col.name}' mangler (missing column)"))
            ok = False
            continue
        s = df.get_column(col.name)
        try:
            out.append(cast_column(s, col.dtype).alias(col.name))
        except _Uncastable as e:
            example = "" if e.example is None else f", fx værdien {e.example!r}"
            errors.append(
                ExtractError(
                    fname,
                    col.name,
                    f"kolonnen '{col.name}' af typen {s.dtype} kan ikke læses som {_type_word(col.dtype)}{example}",
                )
            )
            ok = False
    return pl.DataFrame(out) if ok else None


def read_table(folder: Path, table: str, errors: list[ExtractError]) -> pl.DataFrame | None:
    fname = file_name(table)
    path = folder / fname
    if not path.is_file():
        errors.append(ExtractError(fname, None, "filen mangler (missing file)"))
        return None
    try:
        present = pl.read_parquet_schema(path)
        wanted = [c.name for c in TABLES[table] if c.name in present]
        df = pl.read_parquet(path, columns=wanted) if wanted else pl.DataFrame()
    except (pl.exceptions.PolarsError, OSError) as e:
        first_line = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        errors.append(
            ExtractError(fname, None, f"filen kan ikke læses som Parquet (unreadable Parquet): {first_line}")
        )
        return None
    return cast_frame(table, df, errors)


# ------------------------------------------------------------------------------------ #
#                                    ORG TREE                                            #
# ------------------------------------------------------------------------------------ #


def org_tree_rules(
    nodes: Mapping[str, str | None], all_ids: set[str]
) -> tuple[str | None, dict[str, list[str]]]:
    """Judge the org tree formed by the units that passed their row rules.

    `nodes` maps unit_id → parent_id for those units; `all_ids` holds every unit_id in
    the file (so a parent that exists but was set aside is told apart from a missing
    one). Returns the kept root (None if there is none) and rule → unit_ids set aside.
    """
    children: dict[str, list[str]] = {}
    roots: list[str] = []
    for u, p in nodes.items():
        if p is None:
            roots.append(u)
        elif p in nodes:
            children.setdefault(p, []).append(u)

    def subtree(root: str) -> list[str]:
        members, stack = [], [root]
        while stack:
            unit = stack.pop()
            members.append(unit)
            stack.extend(children.get(unit, ()))
        return members

    out: dict[str, list[str]] = {
        "parent_id|multiple_roots": [],
        "parent_id|cycle": [],
        "parent_id|foreign_key": [],
        "parent_id|parent_rejected": [],
    }
    if not roots:
        kept, reached = None, set[str]()
    else:
        trees = {r: subtree(r) for r in roots}
        kept = min(roots, key=lambda r: (-len(trees[r]), r))
        reached = set(trees[kept])

    # Units on a cycle: walk parent links through the nodes; colour 1 = on the current
    # walk, 2 = finished. A walk that meets its own path has found a cycle.
    on_cycle: set[str] = set()
    state: dict[str, int] = {}
    for start in nodes:
        if start in state:
            continue
        path: list[str] = []
        cur: str | None = start
        while cur is not None and cur in nodes and cur not in state:
            state[cur] = 1
            path.append(cur)
            cur = nodes[cur]
        if cur is not None and state.get(cur) == 1:
            on_cycle.update(path[path.index(cur) :])
        for v in path:
            state[v] = 2

    for u, p in nodes.items():
        if u in reached:
            continue
        if p is None:
            out["parent_id|multiple_roots"].append(u)
        elif u in on_cycle:
            out["parent_id|cycle"].append(u)
        elif p not in nodes and p not in all_ids:
            out["parent_id|foreign_key"].append(u)
        else:
            out["parent_id|parent_rejected"].append(u)
    return kept, out


# ------------------------------------------------------------------------------------ #
#                                    VALIDATION                                          #
# ------------------------------------------------------------------------------------ #


def _extend(base: type[dy.Schema], rules: Mapping[str, pl.Expr]) -> type[dy.Schema]:
    """A subclass of `base` with extra row rules; keys are stable names `col|rule`."""
    if not rules:
        return base

    def factory(expr: pl.Expr) -> Any:
        return dy.rule()(lambda _cls: expr)

    namespace = {
        (PRIMARY_KEY_RULE if name == "primary_key" else name.replace("|", "__")): factory(expr)
        for name, expr in rules.items()
    }
    return types.new_class(base.__name__, (base,), exec_body=lambda ns: ns.update(namespace))


def _key_struct(key: tuple[str, ...]) -> pl.Expr:
    return pl.col(key[0]) if len(key) == 1 else pl.struct(list(key))


def duplicate_key_rule(df: pl.DataFrame, key: tuple[str, ...]) -> pl.Expr | None:
    """The `primary_key` rule for `df`: false on every row whose key (no part null)
    occurs more than once; None when no key repeats.

    Distinct hashes prove distinct keys, so only rows whose hash repeats are compared
    exactly; the rule then is a membership test against the few repeated keys.
    """
    if not key or df.height < 2:
        return None
    target = _key_struct(key)
    no_null = pl.all_horizontal([pl.col(c).is_not_null() for c in key])
    hashes = df.select(target.hash().alias("h"), no_null.alias("ok"))
    if hashes.get_column("h").n_unique() == df.height:
        return None
    ordered = hashes.filter("ok").get_column("h").sort()
    repeated_hashes = ordered.filter(ordered == ordered.shift(1)).unique()
    if repeated_hashes.is_empty():
        return None
    candidates = df.filter(hashes.get_column("h").is_in(repeated_hashes.implode()) & hashes.get_column("ok"))
    repeated = candidates.filter(target.is_duplicated()).select(target.alias("k")).unique().get_column("k")
    if repeated.is_empty():
        return None
    return ~target.is_in(repeated.implode())


def _in(column: str, keys: pl.Series) -> pl.Expr:
    return pl.col(column).is_in(keys.implode())


def _rejected_schema(table: str) -> pl.Schema:
    columns: dict[str, pl.DataType] = dict(polars_schema(table))
    columns[RULES_COLUMN] = pl.List(pl.String())
    columns[MESSAGE_COLUMN] = pl.String()
    return pl.Schema(columns)


def check_table(
    table: str, df: pl.DataFrame, extra_rules: Mapping[str, pl.Expr]
) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, int]]:
    """(accepted, rejected with _rules/_message, reasons) for one cast table.

    Runs the table's schema, its primary key and `extra_rules` (stable name -> rule
    expression, true = valid, null = not judged) in one dataframely filter.
    """
    rules = dict(extra_rules)
    key_rule = duplicate_key_rule(df, PRIMARY_KEYS[table])
    if key_rule is not None:
        rules["primary_key"] = key_rule
    schema = _extend(SCHEMAS[table], rules)
    good, failure = schema.filter(df)
    if len(failure) == 0:
        return good, pl.DataFrame(schema=_rejected_schema(table)), {}
    details = failure.details()
    columns = schema.column_names()
    rule_columns = [c for c in details.columns if c not in columns]
    names = {c: stable_rule_name(c) for c in rule_columns}
    texts = {names[c]: rule_text(names[c], table) for c in rule_columns}
    broken = {c: pl.col(c) == "invalid" for c in rule_columns}
    rejected = details.select(
        *columns,
        pl.concat_list([pl.when(b).then(pl.lit(names[c])) for c, b in broken.items()])
        .list.drop_nulls()
        .alias(RULES_COLUMN),
        pl.concat_str(
            [pl.when(b).then(pl.lit(texts[names[c]])) for c, b in broken.items()],
            separator="; ",
            ignore_nulls=True,
        ).alias(MESSAGE_COLUMN),
    )
    reasons: dict[str, int] = {}
    for c, n in failure.counts().items():
        reasons[names[c]] = reasons.get(names[c], 0) + n
    reasons = dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))
    return good, rejected, reasons


@dataclass
class _Outcome:
    tables: dict[str, pl.DataFrame]
    rejected: dict[str, pl.DataFrame]
    report: dict[str, TableReport]
    errors: list[ExtractError]


def _validate(as_of: date | None, frames: dict[str, pl.DataFrame | None], *, check_root: bool) -> _Outcome:
    """Row checks on cast frames, in dependency order. Empties `frames` as it goes
    (so a large input is not held twice).

    A frame of None could not be read: it is skipped, and so is every foreign-key
    rule pointing at it (that rule cannot be judged). `as_of` None skips the as_of
    bounds (a bad manifest; the extract is refused anyway).
    """
    accepted: dict[str, pl.DataFrame] = {}
    rejected: dict[str, pl.DataFrame] = {}
    report: dict[str, TableReport] = {}
    errors: list[ExtractError] = []
    for table in VALIDATION_ORDER:
        df = frames.pop(table, None)
        if df is None:
            continue
        extra: dict[str, pl.Expr] = {}
        for column, parent, key in FOREIGN_KEYS[table]:
            if parent in accepted:
                extra[f"{column}|foreign_key"] = _in(column, accepted[parent].get_column(key))
        if as_of is not None and table == "cases":
            extra["birth_year|max"] = pl.col("birth_year") <= as_of.year
        if as_of is not None and table == "payments":
            extra["posted_on|max"] = pl.col("posted_on") <= pl.lit(as_of, dtype=pl.Date)
        extra.update(plausibility_rules(table, as_of))
        if table == "org_units":
            statically_ok, _, _ = check_table(table, df, {})
            nodes = dict(
                zip(statically_ok["unit_id"].to_list(), statically_ok["parent_id"].to_list(), strict=True)
            )
            all_ids = set(df["unit_id"].drop_nulls().to_list())
            kept, tree_rules = org_tree_rules(nodes, all_ids)
            for rule, ids in tree_rules.items():
                if ids:
                    extra[rule] = ~_in("unit_id", pl.Series(ids, dtype=pl.String))
            if kept is None and check_root:
                errors.append(
                    ExtractError(
                        file_name(table),
                        "parent_id",
                        "organisationstræet har ingen rod: ingen gyldig enhed uden parent_id (no root unit)",
                    )
                )
        good, bad, reasons = check_table(table, df, extra)
        del df
        accepted[table], rejected[table] = good, bad
        report[table] = TableReport(accepted=good.height, rejected=bad.height, reasons=reasons)
    return _Outcome(accepted, rejected, report, errors)


def _order_report(report: Mapping[str, TableReport]) -> dict[str, TableReport]:
    return {t: report[t] for t in ALL_TABLE_NAMES if t in report}


def validate_frames(manifest: Manifest, frames: Mapping[str, Any], path: Path | None = None) -> Extract:
    """Validate in-memory frames exactly like `load_extract` validates files.

    For convenience (tests, demo data): tables may be omitted and are then empty
    (an omitted org_units does not trigger the "no root" refusal; an omitted optional
    table such as contacts is absent, as if its file were missing); a frame may be a
    `pl.DataFrame`, `pl.LazyFrame` or anything `pl.DataFrame(...)` accepts, and its
    columns may have any type that casts (dates as `datetime.date` or ISO strings,
    ints for floats, ...). A missing column or an uncastable one refuses, as for files.
    """
    unknown = sorted(set(frames) - set(ALL_TABLE_NAMES))
    if unknown:
        raise ValueError(f"unknown tables: {', '.join(unknown)} (known: {', '.join(ALL_TABLE_NAMES)})")
    errors: list[ExtractError] = []
    cast: dict[str, pl.DataFrame | None] = {}
    for table in ALL_TABLE_NAMES:
        if table not in frames:
            if table not in OPTIONAL_TABLES:
                cast[table] = empty_frame(table)
            continue
        raw = frames[table]
        if isinstance(raw, pl.LazyFrame):
            raw = raw.collect()
        elif not isinstance(raw, pl.DataFrame):
            raw = pl.DataFrame(raw)
        cast[table] = cast_frame(table, raw, errors)
    outcome = _validate(manifest.as_of, cast, check_root="org_units" in frames)
    return _finish(manifest, outcome, errors, path)


def _finish(
    manifest: Manifest | None, outcome: _Outcome, errors: list[ExtractError], path: Path | None
) -> Extract:
    errors = errors + outcome.errors
    if errors or manifest is None:
        raise ExtractRefused(errors, _order_report(outcome.report))
    # An absent optional table reads as empty; `Extract.present` tells it from an empty file.
    return Extract(
        manifest=manifest,
        tables={t: outcome.tables.get(t, empty_frame(t)) for t in ALL_TABLE_NAMES},
        rejected={
            t: outcome.rejected.get(t, pl.DataFrame(schema=_rejected_schema(t))) for t in ALL_TABLE_NAMES
        },
        report=_order_report(outcome.report),
        path=path,
    )


def load_extract(path: Path) -> Extract:
    """Read manifest.json and the 11 Parquet files of an extract folder (and the optional
    ones that are there) and validate.

    Raises ExtractRefused (every problem collected) when the extract cannot be used.
    """
    path = Path(path)
    try:
        if not path.is_dir():
            raise ExtractRefused(
                [ExtractError(str(path), None, "mappen findes ikke (extract folder not found)")]
            )
        errors: list[ExtractError] = []
        manifest = read_manifest(path, errors)
        frames = {table: read_table(path, table, errors) for table in TABLE_NAMES}
        for table in OPTIONAL_TABLES:
            if (path / file_name(table)).is_file():
                frames[table] = read_table(path, table, errors)
    except OSError as e:  # an unreadable folder or file (permissions, a file where a folder should be)
        raise ExtractRefused([unreadable(path, e)]) from None
    outcome = _validate(manifest.as_of if manifest else None, frames, check_root=True)
    from metrics.scope import prepare  # integer keys for the scoped tables, built once at load

    return prepare(_finish(manifest, outcome, errors, path))


def unreadable(path: Path, e: OSError) -> ExtractError:
    """The refusal for a folder or file the operating system will not let us read."""
    where = (
        Path(e.filename).name if e.filename and Path(e.filename).parent == path else str(e.filename or path)
    )
    return ExtractError(where, None, f"kan ikke læses ({e.strerror or type(e).__name__}) (unreadable)")


def _report_json(report: Mapping[str, TableReport]) -> dict[str, dict[str, Any]]:
    return {
        t: {"accepted": r.accepted, "rejected": r.rejected, "reasons": dict(r.reasons)}
        for t, r in report.items()
    }


def table_warnings(report: Mapping[str, TableReport]) -> list[dict[str, str]]:
    """kpis.md 1.1 `warnings`: every table that keeps less than half its rows, with the numbers."""
    out: list[dict[str, str]] = []
    for table, r in report.items():
        total = r.accepted + r.rejected
        if total and 2 * r.accepted < total:
            out.append(
                {
                    "table": table,
                    "message": (
                        f"{file_name(table)} beholder kun {r.accepted} af {total} rækker; "
                        f"{r.rejected} er sat til side (a table keeps less than half its rows)"
                    ),
                }
            )
    return out


def validation_json(path: Path) -> tuple[dict[str, Any], int]:
    """The object printed by `python -m metrics validate --format json`, and the exit code.

    ok is false only when the extract is refused (exit 2); rows set aside do not make
    it false. When refused, `tables` covers the tables that could be read.
    """
    try:
        ex = load_extract(path)
    except ExtractRefused as e:
        return {
            "ok": False,
            "errors": [err.as_json() for err in e.errors],
            "warnings": table_warnings(e.tables),
            "tables": _report_json(e.tables),
        }, 2
    return {
        "ok": True,
        "errors": [],
        "warnings": table_warnings(ex.report),
        "tables": _report_json(ex.report),
    }, 0


def list_extracts(root: Path) -> list[tuple[date, Path]]:
    """Extract folders under `root` (named YYYY-MM-DD, holding manifest.json), newest first."""
    root = Path(root)
    if not root.is_dir():
        return []
    found: list[tuple[date, Path]] = []
    for child in root.iterdir():
        if not _ISO_DATE.match(child.name) or not child.is_dir():
            continue
        try:
            day = date.fromisoformat(child.name)
        except ValueError:
            continue
        try:
            has_manifest = (child / MANIFEST_FILE).is_file()
        except OSError:  # unreadable: listed, so that loading it is refused with its reason
            has_manifest = True
        if has_manifest:
            found.append((day, child))
    found.sort(key=lambda dp: dp[0], reverse=True)
    return found


__all__ = [
    "RULE_TEXT",
    "ExtractError",
    "ExtractRefused",
    "cast_column",
    "list_extracts",
    "load_extract",
    "parse_manifest",
    "rule_text",
    "table_warnings",
    "unreadable",
    "validate_frames",
    "validation_json",
]
