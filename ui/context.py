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

from metrics.access import Viewer, aggregate_units, viewer_for_employee, within_for
from metrics.extract import Extract
from metrics.loader import ExtractRefused, list_extracts, load_extract, table_warnings, unreadable
from metrics.org import OrgTree, org_tree
from metrics.scope import Scope
from ui.auth import (
    P_VIEW_AS,
    auth_configured,
    current_page,
    current_viewer,
    demo_enabled,
    demo_staff,
    log_denied_unit,
    login_gate,
    show_denied,
)
from ui.fmt import fmt_date, fmt_num, md_escape, url_echo

REPO = Path(__file__).resolve().parent.parent
DEMO_ROOT = REPO / "data" / "extracts"
EARLIEST = date(2021, 1, 1)

# URL parameter names (Danish: they are what users see in a copied link)
P_EXTRACT, P_AS_OF, P_UNIT = "udtraek", "dato", "enhed"


# The sidebar's view, as last written to the URL. Every run writes the whole view (extract, date,
# unit id) into the address bar, so a copied link reopens exactly it, also after a page switch
# (which empties the URL) and after a newer extract has arrived.
_VIEW = "_url_view"


def _link_value(key: str) -> str | None:
    """The URL's value for `key` if a link or the user put it there (not if this app wrote it)."""
    raw = st.query_params.get(key)
    if raw is None or st.session_state.get(_VIEW, {}).get(key) == raw:
        return None
    return raw


def _restore(key: str, options: list[str]) -> None:
    """Give the widget the view's value explicitly: on a page switch the new page's widget would
    otherwise start from its default."""
    current = st.session_state.get(key)
    if current not in options:
        current = st.session_state.get(_VIEW, {}).get(key)
    if current in options:
        st.session_state[key] = current
    elif key in st.session_state:
        del st.session_state[key]


_LINK_ERRORS = "_link_errors"


def _link_error(message: str) -> None:
    """Say what in a link was wrong, also when the run is restarted to rebuild the menu."""
    st.error(message)
    st.session_state.setdefault(_LINK_ERRORS, []).append(message)


def _remember(key: str, value: str) -> None:
    st.session_state.setdefault(_VIEW, {})[key] = value
    if st.query_params.get(key) != value:
        st.query_params[key] = value


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
    # the units of the unit's subtree the viewer may see, when an older extract's subtree holds
    # units outside their scope today (metrics.access.within_for); None: the whole subtree
    within: frozenset[str] | None = None

    @property
    def scope(self) -> Scope:
        return Scope.unit(self.unit_id, self.within)

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
    labels = {iso: fmt_date(date.fromisoformat(iso)) for iso in options}
    by_label = {v: k for k, v in labels.items()}
    raw = _link_value(P_EXTRACT)
    if raw is not None:  # a link may name it by ISO date or by its Danish label
        if raw in labels or raw in by_label:
            st.session_state[P_EXTRACT] = by_label.get(raw, raw)
        else:
            _link_error(f"Udtrækket {url_echo(raw)} i linket findes ikke. Vælg et udtræk i menuen.")
    _restore(P_EXTRACT, options)
    chosen = st.sidebar.selectbox(
        "Udtræk",
        options,
        key=P_EXTRACT,
        persist_state="session",
        format_func=labels.__getitem__,
        help="Udtrækkene er dannet hver 14. dag. Det nyeste vises som standard.",
    )
    by_iso = {d.isoformat(): (d, p) for d, p in found}
    ex = newest
    if chosen is not None and chosen != newest.as_of.isoformat():
        loaded = _try_load(*by_iso[chosen], reported)
        if loaded is None:  # refused (said why): the newest one that loads stays usable
            st.warning(f"Viser i stedet udtrækket {fmt_date(newest.as_of)}.")
        else:
            ex = loaded
    _remember(P_EXTRACT, ex.as_of.isoformat())
    return ex


def url_date(raw: str) -> date | None:
    """A date from a link (YYYY-MM-DD, also with slashes), or None after an error echoing it."""
    # fromisoformat alone would also take 20260115 and 2026-W03-4, which the widget drops
    text = raw.replace("/", "-")
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    st.error(f"Datoen {url_echo(raw)} i linket er ikke en gyldig dato (ÅÅÅÅ-MM-DD).")
    return None


def _pick_as_of(ex: Extract) -> date | None:
    raw = _link_value(P_AS_OF)
    if raw is not None:
        parsed = url_date(raw)
        if parsed is None:
            return None
        if not EARLIEST <= parsed <= ex.as_of:
            st.error(
                f"Datoen {fmt_date(parsed)} i linket ligger uden for udtrækket "
                f"({fmt_date(EARLIEST)} – {fmt_date(ex.as_of)})."
            )
            return None
        st.session_state[P_AS_OF] = parsed
    current = st.session_state.get(P_AS_OF)
    if not isinstance(current, date):
        remembered = st.session_state.get(_VIEW, {}).get(P_AS_OF)
        current = date.fromisoformat(remembered) if remembered else ex.as_of
    # explicitly, as _restore does; an older extract ends before the chosen date: its last day
    st.session_state[P_AS_OF] = current if EARLIEST <= current <= ex.as_of else ex.as_of
    chosen = st.sidebar.date_input(
        "Opgørelsesdato",
        min_value=EARLIEST,
        max_value=ex.as_of,
        key=P_AS_OF,
        persist_state="session",
        format="DD.MM.YYYY",
        help="Tallene opgøres, som de så ud på denne dato. Fakta efter datoen er ukendte. "
        "Skriv en dato og tryk Enter, eller vælg i kalenderen.",
    )
    if isinstance(chosen, date):
        _remember(P_AS_OF, chosen.isoformat())
        return chosen
    return None


P_BEFORE = "foer"  # the earlier extract's URL parameter (Sammenlign udtræk, Økonomimøde)
_NO_EARLIER = "ingen"  # "compare with nothing"


def pick_earlier(ctx: PageContext, label: str, help: str, nothing: str | None = None) -> Path | None:
    """The extract before the chosen one to compare with (URL `foer`, default: the one just
    before). `nothing` labels an extra "compare with nothing" option, which gives None, as does
    having no earlier extract without it. A link's unknown extract is echoed escaped."""
    older = [(d, p) for d, p in list_extracts(extracts_root()) if d < ctx.ex.as_of]
    paths = {d.isoformat(): p for d, p in older}
    labels = {iso: fmt_date(d) for iso, (d, _) in zip(paths, older, strict=True)}
    if nothing is not None:
        labels[_NO_EARLIER] = nothing
    options = list(labels)
    if not options:
        return None
    raw = st.query_params.get(P_BEFORE)
    if st.session_state.get(P_BEFORE) not in (None, *options):  # left over from another extract
        del st.session_state[P_BEFORE]
    if raw in labels and P_BEFORE not in st.session_state:  # a link may name it by ISO date
        st.session_state[P_BEFORE] = raw
    elif raw is not None and raw not in labels and raw not in labels.values():
        st.error(
            f"Udtrækket {url_echo(raw)} i linket (foer) findes ikke blandt udtrækkene før "
            f"{fmt_date(ctx.ex.as_of)}. Viser i stedet udtrækket lige før; vælg et andet herunder."
        )
    chosen = st.selectbox(
        label, options, key=P_BEFORE, bind="query-params", format_func=labels.__getitem__, help=help
    )
    return paths.get(chosen or options[0])


def _pick_unit(ex: Extract, viewer: Viewer, tree: OrgTree) -> str | None:
    allowed = aggregate_units(ex, viewer)
    ordered = [(u, d) for u, d in tree.depth_first() if u in allowed]
    top_depth = min(d for _, d in ordered)
    units = [u for u, _ in ordered]
    labels = _unit_labels(tree, units)
    depth = dict(ordered)
    raw = _link_value(P_UNIT)
    if raw is not None:
        # the URL holds the unit id; older links hold the shown label (em-space indentation included)
        by_label = {v: k for k, v in labels.items()}
        found = raw if raw in labels else by_label.get(raw.strip("\u2003 "))
        if found is None:
            log_denied_unit(ex, viewer, raw)
            _link_error(
                f"Enheden {url_echo(raw)} i linket findes ikke i organisationen, eller du har ikke adgang til den."
            )
            return None
        st.session_state[P_UNIT] = found
    _restore(P_UNIT, units)
    chosen = st.sidebar.selectbox(
        "Enhed",
        units,
        key=P_UNIT,
        persist_state="session",
        format_func=lambda u: "\u2003" * (depth[u] - top_depth) + labels[u],
        help="Tallene dækker enheden og alle enheder under den.",
    )
    if chosen is not None:
        _remember(P_UNIT, chosen)
    return chosen


# A style-only st.html goes to the event container (no space in the page); it is a constant:
# nothing from an extract or a URL is in it.
# 1. Streamlit draws a toolbar over every chart and st.dataframe ("Show data", "Download as PNG",
#    "Search", "Fullscreen"), in English and with no option to turn it off; Vega's own action menu
#    is already off. The shared table has its own downloads.
# 2. A headline figure (ui.tables.show_figures) is one unit: never broken across lines, shrunk to
#    fit its box (15 characters at ~0.55 em each fit in the box at 12 % of its width per em).
# 3. On a phone (up to 640 px) a container keyed TILE_MORE… is folded away (a scorecard tile is
#    its value and status there), and one keyed PHONE_ONLY… is shown only there.
TILE_MORE, PHONE_ONLY = "tile_more_", "phone_only_"
_PHONE = "@media (max-width: 640px)"
_APP_STYLE = (
    "<style>"
    '[data-testid="stElementToolbar"] { display: none !important; }'
    '[class*="st-key-headline-"] { container-type: inline-size; }'
    '[class*="st-key-headline-"] h4 { white-space: nowrap; font-size: min(1.5rem, 12cqi); }'
    f'[class*="st-key-{PHONE_ONLY}"] {{ display: none !important; }}'
    f'{_PHONE} {{ [class*="st-key-{TILE_MORE}"] {{ display: none !important; }} '
    f'[class*="st-key-{PHONE_ONLY}"] {{ display: flex !important; }} }}'
    "</style>"
)


def hide_english_toolbars() -> None:
    st.html(_APP_STYLE)


def page_context() -> PageContext | None:
    """Sidebar filters and the viewer. None (after a clear message) if the page can't be shown.

    The viewer is resolved against the newest extract that loads, before anything else of the
    extracts (not even the picker) is shown; an older extract is then shown only within the
    scope they have today (metrics.access)."""
    if not login_gate():  # nothing of the extract, not even its dates, before login
        return None
    hide_english_toolbars()
    for message in st.session_state.pop(_LINK_ERRORS, []):  # from a run restarted for the menu
        st.error(message)
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
    _offer_pages_for(viewer)
    ex = _pick_extract(found, newest, reported)
    if ex is not newest and not _may_open(ex, viewer):
        return None
    as_of = _pick_as_of(ex)
    tree = org_tree(ex)
    unit = _pick_unit(ex, viewer, tree)
    if as_of is None or unit is None:
        return None
    data_note(ex)
    within = within_for(ex, viewer, unit)
    if within is not None:
        left_out_note(ex, tree, unit, within)
    return PageContext(ex=ex, as_of=as_of, unit_id=unit, viewer=viewer, tree=tree, within=within)


def note_left_out(ex: Extract, viewer: Viewer, unit: str) -> None:
    """The caption of `left_out_note` for a second extract a page compares with (if any left out)."""
    within = within_for(ex, viewer, unit)
    if within is not None:
        left_out_note(ex, org_tree(ex), unit, within)


def left_out_note(ex: Extract, tree: OrgTree, unit: str, within: frozenset[str]) -> None:
    """Say which units of an older extract the unit's figures leave out (outside today's scope)."""
    gone = sorted(tree.subtree(unit) - within, key=lambda u: (tree.label(u), u))
    names = ", ".join(md_escape(tree.label(u)) for u in gone)
    st.caption(
        f"Tallene for {md_escape(tree.label(unit))} i udtrækket {fmt_date(ex.as_of)} udelader "
        f"{'enheden' if len(gone) == 1 else 'enhederne'} {names}, som ikke hører under det, "
        "du har adgang til i dag."
    )


def _may_open(ex: Extract, viewer: Viewer) -> bool:
    """An older extract: a demo persona only on a synthetic one, anyone only within today's scope."""
    if (viewer.demo and not ex.manifest.synthetic) or not aggregate_units(ex, viewer):
        show_denied(ex, viewer, current_page(), f"udtrækket {ex.as_of.isoformat()}")
        return False
    return True


# Pages offered in the menu only to viewers who may use them (app.py builds the menu). A URL naming
# one still opens it, and the page itself refuses and logs the attempt.
_HIDDEN_PAGES = "_nav_hidden"
CASE_PAGES = frozenset({"raadgiver", "sag"})
AUDIT_PAGES = frozenset({"revisionslog"})
MEETING_PAGES = frozenset({"moede"})  # team leaders, leaders and administration


def hidden_pages() -> frozenset[str]:
    """URL paths of the pages not offered to the current viewer (before login: the audit log)."""
    hidden = st.session_state.get(_HIDDEN_PAGES)
    if isinstance(hidden, frozenset):
        return hidden
    guess = _demo_default_hidden()
    if guess is None:
        return AUDIT_PAGES
    st.session_state[_HIDDEN_PAGES] = guess  # the menu this run is built with
    return guess


def _demo_default_hidden() -> frozenset[str] | None:
    """A session's first run in the demo, before its page has found the viewer: the pages the
    default persona is not offered. app.py builds the menu before the page runs, so without this
    guess every new session's first page ran twice (the second time for the menu). The page still
    decides (`_offer_pages_for`); a wrong guess costs that second run, nothing else."""
    if auth_configured() or P_VIEW_AS in st.session_state:
        return None
    found = list_extracts(extracts_root())
    if not found:
        return None
    try:
        ex = load_cached(found[0][1])
    except ExtractRefused:
        return None
    if not demo_enabled(ex):
        return None
    ids = demo_staff(ex)["employee_id"].to_list()
    viewer = viewer_for_employee(ex, str(ids[0])) if ids else None
    return None if viewer is None else pages_hidden_for(viewer)


def pages_hidden_for(viewer: Viewer) -> frozenset[str]:
    from metrics.audit import can_read_audit

    return (
        (frozenset() if viewer.sees_case_rows else CASE_PAGES)
        | (frozenset() if can_read_audit(viewer) else AUDIT_PAGES)
        | (MEETING_PAGES if viewer.role == "raadgiver" else frozenset())
    )


def _offer_pages_for(viewer: Viewer) -> None:
    """Rebuild the menu once when the viewer (a login, a demo persona) changes what it offers."""
    hidden = pages_hidden_for(viewer)
    if hidden != hidden_pages():
        st.session_state[_HIDDEN_PAGES] = hidden
        st.rerun()  # keeps _LINK_ERRORS for the next run
    st.session_state[_HIDDEN_PAGES] = hidden
    st.session_state.pop(_LINK_ERRORS, None)


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
