"""A team leader's explanation in a real browser: written on a red KPI's tile, still there
after a reload (a new session: it is stored, not held in the page), shown on Økonomimøde and
carried by the meeting pack, whose two files open."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from metrics.access import ROLE_LABELS
from metrics.extract import Extract
from metrics.org import org_tree
from metrics.scorecard import for_extract, load_scorecard, scorecard_details
from tests.browser.conftest import App
from ui.auth import demo_staff

pytestmark = pytest.mark.browser

TEXT = "To sygemeldte i teamet; vikar fra 1. december <b>ikke fed</b>"


def _team_leader_with_a_red_kpi(ex: Extract) -> tuple[str, str, str]:
    """(persona label in "Vis som", their unit, a red KPI's id on their tile)."""
    tree, card = org_tree(ex), for_extract(ex, load_scorecard())
    for r in demo_staff(ex).filter(demo_staff(ex)["role"] == "teamleder").iter_rows(named=True):
        red = [
            d.spec.id for d in scorecard_details(ex, card, r["unit_id"], ex.as_of) if d.row.status == "red"
        ]
        if red:
            label = f"{r['name']} – {ROLE_LABELS['teamleder']}, {tree.label(r['unit_id'])}"
            return label, r["unit_id"], red[0]
    raise AssertionError("fixture: no team leader has a red KPI")


def _be(app: App, label: str) -> None:
    box = app.sidebar.locator('[data-testid="stSelectbox"]').filter(has_text="Vis som")
    box.locator("input").first.click()
    box.locator("input").first.fill(label.split(" – ")[0])
    app.page.get_by_role("option", name=label, exact=True).click()
    app.wait_ready()
    expect(app.main).to_contain_text(label.split(" – ")[0])  # the demo banner names the persona


def test_team_leader_writes_an_explanation_that_survives_a_reload_and_reaches_the_pack(
    app: App, small_extract: Extract, tmp_path: Path
) -> None:
    label, _unit, kpi = _team_leader_with_a_red_kpi(small_extract)
    name = label.split(" – ")[0]
    app.goto()
    _be(app, label)
    tile = app.main.locator(f".st-key-tile_{kpi}")
    expect(tile).to_contain_text("Rød")
    tile.get_by_role("button", name="Skriv afvigelsesforklaring eller beslutning").click()
    area = app.page.locator(f".st-key-noter_{kpi}_tekst textarea")
    area.fill(TEXT)
    app.page.locator(f".st-key-noter_{kpi}_gem button").click()
    app.wait_ready()
    expect(tile).to_contain_text(TEXT)  # as written: the tags are text, not markup
    expect(tile).to_contain_text(f"Afvigelsesforklaring · {name}")

    app.page.reload()
    app.wait_ready()
    _be(app, label)
    expect(tile).to_contain_text(TEXT)
    expect(tile).to_contain_text(f"Afvigelsesforklaring · {name}")

    app.sidebar.locator('[data-testid="stSidebarNavLink"][href$="/moede"]').click()
    app.wait_ready()
    comments = app.main.locator(".st-key-moede_kommentarer")
    expect(comments).to_contain_text(TEXT)
    button = app.main.locator('[data-testid="stDownloadButton"] button', has_text="Hent mødepakke").first
    with app.page.expect_download() as info:
        button.click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    with zipfile.ZipFile(target) as z:
        names = z.namelist()
        xlsx = next(n for n in names if n.endswith(".xlsx"))
        pdf = next(n for n in names if n.endswith(".pdf"))
        wb = openpyxl.load_workbook(io.BytesIO(z.read(xlsx)))
        pages = PdfReader(io.BytesIO(z.read(pdf))).pages
    cells = [c for row in wb["Kommentarer og beslutninger"].iter_rows(values_only=True) for c in row]
    assert TEXT in cells and name in cells
    text = " ".join(" ".join(p.extract_text().split()) for p in pages)
    assert TEXT in text
    app.assert_clean()
