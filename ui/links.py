"""Links from a figure to the page and view that shows its rows: metrics gives the page
(its url_path) and the page's own URL parameters; the extract, date and unit in force
are added here so the link opens the same view."""

from __future__ import annotations

from urllib.parse import parse_qsl

from ui.context import P_AS_OF, P_EXTRACT, P_UNIT, PageContext

# url_path → page script (app.py's router)
PAGE_SCRIPTS = {
    "scorecard": "views/scorecard.py",
    "oekonomi": "views/oekonomi.py",
    "underretninger": "views/underretninger.py",
    "sag": "views/sag.py",
    "moede": "views/moede.py",
}


def link_target(ctx: PageContext, page: str, params: str) -> tuple[str, dict[str, str]]:
    """(page script, query params) for st.page_link: the line's own parameters first, then
    the extract, date and unit in force where the line does not name its own."""
    query = dict(parse_qsl(params))
    view = {P_EXTRACT: ctx.ex.as_of.isoformat(), P_AS_OF: ctx.as_of.isoformat(), P_UNIT: ctx.unit_id}
    for key, value in view.items():
        query.setdefault(key, value)
    return PAGE_SCRIPTS[page], query
