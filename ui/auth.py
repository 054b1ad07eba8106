"""Who is looking. Minimal first version: demo mode ("vis som") on synthetic extracts only.
Login through the municipality's identity provider and the audit log come with issue 5."""

from __future__ import annotations

import polars as pl
import streamlit as st

from metrics.access import ROLE_LABELS, Viewer, viewer_for_employee
from metrics.extract import Extract
from metrics.kpis import employed_on
from metrics.org import org_tree

P_VIEW_AS = "vis_som"


def _demo_viewer(ex: Extract) -> Viewer | None:
    st.sidebar.markdown(":orange-badge[DEMO] Syntetiske data – du ser dashboardet som en valgt medarbejder.")
    tree = org_tree(ex)
    staff = (
        ex["employees"]
        .filter(employed_on(ex.as_of))
        .with_columns(
            pl.col("unit_id")
            .replace_strict({u: len(tree.path(u)) for u in tree.parent}, default=99)
            .alias("depth"),
            pl.col("role")
            .replace_strict({"leder": 0, "administration": 1, "teamleder": 2, "raadgiver": 3})
            .alias("rank"),
        )
        .sort("depth", "rank", "name")
    )
    ids = staff["employee_id"].to_list()
    label = {
        r["employee_id"]: f"{r['name']} – {ROLE_LABELS[r['role']]}, {tree.label(r['unit_id'])}"
        for r in staff.iter_rows(named=True)
    }
    chosen = st.sidebar.selectbox("Vis som", ids, key=P_VIEW_AS, format_func=label.__getitem__)
    return None if chosen is None else viewer_for_employee(ex, chosen)


def current_viewer(ex: Extract) -> Viewer | None:
    if ex.manifest.synthetic:
        return _demo_viewer(ex)
    st.error("Ingen adgang. Log ind med din kommunale konto.")
    return None


def log_denied_unit(ex: Extract, viewer: Viewer, unit: str) -> None:
    """Record a denied attempt to open a unit (audit log comes with issue 5)."""
