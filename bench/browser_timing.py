"""Speed as the user feels it, in Chromium, on the Gladsaxe-sized demo: prints medians against targets.

    python bench/browser_timing.py [--runs 5] [--skip-fresh]

- page switch: from the click on a page in the menu until the app is idle, every grid shows its
  rows and every chart is drawn; for each page, median of --runs switches;
- first page after a restart: from starting `streamlit run app.py` (the demo data already there)
  until the first page is drawn so;
- first page on a fresh clone: `git clone` of this repository (its committed HEAD, the venv
  linked in), then the same: the app generates the demo data on its first page.

The machine may be shared: each figure is printed with its range (min–max) next to the median.
Called by bench/benchmark.py (--browser); needs Debian's chromium at /usr/lib/chromium/chromium.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/lib/chromium/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]
TARGET_SWITCH_S = 1.0
TARGET_RESTART_S = 5.0
TARGET_FRESH_S = 8.0
TIMEOUT_MS = 120_000
SWITCH_PAGES = {  # url path → title in the menu (the default page's link is "/"): every page
    "moede": "Økonomimøde",
    "oekonomi": "Økonomi",
    "underretninger": "Underretninger",
    "sygefravaer": "Sygefravær",
    "kapabilitet": "Kapabilitet",
    "sammenlign": "Sammenlign udtræk",
    "raadgiver": "Rådgiveroverblik",
    "sag": "Sag",
    "datakvalitet": "Datakvalitet",
    "revisionslog": "Revisionslog",
    "scorecard": "Scorecard",
}

# True when the app has finished: the script is not running, nothing is stale, the page asked
# for is the current one, every AgGrid (a component iframe) shows rows or its "no rows" overlay,
# and every Vega chart has drawn its canvas or svg. Component iframes are same-origin.
DRAWN_JS = r"""([path, title]) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (app.getAttribute('data-test-connection-state') !== 'CONNECTED') return false;
  if (path !== null && !location.pathname.endsWith('/' + path)) return false;
  if (path === null && location.pathname.replace(/\/$/, '') !== '') return false;
  if (document.querySelector('[data-stale="true"]')) return false;
  if (document.querySelector('[data-testid="stSkeleton"], [data-testid="stSpinner"]')) return false;
  const main = document.querySelector('[data-testid="stMain"]');
  const h1 = main && main.querySelector('h1');
  if (!h1 || (title !== null && !h1.textContent.includes(title))) return false;
  for (const f of main.querySelectorAll('iframe')) {
    if (f.offsetParent === null) continue;  // in a folded expander: not shown
    const d = f.contentDocument;
    if (!d) return false;
    if ((f.title || '').includes('st_aggrid')) {
      if (!d.querySelector('.ag-row, .ag-overlay-no-rows-center, .ag-overlay-no-rows-wrapper')) return false;
    } else if (!d.body || d.body.childElementCount === 0) return false;
  }
  for (const c of main.querySelectorAll('[data-testid="stVegaLiteChart"]')) {
    if (c.offsetParent === null) continue;
    if (!c.querySelector('canvas, svg.marks, svg')) return false;
  }
  return true;
}"""


@dataclass
class Figure:
    what: str
    samples: list[float]
    target: float

    def line(self) -> str:
        med = statistics.median(self.samples)
        verdict = "ok" if med <= self.target else "FAIL"
        spread = f"{min(self.samples):.2f}–{max(self.samples):.2f}"
        return f"{self.what:<40} {med:>7.2f} s  (range {spread:>11} s, n={len(self.samples)})  ≤ {self.target:.1f} s  {verdict}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(repo: Path, log: Path, audit_db: Path) -> Iterator[tuple[str, float]]:
    """`streamlit run app.py` in `repo` as scripts/run.sh starts it; yields (url, start time)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "STYRING_EXTRACTS"}
    env |= {"STYRING_AUDIT_DB": str(audit_db), "PYTHONUNBUFFERED": "1"}
    cmd = [
        str(repo / ".venv" / "bin" / "python"),
        "-m",
        "streamlit",
        "run",
        os.environ.get("BENCH_ENTRY", "server.py"),
        "--server.address=127.0.0.1",
        f"--server.port={port}",
        "--server.headless=true",
        "--browser.gatherUsageStats=false",
    ]
    started = time.monotonic()
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=repo, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = started + TIMEOUT_MS / 1000
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited:\n{log.read_text(errors='replace')[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.05)  # polling a process we don't control
        print(f"  (server answered after {time.monotonic() - started:.2f} s)", file=sys.stderr)
        yield url, started
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def wait_drawn(page: Page, path: str | None, title: str | None = None) -> None:
    page.wait_for_function(DRAWN_JS, arg=[path, title], timeout=TIMEOUT_MS, polling=25)


def first_page(repo: Path, browser_new_page, workdir: Path) -> float:
    """Seconds from starting the server to the first page drawn."""
    with server(repo, workdir / "server.log", workdir / "audit.sqlite") as (url, started):
        page = browser_new_page()
        page.goto(url + "/")
        wait_drawn(page, None)
        took = time.monotonic() - started
        page.context.close()
    return took


def page_switches(url: str, browser_new_page, runs: int) -> dict[str, list[float]]:
    page = browser_new_page()
    page.goto(url + "/")
    wait_drawn(page, None)
    out: dict[str, list[float]] = {p: [] for p in SWITCH_PAGES}
    for _ in range(runs):
        for path in SWITCH_PAGES:
            links = page.locator('[data-testid="stSidebarNavLink"]')
            # by address: "Økonomi" is also the start of "Økonomimøde"
            link = links.filter(has_text=SWITCH_PAGES[path]) if path == "scorecard" else links.and_(
                page.locator(f'[href$="/{path}"]')
            )
            page.wait_for_timeout(300)  # let the previous page settle (late iframes, tooltips)
            t0 = time.monotonic()
            link.click()
            wait_drawn(page, None if path == "scorecard" else path, SWITCH_PAGES[path])
            out[path].append(time.monotonic() - t0)
    page.context.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-fresh", action="store_true", help="no fresh-clone start")
    args = parser.parse_args()
    if not (REPO / "data" / "extracts").exists():
        subprocess.run([sys.executable, "-m", "data.generate"], cwd=REPO, check=True, capture_output=True)

    figures: list[Figure] = []
    with sync_playwright() as p, tempfile.TemporaryDirectory(prefix="browser-timing-") as tmp:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)

        def new_page() -> Page:
            ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="da-DK")
            return ctx.new_page()

        work = Path(tmp)
        restarts = [first_page(REPO, new_page, work) for _ in range(args.runs)]
        figures.append(Figure("first page after a restart", restarts, TARGET_RESTART_S))
        print(figures[-1].line(), flush=True)

        with server(REPO, work / "server.log", work / "audit.sqlite") as (url, _):
            switches = page_switches(url, new_page, args.runs)
        for path, samples in switches.items():
            figures.append(Figure(f"page switch → {path}", samples, TARGET_SWITCH_S))
            print(figures[-1].line(), flush=True)
        every = [s for samples in switches.values() for s in samples]
        figures.append(Figure("page switch, all pages", every, TARGET_SWITCH_S))
        print(figures[-1].line(), flush=True)

        if not args.skip_fresh:
            fresh = []
            for i in range(args.runs):
                clone = work / f"clone{i}"
                subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
                (clone / ".venv").symlink_to((REPO / ".venv").resolve())
                fresh.append(first_page(clone, new_page, work))
                shutil.rmtree(clone)
            figures.append(Figure("first page on a fresh clone (generation)", fresh, TARGET_FRESH_S))
            print(figures[-1].line(), flush=True)
        browser.close()
    missed = [f.what for f in figures if statistics.median(f.samples) > f.target]
    print(f"{len(missed)} browser target(s) missed" + (": " + "; ".join(missed) if missed else "."))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
