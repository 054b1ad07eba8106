"""A person who has left logs in through a real OIDC provider and tries every extract.

Two extracts of the hand-made organisation (tests/test_access_today.py): Olga left on
31 Jan 2024; the January extract still lists her as a caseworker with cases. Access follows
who she is today (the newest extract), so every page and every extract, named in the link,
says "Ingen adgang" and shows no figures and no extract picker; each refusal is logged.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
from playwright.sync_api import Browser, Page, expect

from metrics.access import Viewer
from metrics.audit import search
from metrics.loader import load_extract
from tests.browser.conftest import READY, free_port, start_process, stop_process, streamlit_command, wait_http
from tests.support_access import EMAIL, OLDER, older_frames, write_extract

pytestmark = pytest.mark.browser

TIMEOUT_MS = 90_000
PAGES = ("", "oekonomi", "sygefravaer", "raadgiver", "sag", "datakvalitet", "sammenlign")


@dataclass(frozen=True)
class Stack:
    app_url: str
    audit_db: Path
    root: Path


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("leaver")
    root = tmp / "extracts"
    write_extract(root, synthetic=False)
    write_extract(root, synthetic=False, as_of=OLDER, **older_frames())
    idp_port, app_port = free_port(), free_port()
    idp_url, app_url = f"http://127.0.0.1:{idp_port}", f"http://127.0.0.1:{app_port}"
    claims = {"sub": "leaver-1", "email": EMAIL["OLD"], "name": "Olga Fratrådt"}
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "NO_COLOR": "1"}
    env.pop("STYRING_DEMO", None)
    idp_log, app_log = tmp / "idp.log", tmp / "app.log"
    idp = start_process(
        [sys.executable, "-m", "oidc_provider_mock", "--host=127.0.0.1", f"--port={idp_port}",
         f"--user-claims={json.dumps(claims)}"],
        idp_log,
        env,
    )  # fmt: skip
    processes = [idp]
    try:
        wait_http(f"{idp_url}/.well-known/openid-configuration", idp, idp_log)
        secrets = tmp / "secrets.toml"
        secrets.write_text(
            "[auth]\n"
            f'redirect_uri = "{app_url}/oauth2callback"\n'
            'cookie_secret = "browser-test-cookie-secret-0123456789abcdef"\n'
            'client_id = "styringsoverblik"\n'
            'client_secret = "browser-test-client-secret"\n'
            f'server_metadata_url = "{idp_url}/.well-known/openid-configuration"\n',
            encoding="utf-8",
        )
        audit_db = tmp / "audit.sqlite"
        app = start_process(
            streamlit_command(app_port, f"--secrets.files={secrets}"),
            app_log,
            {**env, "STYRING_EXTRACTS": str(root), "STYRING_DB_URL": f"sqlite:///{audit_db}"},
        )
        processes.append(app)
        wait_http(f"{app_url}/_stcore/health", app, app_log)
        yield Stack(app_url=app_url, audit_db=audit_db, root=root)
    finally:
        for p in reversed(processes):
            stop_process(p)


def _ready(page: Page) -> None:
    page.locator(READY).wait_for(state="attached")


def test_person_who_left_sees_nothing_of_any_extract(browser: Browser, stack: Stack) -> None:
    context = browser.new_context(locale="da-DK", timezone_id="Europe/Copenhagen")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    extracts = sorted(p.name for p in stack.root.iterdir())
    assert extracts == [OLDER.isoformat(), "2024-06-14"]
    try:
        page.goto(f"{stack.app_url}/")
        _ready(page)
        main = page.locator('[data-testid="stMain"]')
        main.get_by_role("button", name="Log ind").click()
        page.wait_for_url("**/oauth2/authorize**")
        page.get_by_role("button", name="leaver-1", exact=True).click()
        page.wait_for_url(f"{stack.app_url}/**")
        _ready(page)
        tried = 0
        for iso in [None, *extracts]:
            for path in PAGES:
                page.goto(f"{stack.app_url}/{path}" + (f"?udtraek={iso}" if iso else ""))
                _ready(page)
                expect(main.get_by_text("Ingen adgang", exact=False).first).to_be_visible()
                assert page.locator('[data-testid="stMetric"]').count() == 0
                assert page.locator('[data-testid="stVegaLiteChart"], iframe').count() == 0
                sidebar = page.locator('[data-testid="stSidebar"]')
                assert sidebar.get_by_role("combobox").count() == 0  # no extract picker, no filters
                assert "Olga" not in main.inner_text()
                tried += 1
        assert tried == 3 * len(PAGES)
    finally:
        context.close()

    ex = load_extract(stack.root / "2024-06-14")
    log = search(ex, Viewer.system(), path=stack.audit_db)
    olga = log.filter(pl.col("email") == EMAIL["OLD"])
    assert olga.height >= 3 * len(PAGES) and set(olga["action"]) == {"denied"}
