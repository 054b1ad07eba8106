"""Issue 12 in a real browser: on a phone (390 × 844) the named columns of Rådgiveroverblik,
Sag's payments and Økonomi are inside the screen, whole (not cut), without sideways scrolling;
a tile's "Vis sagerne bag tallet" shows the rows metrics finds; the Økonomi grid pins "I alt"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import polars as pl
import pytest
from playwright.sync_api import Browser, FrameLocator, expect

from metrics import drill
from metrics.access import aggregate_root, viewer_for_employee
from metrics.casework import case_detail, caseworker_cases
from metrics.extract import Extract
from metrics.org import org_tree
from metrics.scope import Scope
from tests.browser.conftest import App, Server, open_app
from tests.browser.test_pages_browser import _busiest_caseworker, _read_table
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
    # a case with payments this year: those are the grid that opens (earlier years sit behind a toggle)
    this_year = paid.filter((pl.col("posted_on") <= ex.as_of) & (pl.col("period").dt.year() == ex.as_of.year))
    case_id = str(this_year["case_id"].sort()[0])
    assert case_detail(ex, viewer, case_id, ex.as_of).payments.filter(pl.col("this_year")).height > 0
    phone.goto("sag", sag=case_id)
    _assert_on_screen(phone, _grid(phone, "sag_betalinger"), ["period", "amount"])
    phone.assert_clean()


def test_economy_on_a_phone(phone: App) -> None:
    phone.goto("oekonomi")
    grid = _grid(phone, "oek_account")
    _assert_on_screen(phone, grid, ["label", "deviation"])
    # the "I alt" row is pinned under the rows
    expect(grid.locator(".ag-floating-bottom .ag-cell[col-id='label']").first).to_have_text("I alt")
    # both charts are drawn within the screen's width (their legends, one entry per line, inside:
    # tests/test_ui_charts.py)
    charts = phone.main.locator('[data-testid="stVegaLiteChart"]')
    expect(charts).to_have_count(2)
    for chart in charts.all():
        chart.scroll_into_view_if_needed()
        drawn = chart.locator("canvas, svg.marks").first
        drawn.wait_for(state="visible")
        box = drawn.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE[0] + 0.5, box
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


def test_economy_row_opens_its_cases(app: App, small_extract: Extract) -> None:
    ex = small_extract
    viewer = viewer_for_employee(ex, str(demo_staff(ex)["employee_id"][0]))
    assert viewer is not None
    app.goto("oekonomi")
    grid = _grid(app, "oek_account")
    first = grid.locator(".ag-center-cols-container .ag-row").first
    label = first.locator('[col-id="label"]').inner_text()
    first.locator('[col-id="label"]').click()
    heading = app.main.get_by_role("heading", name=f"Sagerne bag {label}")
    expect(heading).to_be_visible()
    app.wait_ready()
    account = label.split(" ")[0]
    rows = drill.economy_group_rows(
        ex, viewer, Scope.unit(aggregate_root(ex, viewer)), ex.as_of, "account", account
    )
    assert rows.height > 0
    table = app.main.locator(
        '[data-testid="stDataFrame"] [aria-rowcount]'
    ).first  # the first: above the top 10
    # the header row, one row per case, and "I alt"
    expect(table).to_have_attribute("aria-rowcount", str(rows.height + 2))
    app.assert_clean()


def test_compare_export_has_numbers_and_words(app: App, small_extract: Extract, tmp_path: Path) -> None:
    app.goto("sammenlign")
    expect(app.main.locator('[data-testid="stDataFrame"]').first).to_be_visible()  # a summary table
    button = app.main.locator(".st-key-xlsx_cmp_kpis button").first
    with app.page.expect_download() as info:
        button.click()
    download = info.value
    assert download.suggested_filename.startswith("noegletal_foer_og_nu_")
    assert download.suggested_filename.endswith(f"_{small_extract.as_of.isoformat()}.xlsx")
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    _, table = _read_table(target)
    assert table
    words = {"Forbedret", "Forværret", "Uændret", "Ændret (ingen retning)", "Mangler data"}
    for row in table:
        now = row[next(k for k in row if k.startswith("Nu ("))]
        assert now is None or isinstance(now, (int, float)), row  # a number, not text
        assert row["Udvikling"] in words, row  # a word, no icon
    app.assert_clean()


def test_cascade_cell_opens_its_unit(app: App, small_extract: Extract) -> None:
    ex = small_extract
    viewer = viewer_for_employee(ex, str(demo_staff(ex)["employee_id"][0]))
    assert viewer is not None
    root = aggregate_root(ex, viewer)
    tree = org_tree(ex)
    first_child = sorted(tree.children[root], key=lambda u: (tree.label(u), u))[0]  # metrics' cascade order
    app.goto("")
    grid = app.main.locator('[data-testid="stDataFrame"]').last  # the cascade, the page's only table
    grid.scroll_into_view_if_needed()
    expect(grid).to_be_visible()
    box = grid.bounding_box()
    assert box is not None
    # the first data row (under the 35 px header), a KPI cell right of the unit names
    app.page.mouse.click(box["x"] + box["width"] - 40, box["y"] + 35 + 17)

    def opened(url: str) -> bool:  # the URL names the child, by id or by its (indented) label
        got = parse_qs(urlparse(url).query).get("enhed", [""])[0]
        return got == first_child or got.strip() == tree.label(first_child)

    app.page.wait_for_url(opened)
    app.wait_ready()
    app.assert_clean()


def test_scorecard_tiles_fold_to_value_and_status_on_a_phone(phone: App, app: App) -> None:
    phone.goto()
    tiles = phone.main.locator('[class*="st-key-tile_"]:not([class*="st-key-tile_more_"])')
    first = tiles.first
    expect(first.locator('[data-testid="stMetricValue"]')).to_be_visible()
    expect(first.locator('[data-testid="stMarkdown"]').first).to_be_visible()  # the status badge
    # the trend, notes, actions and definition are folded away, and the page says where they are
    for more in phone.main.locator('[class*="st-key-tile_more_"]').all():
        expect(more).to_be_hidden()
    expect(phone.main.locator('[class*="st-key-phone_only_scorecard"]')).to_be_visible()
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= PHONE[0]
    phone.assert_clean()

    # on a wide screen the same tile shows its trend, and the phone's note is not there
    app.goto()
    expect(app.main.locator('[class*="st-key-tile_more_"]').first).to_be_visible()
    expect(app.main.locator('[class*="st-key-tile_more_"] [data-testid="stVegaLiteChart"]').first).to_be_visible()
    expect(app.main.locator('[class*="st-key-phone_only_scorecard"]')).to_be_hidden()
    app.assert_clean()
