"""Revisionslog: search the audit log of case views, downloads and refusals. Leaders only."""

from __future__ import annotations

import os
from datetime import timedelta

import polars as pl
import streamlit as st

from metrics.access import ROLE_LABELS
from metrics.audit import (
    ACTION_LABELS,
    CHECKPOINT_ENV,
    LOCAL_TZ,
    AuditUnreadable,
    can_read_audit,
    local_today,
    search,
    verify_configured,
)
from metrics.storage import db_url
from ui.auth import audit_log_read, download_audit, page_titles, show_denied
from ui.context import page_context
from ui.fmt import fmt_date, fmt_datetime, fmt_num, md_escape
from ui.tables import ColumnSpec, show_table

PAGE = "revisionslog"
LIMIT = 1000

ctx = page_context()
if ctx is None:
    st.stop()
if not can_read_audit(ctx.viewer):
    show_denied(ctx.ex, ctx.viewer, PAGE, "revisionsloggen")
    st.stop()

st.title("Revisionslog")
st.caption(
    "Hver visning og download af sagsdata og hvert afvist forsøg bliver logget. "
    f"Viser hændelser for medarbejdere i {md_escape(ctx.unit_name)}. Tidspunkter er dansk tid."
)


@st.cache_data(ttl=60, show_spinner="Kontrollerer revisionsloggen …")
def _integrity(db: str, checkpoint: str) -> tuple[bool | None, int, int | None, str, bool]:
    """(intact, rows, first broken event id, message, checked against a checkpoint); intact
    None when the log cannot be read. Keyed by the settings, so a changed setting re-checks."""
    try:
        v = verify_configured()
    except AuditUnreadable as e:
        return None, 0, None, str(e), False
    return v.ok, v.rows, v.broken_event_id, v.message, v.checkpoint is not None


ok, n_rows, broken_id, message, with_checkpoint = _integrity(db_url(), os.environ.get(CHECKPOINT_ENV, ""))
if ok is None:
    st.warning(f"Revisionsloggens hash-kæde kan ikke kontrolleres: {md_escape(message)}", icon="⚠️")
elif ok:
    st.success(
        f"Revisionsloggen er intakt: hash-kæden over {fmt_num(n_rows)} hændelser er kontrolleret"
        + (" og passer med seneste kontrolpunkt." if with_checkpoint else " (intet kontrolpunkt angivet)."),
        icon="✅",
    )
else:
    st.error(
        "Revisionsloggen er brudt"
        + (f" ved hændelse {broken_id}" if broken_id is not None else "")
        + f": {md_escape(message)}",
        icon="🚨",
    )

today = local_today()
c1, c2, c3 = st.columns(3)
person = c1.text_input(
    "Medarbejder", key="rev_person", help="Medarbejder-id, eller en del af navn eller e-mail."
)
case_id = c2.text_input("Sag", key="rev_sag", help="Sagsnummer (case_id), præcist.")
period = c3.date_input(
    "Periode",
    value=(today - timedelta(days=30), today),
    key="rev_periode",
    format="DD.MM.YYYY",
)
actions = st.multiselect(
    "Hændelser",
    list(ACTION_LABELS),
    default=list(ACTION_LABELS),
    format_func=ACTION_LABELS.__getitem__,
    key="rev_handlinger",
)
date_from = period[0] if len(period) > 0 else None
date_to = period[1] if len(period) > 1 else date_from

events = search(
    ctx.ex,
    ctx.viewer,
    person=person or None,
    case_id=case_id or None,
    date_from=date_from,
    date_to=date_to,
    actions=actions,
    unit_id=ctx.unit_id,
    limit=LIMIT + 1,
)
audit_log_read(
    ctx,
    PAGE,
    f"søgning medarbejder={person!r} sag={case_id!r} periode={date_from}..{date_to} "
    f"hændelser={','.join(actions)} enhed={ctx.unit_id}",
    [case_id.strip()] if case_id.strip() else [],
)

if events.height == 0:
    st.info("Ingen hændelser matcher søgningen.")
    st.stop()
if events.height > LIMIT:
    st.warning(f"Viser de nyeste {fmt_num(LIMIT)} hændelser. Indsnævr søgningen for at se ældre.")
    events = events.head(LIMIT)
else:
    st.caption(f"{fmt_num(events.height)} hændelser.")

table = events.select(
    pl.col("at").map_elements(fmt_datetime, return_dtype=pl.String).alias("Tidspunkt"),
    pl.col("name").fill_null("(ukendt)").alias("Medarbejder"),
    pl.col("email").fill_null("").alias("E-mail"),
    pl.col("role").replace_strict(ROLE_LABELS, default="").alias("Rolle"),
    pl.col("page").replace(page_titles()).alias("Side"),  # the page's title, not its url path
    pl.col("action").replace_strict(ACTION_LABELS, default=None).alias("Hændelse"),
    pl.col("target").fill_null("").alias("Forsøgt"),
    pl.col("case_ids").list.join(", ").alias("Sager"),
    pl.col("extract_as_of").map_elements(fmt_date, return_dtype=pl.String).alias("Udtræk"),
)
# Through show_table, not st.dataframe: its built-in CSV download would bypass the audit log.
show_table(
    table,
    {c: ColumnSpec(c) for c in table.columns},
    key="revisionslog",
    export_as=(ctx.unit_name, ctx.ex.as_of),
    title="Hændelser",
    filters=ctx.filters(),
    audit=download_audit(
        ctx, PAGE, events["case_ids"].explode().drop_nulls().unique().to_list(), "revisionslog"
    ),
)
st.caption(f"Tider i {LOCAL_TZ}.")
