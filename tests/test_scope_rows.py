"""metrics.scope._row_of: the row of each key among unique ids, by either path."""

from __future__ import annotations

import polars as pl

from metrics.scope import _row_of


def test_row_of_few_and_many_keys_give_the_rows() -> None:
    target = pl.Series([f"C{i:03d}" for i in range(100)])
    # few keys among many ids (a team's rows): looked up; a null and an unknown id give null
    few = pl.Series(["C007", None, "C099", "X1", "C007"])
    assert _row_of(few, target).to_list() == [7, None, 99, None, 7]
    # as many keys as ids: the Enum path; the same answers
    many = pl.Series(["C007", None, "C099", "X1", "C007"] * 40)
    assert _row_of(many, target).to_list() == [7, None, 99, None, 7] * 40
    assert _row_of(few, target).dtype == _row_of(many, target).dtype == pl.UInt32
