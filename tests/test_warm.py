"""ui.warm: the server's start-up work leaves the first page nothing to import or load."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ui import warm

REPO = Path(__file__).resolve().parent.parent

# watched: any module of our own packages, and the heavy libraries the pages need (the library
# itself: a library's lazily loaded internals, such as polars' UDF inspection, are its business)
OURS = ("metrics", "ui", "data")
HEAVY = ("pandas", "altair", "polars", "pyarrow", "sqlalchemy", "dataframely", "alembic", "xlsxwriter")


def late(new: list[str]) -> list[str]:
    return [m for m in new if m.split(".")[0] in OURS or m in HEAVY]


PROBE = """
import json, sys
sys.path.insert(0, {repo!r})
from streamlit.testing.v1 import AppTest
import ui.context
import ui.warm

loads = []
real = ui.context.load_extract
ui.context.load_extract = lambda path: loads.append(str(path)) or real(path)
ui.warm.warm_up()
warmed = set(sys.modules)
loads_at_start = list(loads)
at = AppTest.from_file({app!r}, default_timeout=120)
at.run()
served = ui.warm._SERVED.is_set()
first = {{"new": sorted(set(sys.modules) - warmed), "title": [t.value for t in at.title],
         "exceptions": [str(e.value) for e in at.exception]}}
ui.warm.warm_other_pages()
warmed = set(sys.modules)
others = {{}}
for page in {pages!r}:
    at.switch_page(page)
    at.run()
    others[page] = {{"new": sorted(set(sys.modules) - warmed), "title": [t.value for t in at.title],
                    "exceptions": [str(e.value) for e in at.exception]}}
    warmed = set(sys.modules)
print(json.dumps({{"first": first, "others": others, "served": served,
                  "loads_at_start": loads_at_start, "loads": loads}}))
"""


def test_imported_modules_in_order_with_submodules(tmp_path: Path) -> None:
    script = tmp_path / "page.py"
    script.write_text(
        "from __future__ import annotations\n"
        "import json, os.path\n"
        "from metrics import drill, reports\n"  # two modules of the package metrics
        "from metrics.fmt import MONTHS\n"  # a name, not a module
        "from os import path\n"  # os is a module, not a package: nothing more
        "from . import sibling\n"  # relative: left out
        "import json\n"  # once
        "def f():\n"
        "    import pandas\n",  # inside a function: not at the top level
        encoding="utf-8",
    )
    assert warm.imported_modules(script) == [
        "json",
        "os.path",
        "metrics",
        "metrics.drill",
        "metrics.reports",
        "metrics.fmt",
        "os",
    ]


def _in_fresh_process(script: str, extracts: Path, tmp_path: Path) -> dict:
    """Run `script` in a new Python process, as after a restart, on `extracts` and a new
    database; its last line of output is JSON."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env |= {"STYRING_EXTRACTS": str(extracts), "STYRING_DB_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"}
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_after_the_warm_up_no_page_imports_or_loads(small_root: Path, tmp_path: Path) -> None:
    """In a fresh process, as after a restart: the warm-up, then the first page of a session."""
    pages = [f"views/{p.name}" for p in sorted((REPO / "views").glob("*.py")) if p.name != "scorecard.py"]
    out = _in_fresh_process(
        PROBE.format(repo=str(REPO), app=str(REPO / "app.py"), pages=pages), small_root, tmp_path
    )
    first = out["first"]
    assert first["exceptions"] == []
    assert first["title"] == ["Scorecard"]
    newest = str(small_root / "2026-11-20")
    assert out["loads_at_start"] == [newest]  # the newest of the two extracts, at start
    # not again by any page; the compare page opens the older one for its comparison
    assert out["loads"] == [newest, str(small_root / "2026-11-06")]
    assert late(first["new"]) == []
    assert "altair" not in first["new"]  # the first page draws no Altair chart
    assert out["served"]  # the router said so: the warm-up goes on with the other pages
    # after the second stage, no page imports a module of ours or a heavy library of its own
    assert len(out["others"]) == 10
    for page, run in out["others"].items():
        assert run["exceptions"] == [], page
        assert run["title"], page
        assert late(run["new"]) == [], page


def test_a_failing_warm_up_only_logs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    broken = tmp_path / "extracts" / "2026-11-20"
    broken.mkdir(parents=True)
    (broken / "manifest.json").write_text("{ not json", encoding="utf-8")
    monkeypatch.setenv("STYRING_EXTRACTS", str(tmp_path / "extracts"))
    with caplog.at_level(logging.WARNING, logger="ui.warm"):
        warm._run()
    [record] = [r for r in caplog.records if r.name == "ui.warm"]
    assert record.levelno == logging.WARNING
    assert "ExtractRefused" in record.getMessage()
    assert "manifest.json" in record.getMessage()


def test_the_server_starts_the_warm_up_when_it_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    import server

    ran: list[str] = []
    monkeypatch.setattr(warm, "_run", lambda: ran.append(threading.current_thread().name))

    async def start_and_stop() -> None:
        async with server.warm_at_start(server.app):
            pass

    # in a thread of its own: a browser test's Playwright may hold an event loop in this one
    runner = threading.Thread(target=asyncio.run, args=(start_and_stop(),))
    runner.start()
    runner.join(timeout=30)
    for t in threading.enumerate():
        if t.name == warm.THREAD_NAME:
            t.join(timeout=10)
    assert ran == [warm.THREAD_NAME]


def test_no_missing_context_warning_from_the_warm_up_thread_only(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    logger = logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context")
    warm.quiet_missing_context()
    warm.quiet_missing_context()  # once is enough: no second filter
    assert sum(isinstance(f, warm._NotTheWarmUp) for f in logger.filters) == 1
    monkeypatch.setattr(logger, "propagate", True)  # Streamlit's loggers keep to their own handler
    with caplog.at_level(logging.WARNING, logger=logger.name):
        for name in (warm.THREAD_NAME, "other"):
            t = threading.Thread(target=get_script_run_ctx, name=name)
            t.start()
            t.join()
    warned = [r.threadName for r in caplog.records if "missing ScriptRunContext" in r.getMessage()]
    assert set(warned) == {"other"}  # (a record may reach caplog by two handlers)


@pytest.mark.parametrize(
    ("url", "opened"),
    [("sqlite:///{tmp}/db.sqlite", True), ("postgresql+psycopg://nobody@192.0.2.1:5432/styring", False)],
)
def test_the_warm_up_opens_a_sqlite_file_but_not_a_database_server(
    url: str, opened: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database server that does not answer would hold storage's lock until its connection times
    out, and the first page would wait for that before trying itself (found by review: 6.2 → 11.7 s
    to the page's error on a server that answers nothing): the warm-up leaves servers to the page."""
    from metrics import storage

    monkeypatch.setenv("STYRING_EXTRACTS", str(tmp_path / "no-extracts"))
    monkeypatch.setenv("STYRING_DB_URL", url.format(tmp=tmp_path))
    asked: list[str] = []
    monkeypatch.setattr(storage, "engine", lambda url=None: asked.append(storage.db_url(url)))
    warm.warm_up()
    assert asked == ([url.format(tmp=tmp_path)] if opened else [])


RACE = """
import json, sys, threading, time
sys.path.insert(0, {repo!r})
from streamlit.testing.v1 import AppTest
import ui.context
import ui.warm

loads = []
real = ui.context.load_extract

def slow(path):
    loads.append([threading.current_thread().name, str(path)])
    time.sleep(1.0)
    return real(path)

ui.context.load_extract = slow
ui.warm.start()
time.sleep(0.2)
at = AppTest.from_file({app!r}, default_timeout=120)
at.run()
print(json.dumps({{"loads": loads, "title": [t.value for t in at.title],
                  "exceptions": [str(e.value) for e in at.exception]}}))
"""


def test_a_first_page_during_the_warm_up_waits_for_its_load(small_root: Path, tmp_path: Path) -> None:
    """A session that comes while the warm-up is still loading the extract (slowed to 1 s here)
    does not load it a second time: it waits on Streamlit's lock for that cache key."""
    out = _in_fresh_process(RACE.format(repo=str(REPO), app=str(REPO / "app.py")), small_root, tmp_path)
    assert out["exceptions"] == [] and out["title"] == ["Scorecard"]
    assert out["loads"] == [[warm.THREAD_NAME, str(small_root / "2026-11-20")]]
