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
        return self.tables[table]

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
