"""Warm-up at server start: what the first page of every session needs, done once in a
background thread while the first browser is still loading Streamlit's frontend.

After a restart the first page's script spent about 1.5 s importing modules (pandas, altair,
sqlalchemy, dataframely and our own) and loading the newest extract: work that does not depend
on who is looking. `server.py` starts `warm_up` in a thread when the server starts listening;
the browser then needs about a second to load and start the frontend before it asks for the
first script run, and the thread does that work meanwhile. The script finds the modules in
`sys.modules` and the extract in `ui.context`'s resource cache (a script that arrives while the
thread is still loading waits for that one load: Streamlit takes a lock per cache key).
Once the first page has been served (the router says so), the thread imports the other pages'
modules too (Altair among them, which the first page does without), so the first switch to a
page with charts does not pay for them.

Nothing here decides access or computes a figure for a viewer: the page does, as before.
A warm-up that fails only logs; the page then does the work itself and reports what it finds.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import logging
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ROUTER = REPO / "app.py"
PAGES = REPO / "views"
FIRST_PAGE = PAGES / "scorecard.py"  # app.py's default page

# imported by the first page inside a function, last: metrics.trends in metrics.registry.values_at
# (a cycle at the top), pandas in the scorecard's cascade (its end: the page computes its tiles,
# mostly in Polars, which releases the GIL, while this thread imports pandas)
IMPORTED_INSIDE = ("metrics.trends", "pandas", "pandas.io.formats.style")

log = logging.getLogger(__name__)


def imported_modules(script: Path) -> list[str]:
    """The modules a script imports at its top level, in its order: `from x import y` gives x,
    and x.y when y is a module of package x. Relative and `__future__` imports are left out."""
    tree = ast.parse(script.read_text(encoding="utf-8"), filename=str(script))
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names.extend(f"{node.module}.{a.name}" for a in node.names if _is_submodule(node.module, a.name))
    return [n for n in dict.fromkeys(names) if n != "__future__"]


def _is_submodule(package: str, name: str) -> bool:
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return False
    if spec is None or spec.submodule_search_locations is None:  # not a package
        return False
    return importlib.util.find_spec(f"{package}.{name}") is not None


def _first_pandas_frame() -> None:
    """pyarrow imports its pandas conversion on the first pandas frame Streamlit sends (0.1 s):
    the scorecard's cascade is the first page's one."""
    import pandas as pd
    import pyarrow as pa

    pa.Table.from_pandas(pd.DataFrame({"a": [1.0], "b": ["x"]}))


def warm_up() -> float:
    """Import the router's and the first page's modules, load the newest extract into the cache
    the pages read from, open a SQLite database, pay pyarrow's first-call cost; in the order the
    first page needs them. Returns the seconds it took."""
    started = time.perf_counter()
    for name in imported_modules(ROUTER):
        importlib.import_module(name)
    from metrics.loader import list_extracts
    from ui.context import extracts_root, load_cached

    found = list_extracts(extracts_root())
    if found:  # none on a fresh clone: the first page generates the demo data with a progress bar
        load_cached(found[0][1])
    # the page's first audit entry opens the database and checks its schema (migrating it if a
    # new release brought a migration): done here for a local SQLite file only. A database
    # server that does not answer would hold storage's lock until its connection times out,
    # and the first page would wait that long before trying (and reporting) itself.
    from metrics import storage

    if storage.sqlite_file(storage.db_url()) is not None:
        storage.engine()
    for name in (*imported_modules(FIRST_PAGE), *IMPORTED_INSIDE):
        importlib.import_module(name)
    _first_pandas_frame()
    return time.perf_counter() - started


def warm_other_pages() -> float:
    """The other pages' modules (Altair for their charts, 0.3 s in all) and Altair's first
    validated chart: what the first switch to a page with charts paid. Returns the seconds."""
    started = time.perf_counter()
    for page in sorted(PAGES.glob("*.py")):
        for name in imported_modules(page):
            importlib.import_module(name)
    import altair as alt

    alt.Chart(alt.NamedData("warm")).mark_line().encode(x="a:Q").to_dict()  # loads the schema
    return time.perf_counter() - started


_SERVED = threading.Event()
OTHER_PAGES_WAIT_S = 60.0  # no page served by then: the server is idle anyway
# after the first page's script, its browser still draws it (0.6–1 s: charts, tables); the second
# stage's 0.3 s of CPU run alongside slowed that by 0.18 s on the 2-core machine
AFTER_FIRST_PAGE_S = 1.5


def page_served() -> None:
    """Called by the router after each page run. The warm-up leaves the other pages until the
    first page has been served, so as not to take the GIL from it."""
    _SERVED.set()


def _run() -> None:
    try:
        took = warm_up()
        log.info("Warm-up of the first page done in %.2f s", took)
        if _SERVED.wait(OTHER_PAGES_WAIT_S):
            time.sleep(AFTER_FIRST_PAGE_S)
        took = warm_other_pages()
    except Exception as e:  # whatever it is, the pages do the same work again and report it
        log.warning("Warm-up stopped (the pages do the work themselves): %s: %s", type(e).__name__, e)
        return
    log.info("Warm-up of the other pages done in %.2f s", took)


THREAD_NAME = "warm-up"


class _NotTheWarmUp(logging.Filter):
    """Streamlit warns of any thread that calls a cached function outside a script run
    ("missing ScriptRunContext"): expected of this one thread, so not logged for it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.threadName != THREAD_NAME


def quiet_missing_context() -> None:
    logger = logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context")
    if not any(isinstance(f, _NotTheWarmUp) for f in logger.filters):
        logger.addFilter(_NotTheWarmUp())


def start() -> threading.Thread:
    quiet_missing_context()
    thread = threading.Thread(target=_run, name=THREAD_NAME, daemon=True)
    thread.start()
    return thread
