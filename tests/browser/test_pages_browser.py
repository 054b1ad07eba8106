"""The app in a real browser: every page opens clean, the unit filter changes the figures,
the caseworker overview links to a case, and an Excel download reads back with metrics' figures.

The server runs the small generated extracts (tests/conftest.py `small_root`); the expected
figures come from `metrics` on the same extract, formatted with ui.fmt as the pages do.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import openpyxl
import polars as pl
import pytest
from playwright.sync_api import Browser, Locator, expect

from metrics import registry
from metrics.access import viewer_for_employee
from metrics.casework import caseload, caseworker_cases, caseworkers_visible
from metrics.extract import Extract
from metrics.org import org_tree
from metrics.scope import Scope
from metrics.scorecard import load_scorecard
from tests.browser.conftest import App, open_app, running_server
from ui.auth import demo_staff
from ui.fmt import fmt_date, fmt_num, fmt_pct

pytestmark = pytest.mark.browser


def _router_pages() -> list[tuple[str, str]]:
    """(url path, title) of every st.Page in app.py, so a page added there is tested here too.
    The default page lives at /."""
    source = (Path(__file__).resolve().parents[2] / "app.py").read_text(encoding="utf-8")
    pages = [
        ("" if "default=True" in m.group(0) else m.group("url"), m.group("title"))
        for m in re.finditer(
            r'st\.Page\([^)]*?title="(?P<title>[^"]+)"[^)]*?url_path="(?P<url>[^"]+)"[^)]*\)', source
        )
    ]
    assert len(pages) >= 8, f"could not read the pages from app.py: {pages}"
    return pages


PAGES = _router_pages()


def _wait_grids(app: App) -> None:
    """AgGrid renders in a component iframe after the script run; wait for every grid's rows
    so console errors from the grid are caught too."""
    frames = app.main.locator('iframe[title*="st_aggrid"]')
    for i in range(frames.count()):
        app.page.frame_locator(f'iframe[title*="st_aggrid"] >> nth={i}').locator(".ag-root-wrapper").wait_for(
            state="visible"
        )


def _unit_options(ex: Extract) -> tuple[str, str]:
    """The root and the team with the most active cases, as labels shown in the unit selectbox."""
    tree = org_tree(ex)
    teams = [u for u, level in tree.level.items() if level == "team"]
    team = max(
        teams, key=lambda u: (registry.compute(ex, "aktive_sager", Scope.unit(u), ex.as_of).value or 0, u)
    )
    return tree.root, team


@pytest.mark.parametrize(("path", "title"), PAGES, ids=[p or "scorecard" for p, _ in PAGES])
def test_page_opens_without_errors(app: App, small_extract: Extract, path: str, title: str) -> None:
    app.goto(path)
    _wait_grids(app)
    # The page is the one asked for, and its shared context was drawn from the served extract.
    nav_link = app.sidebar.locator(f'[data-testid="stSidebarNavLink"][href$="/{path}"]')
    expect(nav_link).to_have_attribute("aria-current", "page")
    expect(nav_link).to_contain_text(title)  # the router's navigation, not a legacy pages/ listing
    expect(app.sidebar).to_contain_text(fmt_date(small_extract.as_of))
    expect(app.sidebar).to_contain_text(small_extract.manifest.municipality)
    assert app.main.inner_text().strip(), f"{title}: the main area is empty"
    app.assert_clean()


def test_copied_link_opens_in_the_router_on_a_fresh_server(
    browser: Browser, small_root: Path, tmp_path: Path
) -> None:
    """A link someone copied, opened first thing after the server (re)started."""
    with running_server(small_root, tmp_path) as fresh, open_app(browser, fresh) as app:
        app.goto("oekonomi")
        nav_link = app.sidebar.locator('[data-testid="stSidebarNavLink"][href$="/oekonomi"]')
        expect(nav_link).to_have_attribute("aria-current", "page")
        expect(nav_link).to_contain_text("Økonomi", timeout=5_000)


def _metric(app: App, label: str) -> Locator:
    """The value of the first st.metric tile whose label contains `label`."""
    tile = app.main.locator('[data-testid="stMetric"]').filter(
        has=app.page.locator('[data-testid="stMetricLabel"]', has_text=label)
    )
    return tile.first.locator('[data-testid="stMetricValue"]')


def test_changing_unit_changes_the_figures(app: App, small_extract: Extract) -> None:
    ex = small_extract
    tree = org_tree(ex)
    root, team = _unit_options(ex)
    # The scorecard tile for sick leave shows metrics' value for the chosen unit.
    spec = next(k for k in load_scorecard().kpis if k.metric == "sygefravaer_pct")
    root_value = registry.compute(ex, "sygefravaer_pct", Scope.unit(root), ex.as_of).value
    team_value = registry.compute(ex, "sygefravaer_pct", Scope.unit(team), ex.as_of).value
    assert root_value is not None and team_value is not None
    assert round(root_value, 1) != round(team_value, 1), "fixture: the team must differ from the root"

    app.goto("")
    tile = _metric(app, spec.name)
    expect(tile).to_have_text(fmt_pct(root_value))
    app.select("Enhed", tree.label(team))
    # The URL carries the new unit once the rerun it triggered has started; then wait for it to end.
    app.page.wait_for_url(re.compile(r"[?&]enhed="))
    app.wait_ready()
    expect(tile).to_have_text(fmt_pct(team_value))
    app.assert_clean()


def _busiest_caseworker(ex: Extract) -> str:
    """Of the caseworkers the page offers the demo's default viewer (the head of the top unit),
    the one with the most active cases (ties broken by id), so the table has rows."""
    viewer = viewer_for_employee(ex, str(demo_staff(ex)["employee_id"][0]))
    assert viewer is not None
    offered = caseworkers_visible(ex, viewer, ex.as_of)["employee_id"].to_list()
    assert offered, "fixture: the default viewer sees no caseworker"
    return max(offered, key=lambda e: (caseload(ex, viewer, e, ex.as_of).active_cases.value or 0, e))


def test_caseworker_overview_links_to_the_case(app: App, small_extract: Extract) -> None:
    ex = small_extract
    cw = _busiest_caseworker(ex)
    app.goto("raadgiver", raadgiver=cw)
    link = app.main.locator('[data-testid="stPageLink"] a', has_text="Åbn sag").first
    expect(link).to_be_visible()
    case_id = parse_qs(urlparse(link.get_attribute("href") or "").query)["sag"][0]
    # The link leads to a case of this caseworker, as metrics lists them.
    cases = caseworker_cases(ex, viewer_for_employee(ex, cw), cw, ex.as_of)
    assert case_id in cases["case_id"].to_list()

    link.click()
    app.page.wait_for_url(re.compile(rf"/sag\?.*sag={re.escape(case_id)}"))
    app.wait_ready()
    expect(app.main.locator("h1")).to_contain_text("Sag")
    # The case's expected cost this year, as the case page shows it, equals metrics' figure.
    row = cases.filter(pl.col("case_id") == case_id).row(0, named=True)
    expect(app.main).to_contain_text(fmt_num(row["expected"]))
    app.assert_clean()


def _read_table(path: Path) -> tuple[dict[str, str], list[dict[str, object]]]:
    """ui/export.py's layout: title in A1, "Key:" / value lines, an empty row, then the table."""
    ws = openpyxl.load_workbook(path, data_only=True).active
    assert ws is not None
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    filters: dict[str, str] = {}
    i = 1
    while i < len(rows) and rows[i][0] is not None:
        filters[str(rows[i][0]).rstrip(":")] = str(rows[i][1])
        i += 1
    header = [str(h) for h in rows[i + 1] if h is not None]
    table = [dict(zip(header, r, strict=False)) for r in rows[i + 2 :] if any(v is not None for v in r)]
    return filters, table


def test_excel_download_reads_back_with_metrics_figures(
    app: App, small_extract: Extract, tmp_path: Path
) -> None:
    ex = small_extract
    cw = _busiest_caseworker(ex)
    app.goto("raadgiver", raadgiver=cw)
    _wait_grids(app)
    button = app.main.locator('[data-testid="stDownloadButton"] button', has_text="Excel").first
    with app.page.expect_download() as info:
        button.click()
    download = info.value
    assert download.suggested_filename.endswith(f"_{ex.as_of.isoformat()}.xlsx")  # unit and extract date
    target = tmp_path / download.suggested_filename
    download.save_as(target)

    filters, table = _read_table(target)
    name = ex["employees"].filter(pl.col("employee_id") == cw)["name"][0]
    assert filters["Rådgiver"] == name
    assert filters["Opgørelsesdato"] == fmt_date(ex.as_of)
    expected = caseworker_cases(ex, viewer_for_employee(ex, cw), cw, ex.as_of)
    *rows, total = table
    # the file ends with "I alt": the caseworker's totals, as the page shows them under the grid
    assert total["Sag"] == "I alt"
    assert total["Forventet i år"] == pytest.approx(expected["expected"].sum(), abs=0.01)
    by_case = {r["Sag"]: r for r in rows}
    assert sorted(by_case) == sorted(expected["case_id"].to_list())
    for r in expected.iter_rows(named=True):
        got = by_case[r["case_id"]]
        assert got["Forventet i år"] == pytest.approx(r["expected"], abs=0.005), r["case_id"]
        assert got["Forbrug i år"] == pytest.approx(r["actual"], abs=0.005), r["case_id"]
    app.assert_clean()


def test_meeting_pack_downloads_and_opens(app: App, small_extract: Extract, tmp_path: Path) -> None:
    """Økonomimøde's one button gives both files (in one zip), named by unit and extract
    date; the workbook's I alt row and the PDF's totals are metrics' figures."""
    import io
    import zipfile

    from pypdf import PdfReader

    from metrics.loader import load_extract
    from metrics.meeting import agenda
    from metrics.pack import file_names

    app.goto("moede")
    _wait_grids(app)
    button = app.main.locator('[data-testid="stDownloadButton"] button', has_text="Hent mødepakke").first
    with app.page.expect_download() as info:
        button.click()
    download = info.value
    target = tmp_path / download.suggested_filename
    download.save_as(target)

    viewer = viewer_for_employee(small_extract, str(demo_staff(small_extract)["employee_id"][0]))
    assert viewer is not None
    earlier = sorted(p for p in small_extract.path.parent.iterdir() if p.name < small_extract.path.name)[-1]  # type: ignore[union-attr]
    unit = viewer.unit_id or org_tree(small_extract).root
    a = agenda(small_extract, load_extract(earlier), unit, viewer, load_scorecard())
    xlsx_name, pdf_name = file_names(a)
    assert download.suggested_filename == xlsx_name.replace(".xlsx", ".zip")
    with zipfile.ZipFile(target) as z:
        assert sorted(z.namelist()) == sorted([xlsx_name, pdf_name])
        wb = openpyxl.load_workbook(io.BytesIO(z.read(xlsx_name)))
        pdf = PdfReader(io.BytesIO(z.read(pdf_name)))
    ws = wb["Økonomi pr. konto"]
    total = next(r for r in ws.iter_rows(values_only=True) if r[0] == "I alt")
    assert total[4] == pytest.approx(a.economy.expected)
    text = " ".join(" ".join(p.extract_text().split()) for p in pdf.pages)
    assert fmt_num(a.economy.expected) + " kr." in text
    app.assert_clean()
