"""Reading what a page rendered in AppTest: the data sent to each AgGrid and the headline figures."""

from __future__ import annotations

import json

import polars as pl
import pyarrow as pa
from streamlit.testing.v1 import AppTest

NBSP = "\u00a0"


def grids(at: AppTest) -> dict[str, pl.DataFrame]:
    """The data each show_table was sent, by its key: an AgGrid's, or a summary table's (an
    st.dataframe whose Styler is named `grid_…`; its cells' values, shown as `summary_text` gives)."""
    out: dict[str, pl.DataFrame] = {}
    for el in at.get("component_instance"):
        key = json.loads(el.proto.json_args)["key"].removeprefix("grid_")
        data = next(a for a in el.proto.special_args if a.key == "data")
        out[key] = pl.from_arrow(pa.ipc.open_stream(data.arrow_dataframe.data.data).read_all())  # type: ignore[assignment]
    for el in at.dataframe:
        name = el.proto.arrow_data.styler.uuid
        if name.startswith("grid_"):
            out[name.removeprefix("grid_")] = _arrow(el.proto.arrow_data.data)
    return out


def _arrow(data: bytes) -> pl.DataFrame:
    table = pa.ipc.open_stream(data).read_all()
    keep = [c for c in table.column_names if not c.startswith("__index_level_")]
    return pl.from_arrow(table.select(keep))  # type: ignore[return-value]


def summary_text(at: AppTest, key: str) -> pl.DataFrame:
    """What a summary table shows: its cells' Danish text (the Styler's display values)."""
    for el in at.dataframe:
        if el.proto.arrow_data.styler.uuid == f"grid_{key}":
            return _arrow(el.proto.arrow_data.styler.display_values)
    raise AssertionError(f"no summary table {key}")


def grid_options_of(at: AppTest, key: str) -> dict[str, object]:
    """The gridOptions sent to the AgGrid of show_table `key`."""
    for el in at.get("component_instance"):
        args = json.loads(el.proto.json_args)
        if args["key"] == f"grid_{key}":
            return args["gridOptions"]  # type: ignore[no-any-return]
    raise AssertionError(f"no grid {key}")


def figures(at: AppTest) -> list[str]:
    """The headline figures (ui.tables.show_figures), in order."""
    return [m.value[5:].replace(NBSP, " ") for m in at.markdown if m.value.startswith("#### ")]


def link_rows(at: AppTest) -> list[pl.DataFrame]:
    """The tables of ui.rows.show_rows (st.dataframe with a link to Sag), in order: their Danish
    text, with the case id each link opens in `case_id` and the link itself in `_link`."""
    out: list[pl.DataFrame] = []
    for el in at.dataframe:
        df = pl.from_pandas(el.value)
        if "_link" in df.columns:
            ids = df["_link"].str.extract(r"[?&]sag=([^&]*)", 1)
            out.append(df.with_columns(ids.alias("case_id")))
    return out
