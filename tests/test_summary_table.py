"""ui.tables.show_table(summary=True): Streamlit's own table for a short summary, a grid for a long one."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.support_app import grid_options_of, grids, summary_text


def _page(rows: int) -> AppTest:
    def script(rows: int) -> None:
        import polars as pl

        from ui.tables import ColumnSpec, show_table

        df = pl.DataFrame({"label": [f"r{i}" for i in range(rows)], "kr": [1234567.4 + i for i in range(rows)]})
        show_table(
            df,
            {"label": ColumnSpec("Række"), "kr": ColumnSpec("Beløb", "dkk")},
            key="t",
            title="Tabel",
            filters={},
            summary=True,
        )

    at = AppTest.from_function(script, kwargs={"rows": rows})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_short_summary_is_a_native_table_in_danish() -> None:
    at = _page(3)
    assert not at.get("component_instance")  # no AgGrid iframe
    assert grids(at)["t"]["kr"].to_list() == [1234567.4, 1234568.4, 1234569.4]  # numbers: numeric sort
    # 1.234.567,4 kr. shown with no decimals, Danish thousands separators
    assert summary_text(at, "t")["kr"].to_list() == ["1.234.567 kr.", "1.234.568 kr.", "1.234.569 kr."]


def test_long_summary_falls_back_to_the_grid() -> None:
    from ui.tables import SUMMARY_MAX_ROWS

    at = _page(SUMMARY_MAX_ROWS + 1)
    assert len(at.get("component_instance")) == 1
    assert grids(at)["t"].height == SUMMARY_MAX_ROWS + 1
    assert grid_options_of(at, "t")["columnDefs"][1]["headerName"] == "Beløb"
