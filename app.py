"""Styringsoverblik: the router. Run with `streamlit run app.py`."""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="Styringsoverblik", page_icon="📊", layout="wide")

PAGES = {
    "Styring": [
        st.Page("pages/scorecard.py", title="Scorecard", icon="🎯", url_path="scorecard", default=True),
        st.Page("pages/oekonomi.py", title="Økonomi", icon="💰", url_path="oekonomi"),
        st.Page("pages/underretninger.py", title="Underretninger", icon="📨", url_path="underretninger"),
        st.Page("pages/sygefravaer.py", title="Sygefravær", icon="🩺", url_path="sygefravaer"),
        st.Page("pages/sammenlign.py", title="Sammenlign udtræk", icon="🔁", url_path="sammenlign"),
    ],
    "Sager": [
        st.Page("pages/raadgiver.py", title="Rådgiveroverblik", icon="🧑‍💼", url_path="raadgiver"),
        st.Page("pages/sag.py", title="Sag", icon="📁", url_path="sag"),
    ],
    "Data": [
        st.Page("pages/datakvalitet.py", title="Datakvalitet", icon="🧪", url_path="datakvalitet"),
        st.Page("pages/revisionslog.py", title="Revisionslog", icon="🔎", url_path="revisionslog"),
    ],
}

st.navigation(PAGES).run()
