"""A poisoned copy of extracts: markdown, LaTeX, image, link, autolink, HTML and formula payloads
in every text column (identifiers consistently, so foreign keys still match), in the
municipality, and in URL parameters; and a reader that finds any of them rendered unescaped.

Enum columns (level, role, category, kind), the account pattern and kpi_id keep their values
(otherwise every row would be set aside and nothing would reach the pages); a few extra rows
that break rules carry the payload to Datakvalitet.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from metrics.contract import MANIFEST_FILE, TABLE_NAMES, file_name

# Long payload for names and free text; a short one for identifiers (they must stay ≤ 100 characters).
TEXT = "**b** ![i](http://e.vil/i.png) [l](https://e.vil/x) <b>h</b> $x^2$ www.e.vil a@e.vil =1+1 "
ID = "*b*![i](http://e.vil)$x$<b>"
KEEP = {"level", "role", "category", "kind", "account", "kpi_id", "email"}
EXTREMES = {"payments": ("amount", 1.7e308), "employees": ("fte", 5e-324)}
URL_PAYLOAD = "[Log ind igen](https://e.vil/login) ![i](http://e.vil/u.png) **b** $x$ www.e.vil"
URL_PARAMS = ("udtraek", "dato", "enhed", "foer", "fra", "gruppering", "raadgiver", "sag")

# Contiguous fragments that exist only if a payload reached Markdown unescaped.
RAW_FRAGMENTS = (
    "**b",
    "*b*",
    "![i]",
    "](http",
    "http://",
    "https://",
    "www.e",
    "<b>",
    "$x",
    "a@e.vil",
    "=1+1",
)
_RAW = re.compile("|".join(r"(?<!\\)" + re.escape(f) for f in RAW_FRAGMENTS))


def _poison(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns(
        (pl.lit(ID if name.endswith("_id") else TEXT) + pl.col(name)).alias(name)
        for name, dtype in df.schema.items()
        if dtype == pl.String and name not in KEEP
    )


def poison_root(src: Path, dst: Path) -> Path:
    """Copy every extract folder of `src` into `dst`, poisoned."""
    for folder in sorted(p for p in src.iterdir() if p.is_dir()):
        out = dst / folder.name
        shutil.copytree(folder, out)
        manifest = json.loads((out / MANIFEST_FILE).read_text(encoding="utf-8"))
        manifest["municipality"] = TEXT + manifest["municipality"]
        (out / MANIFEST_FILE).write_text(json.dumps(manifest), encoding="utf-8")
        for table in TABLE_NAMES:
            path = out / file_name(table)
            df = _poison(pl.read_parquet(path))
            if table == "cases":  # rows set aside, for Datakvalitet: an unknown unit, a far future
                df = pl.concat(
                    [
                        df,
                        df.head(2).with_columns(pl.col("case_id") + "X", pl.lit(TEXT).alias("unit_id")),
                        df.head(1).with_columns(
                            pl.col("case_id") + "Y", pl.lit(date(9999, 12, 31)).alias("closed_on")
                        ),
                    ]
                )
            if table in EXTREMES:  # extreme numbers: set aside, never "inf kr." or a crash
                column, value = EXTREMES[table]
                extra = df.head(2).with_columns(
                    pl.lit(value, dtype=pl.Float64).alias(column),
                    (pl.col(df.columns[0]) + pl.Series(["Z1", "Z2"][: min(2, df.height)])).alias(
                        df.columns[0]
                    ),
                )
                df = pl.concat([df, extra])
            df.write_parquet(path)
    return dst


def strings(message: Any, skip: frozenset[str]) -> Iterator[tuple[str, str]]:
    """(field name, value) of every string field of a protobuf message, recursively."""
    for field, value in message.ListFields():
        if field.name in skip:
            continue
        values = (
            value
            if isinstance(value, (list, tuple))
            or (
                hasattr(value, "__len__")
                and not isinstance(value, (str, bytes))
                and not hasattr(value, "ListFields")
            )
            else [value]
        )
        for v in values:
            if isinstance(v, str):
                yield field.name, v
            elif hasattr(v, "ListFields"):
                yield from strings(v, skip)


# Fields that are not rendered as Markdown: widget ids and keys, chart and grid specs (data is
# drawn as text by Vega/AgGrid), plain-text options of selectboxes, values, and page targets.
PLAIN_OPTIONS = frozenset({"options"})  # selectbox and multiselect options are plain text (pills are not)
NOT_MARKDOWN = frozenset(
    {"id", "form_id", "json_args", "spec", "default", "value", "raw_value", "page", "page_script_hash",
     "placeholder", "url", "query_string", "file_name", "data", "arrow_data", "styler", "css", "uuid", "deprecated"}
)  # fmt: skip


def rendered_markup(at: Any) -> list[tuple[str, str, str]]:
    """(element type, field, text) of every Markdown-rendered string holding a raw payload fragment."""
    found: list[tuple[str, str, str]] = []

    def walk(node: Any) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "ListFields"):
            plain = (
                PLAIN_OPTIONS if getattr(node, "type", "") in ("selectbox", "multiselect") else frozenset()
            )
            for name, text in strings(proto, NOT_MARKDOWN | plain):
                if _RAW.search(text):
                    found.append((str(getattr(node, "type", "?")), name, text[:300]))
        children = getattr(node, "children", None)
        if isinstance(children, dict):
            for child in children.values():
                walk(child)

    walk(at._tree)
    return found


def all_text(at: Any) -> str:
    """Every string of every element, Markdown or not (to check a payload reached the page)."""
    out: list[str] = []

    def walk(node: Any) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "ListFields"):
            out.extend(t for _, t in strings(proto, frozenset({"json_args", "spec"})))
        children = getattr(node, "children", None)
        if isinstance(children, dict):
            for child in children.values():
                walk(child)

    walk(at._tree)
    return "\n".join(out)
