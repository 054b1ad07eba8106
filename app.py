"""Styringsoverblik: the router. Run with `streamlit run app.py`."""

from __future__ import annotations

from typing import Literal

import streamlit as st

from ui import warm
from ui.auth import SettingError, demo_setting
from ui.context import hidden_pages

st.set_page_config(page_title="Styringsoverblik", page_icon="📊", layout="wide")

try:  # a setting outside its documented values stops the app before any page runs
    demo_setting()
except SettingError as e:
    st.error(str(e))
    st.stop()

HIDDEN = hidden_pages()


def shown(url_path: str) -> Literal["visible", "hidden"]:
    """Pages this viewer may not use are not offered; a URL naming one still opens it, and the
    page refuses and logs the attempt."""
    return "hidden" if url_path in HIDDEN else "visible"


PAGES = {
    "Styring": [
        st.Page("views/scorecard.py", title="Scorecard", icon="🎯", url_path="scorecard", default=True),
        st.Page("views/moede.py", title="Økonomimøde", icon="🗓️", url_path="moede", visibility=shown("moede")),
        st.Page("views/oekonomi.py", title="Økonomi", icon="💰", url_path="oekonomi"),
        st.Page("views/underretninger.py", title="Underretninger", icon="📨", url_path="underretninger"),
        st.Page("views/sygefravaer.py", title="Sygefravær", icon="🩺", url_path="sygefravaer"),
        st.Page("views/kapabilitet.py", title="Kapabilitet", icon="📈", url_path="kapabilitet"),
        st.Page("views/sammenlign.py", title="Sammenlign udtræk", icon="🔁", url_path="sammenlign"),
    ],
    "Sager": [
        st.Page("views/raadgiver.py", title="Rådgiveroverblik", icon="🧑‍💼", url_path="raadgiver", visibility=shown("raadgiver")),
        st.Page("views/sag.py", title="Sag", icon="📁", url_path="sag", visibility=shown("sag")),
    ],
    "Data": [
        st.Page("views/datakvalitet.py", title="Datakvalitet", icon="🧪", url_path="datakvalitet"),
        st.Page("views/revisionslog.py", title="Revisionslog", icon="🔎", url_path="revisionslog", visibility=shown("revisionslog")),
    ],
}

st.navigation(PAGES).run()
warm.page_served()
