"""Issue 12 in a real browser: on a phone (390 × 844) the named columns of Rådgiveroverblik,
Sag's payments and Økonomi are inside the screen, whole (not cut), without sideways scrolling;
a tile's "Vis sagerne bag tallet" shows the rows metrics finds; the Økonomi grid pins "I alt"."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import polars as pl
import pytest
from playwright.sync_api import Browser, FrameLocator, expect

from metrics import drill
from metrics.access import aggregate_root, viewer_for_employee
from metrics.casework import case_detail, caseworker_cases
from metrics.extract import Extract
from metrics.scope import Scope
from tests.browser.conftest import App, Server, open_app
from tests.browser.test_pages_browser import _busiest_caseworker
from ui.auth import demo_staff
from ui.fmt import fmt_num

pytestmark = pytest.mark.browser
PHONE = (390, 844)


@pytest.fixture
def phone(browser: Browser, server: Server) -> Iterator[App]:
    with open_app(browser, server, viewport=PHONE) as a:
        yield a


def _grid(app: App, key: str) -> FrameLocator:
    """The AgGrid of show_table `key` (its element carries the class st-key-grid_<key>)."""
    holder = app.main.locator(f".st-key-grid_{key} iframe")
    holder.scroll_into_view_if_needed()
    frame = holder.content_frame
    frame.locator(".ag-row").first.wait_for(state="visible")
    return frame


def _assert_on_screen(app: App, grid: FrameLocator, columns: list[str]) -> None:
    """Each column's header and first cell lie within the viewport's width, and the cell's text
    is not cut off (no ellipsis: its content fits its width)."""
    width = PHONE[0]
    for col in columns:
        for cell in (
            grid.locator(f'.ag-header-cell[col-id="{col}"]'),
            grid.locator(f'.ag-row .ag-cell[col-id="{col}"]').first,
        ):
            box = cell.bounding_box()  # page coordinates, iframe offset included
            assert box is not None, col
            assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, (col, box)
        cut = grid.locator(f'.ag-row .ag-cell[col-id="{col}"]').first.evaluate(
            "el => { const v = el.querySelector('.ag-cell-value') || el; return v.scrollWidth > v.clientWidth + 1; }"
        )
        assert not cut, f"{col}: the value is cut off"
    # no sideways scrolling of the page itself
    assert app.page.evaluate("document.documentElement.scrollWidth") <= width


def test_caseworker_overview_on_a_phone(phone: App, small_extract: Extract) -> None:
    cw = _busiest_caseworker(small_extract)
    phone.goto("raadgiver", raadgiver=cw)
    grid = _grid(phone, "raadgiver_sager")
    _assert_on_screen(phone, grid, ["case_id", "status", "expected"])
    # the first row is metrics' first case, with its expected cost
    first = caseworker_cases(
        small_extract, viewer_for_employee(small_extract, cw), cw, small_extract.as_of
    ).row(0, named=True)
    row = grid.locator(".ag-row").first
    expect(row.locator('[col-id="case_id"]')).to_have_text(first["case_id"])
    expect(row.locator('[col-id="expected"]')).to_contain_text(fmt_num(first["expected"]))
    phone.assert_clean()


def test_case_payments_on_a_phone(phone: App, small_extract: Extract) -> None:
    ex = small_extract
    viewer = viewer_for_employee(ex, str(demo_staff(ex)["employee_id"][0]))
    assert viewer is not None
    paid = ex["payments"].join(ex["interventions"].select("intervention_id", "case_id"), on="intervention_id")
    case_id = str(paid.filter(pl.col("posted_on") <= ex.as_of)["case_id"].sort()[0])
    assert case_detail(ex, viewer, case_id, ex.as_of).payments.height > 0
    phone.goto("sag", sag=case_id)
    _assert_on_screen(phone, _grid(phone, "sag_betalinger"), ["period", "amount"])
    phone.assert_clean()


def test_economy_on_a_phone(phone: App) -> None:
    phone.goto("oekonomi")
    grid = _grid(phone, "oek_account")
    _assert_on_screen(phone, grid, ["label", "deviation"])
    # the "I alt" row is pinned under the rows
    expect(grid.locator(".ag-floating-bottom .ag-cell[col-id='label']").first).to_have_text("I alt")
    phone.assert_clean()


def test_tile_rows_in_the_browser(app: App, small_extract: Extract) -> None:
    ex = small_extract
    app.goto("")
    button = app.main.get_by_role("button", name="Vis sagerne bag tallet").first
    button.click()
    app.wait_ready()
    expect(app.main.get_by_text("Bag tallet:", exact=False).first).to_be_visible()
    assert "bag=" in app.page.url  # the URL keeps the open rows
    viewer = viewer_for_employee(ex, str(demo_staff(ex)["employee_id"][0]))
    assert viewer is not None
    kpi = parse_qs(urlparse(app.page.url).query)["bag"][0]
    rows = drill.deadline_rows(
        ex, viewer, Scope.unit(aggregate_root(ex, viewer)), ex.as_of, drill.DEADLINE_KINDS[kpi]
    )
    frame = app.main.locator('[data-testid="stDataFrame"]').first
    expect(frame).to_be_visible()
    # the grid reports its row count to assistive technology: the header row + the rows
    expect(frame.locator("[aria-rowcount]").first).to_have_attribute("aria-rowcount", str(rows.height + 1))
    app.assert_clean()
