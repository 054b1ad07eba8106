"""A loaded extract keeps payments' intervention_id as the row of its intervention (STORED_AS_ROWS),
and every value stays: the payments table, the KPIs and trends, the economy table, a case's
payments and the cases' last activity equal those of the same tables validated without it."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from metrics import registry
from metrics.access import Viewer
from metrics.casework import case_detail
from metrics.contract import ALL_TABLE_NAMES, OPTIONAL_TABLES, file_name
from metrics.drill import last_activity
from metrics.economy import economy_table
from metrics.extract import Extract, row_column
from metrics.loader import read_manifest, read_table, validate_frames
from metrics.org import org_tree
from metrics.scope import Scope
from tests.conftest import FIXTURE_END


@pytest.fixture(scope="module")
def plain(small_root: Path) -> Extract:
    """The fixture extract's files validated as in-memory frames: no integer keys, no stored rows."""
    folder = small_root / FIXTURE_END.isoformat()
    manifest = read_manifest(folder, [])
    assert manifest is not None
    # read as load_extract reads them (the same chunks, so the same sums to the last bit)
    frames = {
        t: read_table(folder, t, [])
        for t in ALL_TABLE_NAMES
        if t not in OPTIONAL_TABLES or (folder / file_name(t)).is_file()
    }
    return validate_frames(manifest, frames)


def test_payments_keep_intervention_id_as_rows(small_extract: Extract, plain: Extract) -> None:
    stored = small_extract.stored("payments")
    assert "intervention_id" not in stored.columns
    assert stored.schema[row_column("intervention_id")] == pl.UInt32
    assert stored.height == plain["payments"].height > 0
    # the strings come back, in their place, for the whole table and for any row subset
    assert_frame_equal(small_extract["payments"], plain["payments"])
    some = stored.filter(pl.col("amount") > 1000).select("amount", row_column("intervention_id"))
    assert_frame_equal(
        small_extract.restore("payments", some),
        plain["payments"].filter(pl.col("amount") > 1000).select("amount", "intervention_id"),
    )


def test_every_value_stays(small_extract: Extract, plain: Extract) -> None:
    as_of = small_extract.as_of
    tree = org_tree(small_extract)
    team = next(u for u, level in tree.level.items() if level == "team")
    for unit in (tree.root, team):
        scope = Scope.unit(unit)
        ours, theirs = (
            registry.compute_all(small_extract, scope, as_of),
            registry.compute_all(plain, scope, as_of),
        )
        assert ours.keys() == theirs.keys()
        for m, v in ours.items():
            # approx: sygefravaer_pct's sum can move in its last bit from one call to the next
            # (the absences' join order), with or without stored rows
            assert v.basis == theirs[m].basis, m
            assert (v.value is None) == (theirs[m].value is None), m
            assert v.value is None or v.value == pytest.approx(theirs[m].value, rel=1e-12), m
        for m in ("oekonomi_forventet_pct", "udgift_pr_sag"):
            assert_frame_equal(
                registry.trend(small_extract, m, scope, as_of), registry.trend(plain, m, scope, as_of)
            )
        for by in ("account", "case"):
            assert_frame_equal(
                economy_table(small_extract, scope, as_of, by), economy_table(plain, scope, as_of, by)
            )
    # (a row per case, in no particular order)
    assert_frame_equal(
        last_activity(small_extract, as_of), last_activity(plain, as_of), check_row_order=False
    )
    paid = plain["payments"].join(plain["interventions"], on="intervention_id")["case_id"].unique().sort()
    for case_id in paid.head(5):
        ours = case_detail(small_extract, Viewer.system(), case_id, as_of)
        theirs = case_detail(plain, Viewer.system(), case_id, as_of)
        assert ours.payments.height > 0
        assert_frame_equal(ours.payments, theirs.payments)
        assert ours.economy == theirs.economy
        assert ours.total_since_opened == theirs.total_since_opened
