"""A loaded, validated extract: accepted rows per table plus what was set aside."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import polars as pl


@dataclass(frozen=True)
class Manifest:
    contract_version: int
    municipality: str
    as_of: date
    created_at: datetime
    sources: tuple[str, ...]
    synthetic: bool = False


@dataclass(frozen=True)
class TableReport:
    accepted: int
    rejected: int
    reasons: dict[str, int]  # rule -> rows set aside for it


# A column kept as the row of its value in another table, once the integer row keys are built at
# load (`Extract.store_as_rows`): payments' intervention_id is 16 bytes a row as a string (73 MB
# at N = 80), 4 as the row of its intervention, a key the scoped tables need anyway. `ex[table]`
# gives the strings back; `ex.stored(table)` is the frame as kept.
STORED_AS_ROWS: dict[str, tuple[str, str]] = {"payments": ("intervention_id", "interventions")}


def row_column(column: str) -> str:
    """The name a column stored as rows is kept under (UInt32, the row in its parent table)."""
    return f"{column}__row"


def chunked_like(s: pl.Series, like: pl.Series) -> pl.Series:
    """`s` (as long as `like`) in `like`'s chunks (slices, no copy). A frame whose columns are
    chunked differently is copied whole into one chunk by the next select or filter on it."""
    parts, offset = [], 0
    for chunk in like.get_chunks():
        parts.append(s.slice(offset, chunk.len()))
        offset += chunk.len()
    return pl.concat(parts, rechunk=False) if len(parts) > 1 else s


@dataclass
class Extract:
    """Accepted rows of every contract table (contract columns only, contract dtypes).

    `rejected[table]` holds the rows set aside, with the contract columns plus
    `_rules` (list[str]: every rule the row broke) and `_message` (Danish text).
    """

    manifest: Manifest
    tables: dict[str, pl.DataFrame]
    rejected: dict[str, pl.DataFrame]
    report: dict[str, TableReport]
    path: Path | None = None
    _cache: dict[str, object] = field(default_factory=dict, repr=False)

    def __getitem__(self, table: str) -> pl.DataFrame:
        """The accepted rows of `table`: every contract column, as loaded."""
        return self.restore(table, self.tables[table])

    def stored(self, table: str) -> pl.DataFrame:
        """`table` as kept in memory: a column of `STORED_AS_ROWS` may be its rows (`row_column`)."""
        return self.tables[table]

    def restore(self, table: str, df: pl.DataFrame) -> pl.DataFrame:
        """`df`, rows (and any columns) of `stored(table)`, with a column kept as rows turned back
        into its values, in its place."""
        spec = STORED_AS_ROWS.get(table)
        if spec is None or row_column(spec[0]) not in df.columns:
            return df
        column, parent = spec
        hidden = row_column(column)
        values = self.tables[parent].get_column(column).gather(df.get_column(hidden))
        return df.with_columns(values.alias(hidden)).rename({hidden: column})

    def store_as_rows(self, table: str, rows: pl.Series) -> None:
        """Keep `table`'s column of `STORED_AS_ROWS` as `rows`, the row of each value in its parent
        table, when every row has one (a null would lose its value; the column is then kept)."""
        column, _ = STORED_AS_ROWS[table]
        df = self.tables[table]
        if column not in df.columns or rows.len() != df.height or rows.null_count():
            return
        keys = chunked_like(rows.cast(pl.UInt32), df.get_column(column)).alias(column)
        self.tables[table] = df.with_columns(keys).rename({column: row_column(column)})

    def present(self, table: str) -> bool:
        """Whether the extract has the table: false only for an optional table whose file
        is absent (a present file with no rows is a table with no rows)."""
        return table in self.report

    @property
    def as_of(self) -> date:
        return self.manifest.as_of

    @property
    def rejected_total(self) -> int:
        return sum(r.rejected for r in self.report.values())
