"""Styringsoverblik: the router. Run with `streamlit run app.py`."""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui.context import hidden_pages

st.set_page_config(page_title="Styringsoverblik", page_icon="📊", layout="wide")
HIDDEN = hidden_pages()  # pages this viewer may not use are not offered (the pages still refuse)


def page(script: str, title: str, icon: str, url_path: str, **kw: Any) -> st.Page:
    visibility = "hidden" if url_path in HIDDEN else "visible"
    return st.Page(script, title=title, icon=icon, url_path=url_path, visibility=visibility, **kw)


PAGES = {
    "Styring": [
        page("views/scorecard.py", "Scorecard", "🎯", "scorecard", default=True),
        page("views/oekonomi.py", "Økonomi", "💰", "oekonomi"),
        page("views/underretninger.py", "Underretninger", "📨", "underretninger"),
        page("views/sygefravaer.py", "Sygefravær", "🩺", "sygefravaer"),
        page("views/sammenlign.py", "Sammenlign udtræk", "🔁", "sammenlign"),
    ],
    "Sager": [
        page("views/raadgiver.py", "Rådgiveroverblik", "🧑‍💼", "raadgiver"),
        page("views/sag.py", "Sag", "📁", "sag"),
    ],
    "Data": [
        page("views/datakvalitet.py", "Datakvalitet", "🧪", "datakvalitet"),
        page("views/revisionslog.py", "Revisionslog", "🔎", "revisionslog"),
    ],
}

st.navigation(PAGES).run()
