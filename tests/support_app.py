"""Reading what a page rendered in AppTest: the data sent to each AgGrid and the headline figures."""

from __future__ import annotations

import json

import polars as pl
import pyarrow as pa
from streamlit.testing.v1 import AppTest

NBSP = "\u00a0"


def grids(at: AppTest) -> dict[str, pl.DataFrame]:
    """The data each AgGrid was sent, by its show_table key."""
    out: dict[str, pl.DataFrame] = {}
    for el in at.get("component_instance"):
        key = json.loads(el.proto.json_args)["key"].removeprefix("grid_")
        data = next(a for a in el.proto.special_args if a.key == "data")
        out[key] = pl.from_arrow(pa.ipc.open_stream(data.arrow_dataframe.data.data).read_all())  # type: ignore[assignment]
    return out


def figures(at: AppTest) -> list[str]:
    """The headline figures (ui.tables.show_figures), in order."""
    return [m.value[5:].replace(NBSP, " ") for m in at.markdown if m.value.startswith("#### ")]
