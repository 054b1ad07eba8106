"""What every page starts with: the extract, as-of date and unit chosen in the sidebar
(bound to the URL, so a copied link reproduces the view), and who is looking.

Loading is cached on plain values (path + modification time), never on frames.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import streamlit as st

from metrics.access import Viewer, aggregate_units
from metrics.extract import Extract
from metrics.loader import ExtractRefused, list_extracts, load_extract, table_warnings, unreadable
from metrics.org import OrgTree, org_tree
from metrics.scope import Scope
from ui.auth import current_page, current_viewer, log_denied_unit, login_gate, show_denied
from ui.fmt import fmt_date, fmt_num, md_escape, url_echo

REPO = Path(__file__).resolve().parent.parent
DEMO_ROOT = REPO / "data" / "extracts"
EARLIEST = date(2021, 1, 1)

# URL parameter names (Danish: they are what users see in a copied link)
P_EXTRACT, P_AS_OF, P_UNIT = "udtraek", "dato", "enhed"


def extracts_root() -> Path:
    return Path(os.environ.get("STYRING_EXTRACTS", DEMO_ROOT))


@st.cache_resource(max_entries=6, show_spinner="Indlæser og validerer udtræk …")
def _load(path: str, mtime: float) -> Extract:
    return load_extract(Path(path))


def load_cached(path: Path) -> Extract:
    try:
        mtime = (path / "manifest.json").stat().st_mtime
    except OSError as e:
        raise ExtractRefused([unreadable(path, e)]) from None
    return _load(str(path), mtime)


def _ensure_demo(root: Path) -> None:
    if list_extracts(root) or root != DEMO_ROOT:
        return
    from data.generate import ensure_demo_data

    bar = st.progress(0.0, text="Danner demodata (første start) …")
    ensure_demo_data(root, progress=lambda f, text: bar.progress(min(max(f, 0.0), 1.0), text=text))
    bar.empty()


@dataclass(frozen=True)
class PageContext:
    ex: Extract
    as_of: date
    unit_id: str
    viewer: Viewer
    tree: OrgTree

    @property
    def scope(self) -> Scope:
        return Scope.unit(self.unit_id)

    @property
    def unit_name(self) -> str:
        return self.tree.label(self.unit_id)

    def filters(self) -> dict[str, str]:
        """The filters in force, in Danish, for export headers and captions."""
        return {
            "Kommune": self.ex.manifest.municipality,
            "Enhed": self.unit_name,
            "Opgørelsesdato": fmt_date(self.as_of),
            "Udtræk": fmt_date(self.ex.as_of),
        }


def _unit_labels(tree: OrgTree, units: list[str]) -> dict[str, str]:
    names = [tree.label(u) for u in units]
    dupes = {n for n in names if names.count(n) > 1}
    return {u: (f"{tree.label(u)} ({u})" if tree.label(u) in dupes else tree.label(u)) for u in units}


def refusal_text(as_of: date, e: ExtractRefused) -> str:
    """Why an extract is refused, every error naming its file and column, as escaped Markdown."""
    lines = "\n".join(
        f"- {md_escape(err.file)}, kolonne {md_escape(err.column or '–')}: {md_escape(err.message)}"
        for err in e.errors
    )
    return f"Udtrækket {fmt_date(as_of)} kan ikke bruges:\n\n{lines}"


def _try_load(day: date, path: Path, reported: set[date]) -> Extract | None:
    """The extract, or None after saying (once per script run) why it is refused."""
    try:
        return load_cached(path)
    except ExtractRefused as e:
        if day not in reported:
            reported.add(day)
            st.error(refusal_text(day, e))
        return None


def _newest(found: list[tuple[date, Path]], reported: set[date]) -> Extract | None:
    """The newest extract that loads: today's truth, against which the viewer is resolved."""
    for day, path in found:
        ex = _try_load(day, path, reported)
        if ex is not None:
            return ex
    return None


def _pick_extract(found: list[tuple[date, Path]], newest: Extract, reported: set[date]) -> Extract:
    """The extract chosen in the sidebar (or by the link); the newest if it is refused."""
    options = [d.isoformat() for d, _ in found]
    raw = st.query_params.get(P_EXTRACT)
    labels = {iso: fmt_date(date.fromisoformat(iso)) for iso in options}
    if raw in labels and P_EXTRACT not in st.session_state:  # a link may name it by ISO date
        st.session_state[P_EXTRACT] = raw
    elif raw is not None and raw not in labels and raw not in labels.values():
        st.error(f"Udtrækket {url_echo(raw)} i linket findes ikke. Vælg et udtræk i menuen.")
    chosen = st.sidebar.selectbox(
        "Udtræk",
        options,
        key=P_EXTRACT,
        bind="query-params",
        format_func=labels.__getitem__,
        help="Udtrækkene er dannet hver 14. dag. Det nyeste vises som standard.",
    )
    by_iso = {d.isoformat(): (d, p) for d, p in found}
    if chosen is None or chosen == newest.as_of.isoformat():
        return newest
    ex = _try_load(*by_iso[chosen], reported)
    if ex is None:
        st.warning(f"Viser i stedet udtrækket {fmt_date(newest.as_of)}.")
        return newest
    return ex


def _pick_as_of(ex: Extract) -> date | None:
    raw = st.query_params.get(P_AS_OF)
    if raw is not None:
        try:
            # fromisoformat alone would also take 20260115 and 2026-W03-4, which the widget drops
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw.replace("/", "-")):
                raise ValueError(raw)
            parsed = date.fromisoformat(raw.replace("/", "-"))
        except ValueError:
            st.error(f"Datoen {url_echo(raw)} i linket er ikke en gyldig dato (ÅÅÅÅ-MM-DD).")
            return None
        if not EARLIEST <= parsed <= ex.as_of:
            st.error(
                f"Datoen {fmt_date(parsed)} i linket ligger uden for udtrækket "
                f"({fmt_date(EARLIEST)} – {fmt_date(ex.as_of)})."
            )
            return None
    return st.sidebar.date_input(
        "Opgørelsesdato",
        value=ex.as_of,
        min_value=EARLIEST,
        max_value=ex.as_of,
        key=P_AS_OF,
        bind="query-params",
        format="DD.MM.YYYY",
        help="Tallene opgøres, som de så ud på denne dato. Fakta efter datoen er ukendte.",
    )


def _pick_unit(ex: Extract, viewer: Viewer, tree: OrgTree) -> str | None:
    allowed = aggregate_units(ex, viewer)
    ordered = [(u, d) for u, d in tree.depth_first() if u in allowed]
    top_depth = min(d for _, d in ordered)
    units = [u for u, _ in ordered]
    labels = _unit_labels(tree, units)
    depth = dict(ordered)
    raw = st.query_params.get(P_UNIT)
    # the URL holds the formatted option, indentation (em spaces) included
    if raw is not None and raw.lstrip("\u2003") not in labels.values() and raw not in labels:
        log_denied_unit(ex, viewer, raw)
        st.error(
            f"Enheden {url_echo(raw)} i linket findes ikke i organisationen, eller du har ikke adgang til den."
        )
        return None
    if raw in labels and P_UNIT not in st.session_state:  # a link may name the unit_id
        st.session_state[P_UNIT] = raw
    return st.sidebar.selectbox(
        "Enhed",
        units,
        key=P_UNIT,
        bind="query-params",
        format_func=lambda u: "\u2003" * (depth[u] - top_depth) + labels[u],
        help="Tallene dækker enheden og alle enheder under den.",
    )


def page_context() -> PageContext | None:
    """Sidebar filters and the viewer. None (after a clear message) if the page can't be shown.

    The viewer is resolved against the newest extract that loads, before anything else of the
    extracts (not even the picker) is shown; an older extract is then shown only within the
    scope they have today (metrics.access)."""
    if not login_gate():  # nothing of the extract, not even its dates, before login
        return None
    root = extracts_root()
    _ensure_demo(root)
    found = list_extracts(root)
    if not found:
        st.error(
            f"Der er ingen udtræk i {md_escape(str(root))}. "
            "Et udtræk er en mappe med navnet YYYY-MM-DD og manifest.json."
        )
        return None
    reported: set[date] = set()
    newest = _newest(found, reported)
    if newest is None:
        return None
    viewer = current_viewer(newest)
    if viewer is None:
        return None
    ex = _pick_extract(found, newest, reported)
    if ex is not newest and not _may_open(ex, viewer):
        return None
    as_of = _pick_as_of(ex)
    tree = org_tree(ex)
    unit = _pick_unit(ex, viewer, tree)
    if as_of is None or unit is None:
        return None
    data_note(ex)
    return PageContext(ex=ex, as_of=as_of, unit_id=unit, viewer=viewer, tree=tree)


def _may_open(ex: Extract, viewer: Viewer) -> bool:
    """An older extract: a demo persona only on a synthetic one, anyone only within today's scope."""
    if (viewer.demo and not ex.manifest.synthetic) or not aggregate_units(ex, viewer):
        show_denied(ex, viewer, current_page(), f"udtrækket {ex.as_of.isoformat()}")
        return False
    return True


def data_note(ex: Extract) -> None:
    """Every figure states that it excludes rows validation set aside; a table that kept less
    than half its rows is said loudly, at the top of every page."""
    for w in table_warnings(ex.report):
        st.error(
            f"Udtrækket er mangelfuldt: {md_escape(w['message'])}. Tallene bygger på de resterende rækker. "
            "Se siden Datakvalitet.",
            icon="🚨",
        )
    n = ex.rejected_total
    if n:
        st.sidebar.warning(
            f"Tallene udelader {fmt_num(n)} rækker, som valideringen har sat til side. Se siden Datakvalitet.",
            icon="⚠️",
        )
    st.sidebar.caption(f"{md_escape(ex.manifest.municipality)} · udtræk {fmt_date(ex.as_of)}")
