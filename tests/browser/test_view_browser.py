"""In a real browser: the address bar keeps the whole view after a page switch from the menu, and
the menu offers only the pages the viewer may use."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import polars as pl
import pytest
from playwright.sync_api import expect

from metrics.extract import Extract
from metrics.org import org_tree
from tests.browser.conftest import App
from ui.auth import demo_staff

pytestmark = pytest.mark.browser


def _url_params(app: App) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(app.page.url).query).items()}


def _menu(app: App) -> list[str]:
    return [t.strip() for t in app.sidebar.locator('[data-testid="stSidebarNavLink"]').all_inner_texts()]


def test_view_survives_a_page_switch_from_the_menu(app: App, small_extract: Extract) -> None:
    tree = org_tree(small_extract)
    team = sorted(u for u, level in tree.level.items() if level == "team")[0]
    # an older link: the unit by its shown label, em-space indentation included
    app.goto("oekonomi", udtraek="2026-11-06", dato="2026-10-01", enhed="\u2003\u2003" + tree.label(team))
    want = {"udtraek": "2026-11-06", "dato": "2026-10-01", "enhed": team}
    app.page.wait_for_url(lambda url: {k: parse_qs(urlparse(url).query).get(k, [""])[0] for k in want} == want)
    app.sidebar.locator('[data-testid="stSidebarNavLink"][href$="/underretninger"]').click()
    app.page.wait_for_url("**/underretninger?**")
    app.wait_ready()
    assert {k: _url_params(app).get(k) for k in want} == want
    expect(app.sidebar).to_contain_text("6. nov. 2026")  # the older extract is still the one shown
    app.assert_clean()


def _persona(ex: Extract, role: str) -> str:
    """The "Vis som" option text of the first employee with `role` (ui.auth's label)."""
    from metrics.access import ROLE_LABELS

    tree = org_tree(ex)
    r = demo_staff(ex).filter(pl.col("role") == role).row(0, named=True)
    return f"{r['name']} – {ROLE_LABELS[r['role']]}, {tree.label(r['unit_id'])}"


def test_menu_offers_only_the_pages_the_viewer_may_use(app: App, small_extract: Extract) -> None:
    app.goto()
    expect(app.sidebar.locator('[data-testid="stSidebarNavLink"][href$="/revisionslog"]')).to_have_count(1)
    assert {"Sag", "Rådgiveroverblik", "Revisionslog"} <= {m.split("\n")[-1] for m in _menu(app)}

    app.select("Vis som", _persona(small_extract, "raadgiver"))
    expect(app.sidebar.locator('[data-testid="stSidebarNavLink"][href$="/revisionslog"]')).to_have_count(0)
    expect(app.sidebar.locator('[data-testid="stSidebarNavLink"][href$="/sag"]')).to_have_count(1)

    app.select("Vis som", _persona(small_extract, "administration"))
    for path in ("revisionslog", "sag", "raadgiver"):
        expect(app.sidebar.locator(f'[data-testid="stSidebarNavLink"][href$="/{path}"]')).to_have_count(0)
    expect(app.sidebar.locator('[data-testid="stSidebarNavLink"][href$="/oekonomi"]')).to_have_count(1)
    app.assert_clean()
