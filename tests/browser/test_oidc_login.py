"""Login through a real OIDC provider, in a real browser.

`oidc-provider-mock` runs on 127.0.0.1 with one registered user: a caseworker of the small
generated extract, by their email. The app runs with an [auth] secrets file pointing at it
(`--secrets.files`, so no secrets file in the repo is touched). Chromium logs in through
the provider's authorization form, lands on the caseworker's own overview, and is refused
another caseworker's case by URL; the audit log holds both.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
from playwright.sync_api import Browser, Page, expect

from metrics.access import Viewer, viewer_for_email
from metrics.audit import search
from metrics.casework import cases_visible
from metrics.extract import Extract
from tests.browser.conftest import (
    READY,
    free_port,
    start_process,
    stop_process,
    streamlit_command,
    wait_http,
)

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
TIMEOUT_MS = 90_000


@dataclass(frozen=True)
class People:
    me: Viewer
    my_case: str
    other_case: str


@pytest.fixture(scope="module")
def people(small_extract: Extract) -> People:
    """A caseworker with an email and cases, and a case of another caseworker."""
    ex = small_extract
    emails = ex["employees"].filter(pl.col("role") == "raadgiver")["email"].drop_nulls().sort().to_list()
    workers = [v for e in emails if (v := viewer_for_email(ex, e)) is not None]
    mine = {v.employee_id: set(cases_visible(ex, v, ex.as_of)["case_id"]) for v in workers}
    me = next(v for v in workers if mine[v.employee_id])
    other = next(v for v in workers if v.employee_id != me.employee_id and mine[v.employee_id])
    return People(
        me=me, my_case=sorted(mine[me.employee_id])[0], other_case=sorted(mine[other.employee_id])[0]
    )


@dataclass(frozen=True)
class Stack:
    app_url: str
    audit_db: Path
    app_log: Path


@pytest.fixture(scope="module")
def stack(small_root: Path, people: People, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("oidc")
    idp_port, app_port = free_port(), free_port()
    idp_url, app_url = f"http://127.0.0.1:{idp_port}", f"http://127.0.0.1:{app_port}"
    claims = {"sub": "caseworker-1", "email": people.me.email, "name": people.me.name}
    idp_log, app_log = tmp / "idp.log", tmp / "app.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "NO_COLOR": "1"}
    idp = start_process(
        [
            sys.executable,
            "-m",
            "oidc_provider_mock",
            "--host=127.0.0.1",
            f"--port={idp_port}",
            f"--user-claims={json.dumps(claims)}",
        ],
        idp_log,
        env,
    )
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
            {
                **env,
                "STYRING_EXTRACTS": str(small_root),
                "STYRING_DB_URL": f"sqlite:///{audit_db}",
                "STYRING_AUDIT_DB": str(tmp / "no-legacy-audit.sqlite"),
            },
        )
        processes.append(app)
        wait_http(f"{app_url}/_stcore/health", app, app_log)
        yield Stack(app_url=app_url, audit_db=audit_db, app_log=app_log)
    finally:
        for p in reversed(processes):
            stop_process(p)


def _ready(page: Page) -> None:
    page.locator(READY).wait_for(state="attached")


def test_caseworker_logs_in_and_cannot_open_another_case(
    browser: Browser, stack: Stack, people: People, small_extract: Extract
) -> None:
    started = time.monotonic()
    context = browser.new_context(locale="da-DK", timezone_id="Europe/Copenhagen")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        # not logged in: the login page, no figures
        page.goto(f"{stack.app_url}/raadgiver")
        _ready(page)
        main = page.locator('[data-testid="stMain"]')
        expect(main.get_by_role("button", name="Log ind")).to_be_visible()
        assert page.locator('[data-testid="stMetric"]').count() == 0

        # through the provider's authorization form, as the registered caseworker
        main.get_by_role("button", name="Log ind").click()
        page.wait_for_url("**/oauth2/authorize**")
        page.get_by_role("button", name="caseworker-1", exact=True).click()
        page.wait_for_url(f"{stack.app_url}/**")
        _ready(page)
        sidebar = page.locator('[data-testid="stSidebar"]')
        expect(sidebar.get_by_text(f"Logget ind som {people.me.name}")).to_be_visible()

        # their own caseworker overview
        page.goto(f"{stack.app_url}/raadgiver")
        _ready(page)
        expect(main.get_by_role("heading", name="Rådgiveroverblik")).to_be_visible()
        expect(main.get_by_role("combobox", name="Rådgiver", exact=True)).to_have_value(people.me.name)
        expect(page.locator('[data-testid="stMetric"]').first).to_be_visible()

        # another caseworker's case by URL: refused, nothing shown
        page.goto(f"{stack.app_url}/sag?sag={people.other_case}")
        _ready(page)
        expect(main.get_by_text("ikke adgang", exact=False).first).to_be_visible()
        assert page.locator('[data-testid="stMetric"]').count() == 0
        assert people.other_case not in main.inner_text().replace(f"sag={people.other_case}", "")

        # logging out ends the provider's session too, and the identity cookie is gone
        sidebar.get_by_role("button", name="Log ud").click()
        page.wait_for_url("**/oauth2/end_session**")
        page.get_by_role("button", name="End session").click()
        page.wait_for_url(f"{stack.app_url}/**")
        page.goto(f"{stack.app_url}/raadgiver")
        _ready(page)
        expect(main.get_by_role("button", name="Log ind")).to_be_visible()
        assert page.locator('[data-testid="stMetric"]').count() == 0
    finally:
        context.close()

    log = search(small_extract, Viewer.system(), path=stack.audit_db).sort("event_id")
    mine = log.filter(pl.col("employee_id") == people.me.employee_id)
    assert "view" in mine.filter(pl.col("page") == "raadgiver")["action"].to_list()
    denied = mine.filter(pl.col("action") == "denied")
    assert denied["case_ids"].to_list()[-1] == [people.other_case]
    print(f"\nOIDC browser flow: {time.monotonic() - started:.1f} s")
