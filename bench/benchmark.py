"""Benchmark on a Denmark-sized extract (N = 80 municipalities): prints figures against targets.

    python bench/benchmark.py [--cache DIR] [--scale 80]

Generates the extract once into DIR (default /tmp/bench80; reused when present), then times:
load + validate, all KPIs for the root and for one team (cold and warm), 12-month trends of
every KPI, the capability measures for the root and a team, peak RSS, and each page's server-side
rerun through AppTest; then the economy meeting page and its pack on the Gladsaxe-sized demo
(--meeting-only for just those). A missed target is
printed as FAIL; the script itself only fails when something breaks.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import polars as pl  # noqa: E402

from metrics import registry  # noqa: E402
from metrics.access import Viewer, aggregate_root, viewer_for_employee  # noqa: E402
from metrics.capability import MEASURES, capability  # noqa: E402
from metrics.casework import cases_visible  # noqa: E402
from metrics.extract import Extract  # noqa: E402
from metrics.loader import list_extracts, load_extract  # noqa: E402
from metrics.org import org_tree  # noqa: E402
from metrics.scope import Scope  # noqa: E402

T = TypeVar("T")

PAGES = (
    "views/scorecard.py",
    "views/oekonomi.py",
    "views/underretninger.py",
    "views/sygefravaer.py",
    "views/kapabilitet.py",
    "views/raadgiver.py",
    "views/sag.py",
)
TARGET_LOAD_S = 5.0
TARGET_KPIS_WARM_S = 0.150
TARGET_TRENDS_S = 1.5
TARGET_RSS_MB = 2048.0
TARGET_PAGE_S = 0.300
TARGET_MEETING_PAGE_S = 0.300
TARGET_PACK_S = 3.0
TARGET_CAPABILITY_S = 0.300


@dataclass
class Line:
    what: str
    seconds: float | None
    target: float | None = None
    note: str = ""
    unit: str = "s"

    @property
    def missed(self) -> bool:
        return self.target is not None and (self.seconds is None or self.seconds > self.target)

    def render(self) -> str:
        if self.seconds is None:
            shown = "–"
        elif self.unit == "MB":
            shown = f"{self.seconds:,.0f} MB"
        elif self.seconds < 1:
            shown = f"{self.seconds * 1000:,.0f} ms"
        else:
            shown = f"{self.seconds:,.2f} s"
        if self.target is None:
            verdict, target = "", ""
        else:
            verdict = "FAIL" if self.missed else "PASS"
            target = (
                f"≤ {self.target:,.0f} MB"
                if self.unit == "MB"
                else (f"≤ {self.target * 1000:,.0f} ms" if self.target < 1 else f"≤ {self.target:,.1f} s")
            )
        return f"{self.what:<46} {shown:>11}  {target:>10}  {verdict:<4}  {self.note}"


LINES: list[Line] = []


def report(line: Line) -> None:
    LINES.append(line)
    print(line.render(), flush=True)


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def ensure_extract(cache: Path, scale: int) -> Path:
    found = list_extracts(cache) if cache.exists() else []
    if not found:
        print(f"Generating the N = {scale} extract into {cache} (once; reused afterwards) …", flush=True)
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "data.generate", "--out", str(cache), "--scale", str(scale), "--single"],
            cwd=REPO,
            check=True,
        )
        print(f"  generated in {time.perf_counter() - t0:,.0f} s", flush=True)
        found = list_extracts(cache)
    if not found:
        sys.exit(f"No extract found in {cache} after generating it.")
    return found[-1][1]


def pick_team(ex: Extract) -> str:
    """The team with the most cases: the heaviest single team a team leader would open."""
    tree = org_tree(ex)
    teams = {u for u, lvl in tree.level.items() if lvl == "team"}
    counts = ex["cases"].filter(pl.col("unit_id").is_in(list(teams))).group_by("unit_id").len().sort("len")
    return str(counts["unit_id"][-1]) if counts.height else sorted(teams)[0]


def bench_metrics(ex: Extract, team: str) -> None:
    tree = org_tree(ex)
    as_of = ex.as_of
    ids = registry.metric_ids(ex)
    for label, unit in (("root", tree.root), ("team", team)):
        scope = Scope.unit(unit)
        _, cold = timed(lambda scope=scope: registry.compute_all(ex, scope, as_of))
        warm = [timed(lambda scope=scope: registry.compute_all(ex, scope, as_of))[1] for _ in range(5)]
        report(Line(f"all {len(ids)} KPIs, {label} – cold", cold, note=tree.label(unit)))
        report(
            Line(
                f"all {len(ids)} KPIs, {label} – warm (median of 5)",
                statistics.median(warm),
                TARGET_KPIS_WARM_S,
            )
        )
    for label, unit in (("root", tree.root), ("team", team)):
        scope = Scope.unit(unit)

        def trends(scope: Scope = scope) -> None:
            for m in ids:
                registry.trend(ex, m, scope, as_of)

        _, first = timed(trends)
        _, second = timed(trends)
        report(Line(f"12-month trends of all KPIs, {label} – first", first, TARGET_TRENDS_S))
        report(Line(f"12-month trends of all KPIs, {label} – again", second, TARGET_TRENDS_S))


def bench_capability(ex: Extract, team: str) -> None:
    """The three end-to-end measures (items, figures, signals) for the root and a team. Nothing
    caches a capability result: "cold" also builds the scoped frames, "again" reuses those."""
    tree = org_tree(ex)
    for label, unit in (("root", tree.root), ("team", team)):
        scope = Scope.unit(unit)

        def all_three(scope: Scope = scope) -> list[int]:
            return [capability(ex, m, scope, ex.as_of).figures.n for m in MEASURES]

        ns, cold = timed(all_three)
        again = [timed(all_three)[1] for _ in range(3)]
        note = ", ".join(f"{m} n={n:,}" for m, n in zip(MEASURES, ns, strict=True))
        report(Line(f"capability, 3 measures, {label} – cold", cold, TARGET_CAPABILITY_S, note))
        each = {
            m: statistics.median(
                timed(lambda m=m, scope=scope: capability(ex, m, scope, ex.as_of))[1] for _ in range(3)
            )
            for m in MEASURES
        }
        report(
            Line(
                f"capability, 3 measures, {label} – again (median 3)",
                statistics.median(again),
                TARGET_CAPABILITY_S,
                "each: " + ", ".join(f"{m} {t * 1000:,.0f} ms" for m, t in each.items()),
            )
        )


def bench_pages(root: Path, ex: Extract) -> None:
    from streamlit.testing.v1 import AppTest

    os.environ["STYRING_EXTRACTS"] = str(root)
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=600)
    _, first = timed(at.run)
    report(Line("app first run (loads + validates in the app)", first, note="cached afterwards"))
    viewer = default_viewer(ex)
    tree = org_tree(ex)
    print(
        f"\nPages as the demo's default viewer: {viewer.name} ({viewer.role}, "
        f"{tree.label(aggregate_root(ex, viewer))}), on the N = 80 extract:"
    )
    case_id = _a_case(ex, viewer)
    for page in PAGES:
        at.switch_page(page)
        if page.endswith("sag.py") and case_id is not None:
            at.query_params["sag"] = case_id
        _, cold = timed(at.run)
        runs = [timed(at.run)[1] for _ in range(3)]
        problems = [e.value for e in at.exception] + [e.value for e in at.error]
        note = (
            f"cold {cold * 1000:,.0f} ms, median of 3 warm {statistics.median(runs) * 1000:,.0f} ms, "
            f"{_count_elements(at.main)} elements"
        )
        if problems:
            note += f"; ERRORS ON PAGE: {str(problems)[:200]}"
        report(Line(f"page {Path(page).stem} – warm rerun (2nd run)", runs[0], TARGET_PAGE_S, note))


def bench_meeting(cache: Path) -> None:
    """The economy meeting on the Gladsaxe-sized demo (one municipality, two extracts 14 days
    apart): the page's warm rerun as the demo's default viewer, and the pack (Excel + PDF)
    built from its agenda."""
    from streamlit.testing.v1 import AppTest

    from metrics import notes
    from metrics.meeting import agenda
    from metrics.pack import build_pack, comments_from_notes
    from metrics.scorecard import load_scorecard

    found = list_extracts(cache) if cache.exists() else []
    if len(found) < 2:
        print(f"\nGenerating the Gladsaxe-sized demo (two extracts) into {cache} …", flush=True)
        subprocess.run(
            [sys.executable, "-m", "data.generate", "--out", str(cache), "--count", "2"], cwd=REPO, check=True
        )
        found = list_extracts(cache)
    now, before = load_extract(found[0][1]), load_extract(found[1][1])
    viewer = default_viewer(now)
    unit = aggregate_root(now, viewer)
    print(
        f"\nEconomy meeting on the Gladsaxe-sized demo as {viewer.name} ({viewer.role}), {org_tree(now).label(unit)}:"
    )
    os.environ["STYRING_EXTRACTS"] = str(cache)
    # a meeting with notes: an explanation on every scorecard KPI and an open decision from
    # the meeting before, in a database of its own (never the demo's)
    os.environ["STYRING_DB_URL"] = f"sqlite:///{tempfile.mkdtemp(prefix='bench_notes_')}/notes.sqlite"
    writer = Viewer.system()
    for k in load_scorecard().kpis:
        subject = notes.Subject.kpi(k.id, unit)
        notes.add_note(now, writer, subject, now.as_of, "explanation", f"Forklaring på {k.name}")
        notes.add_note(
            before, writer, subject, before.as_of, "decision", "Følg op", owner="Leder", due=now.as_of
        )
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=600)
    at.switch_page("views/moede.py")
    _, cold = timed(at.run)
    runs = [timed(at.run)[1] for _ in range(3)]
    problems = [e.value for e in at.exception] + [e.value for e in at.error]
    note = f"cold {cold * 1000:,.0f} ms, median of 3 warm {statistics.median(runs) * 1000:,.0f} ms"
    if problems:
        note += f"; ERRORS ON PAGE: {str(problems)[:200]}"
    report(Line("page moede – warm rerun (2nd run)", runs[0], TARGET_MEETING_PAGE_S, note))
    a, took = timed(lambda: agenda(now, before, unit, viewer, load_scorecard()))
    report(Line("meeting agenda (metrics.meeting), uncached", took))
    comments = comments_from_notes(notes.pack_notes(now, viewer, unit, now.as_of))
    builds = [timed(lambda: build_pack(a, comments))[1] for _ in range(3)]
    report(
        Line(
            "meeting pack: Excel + PDF (median of 3)",
            statistics.median(builds),
            TARGET_PACK_S,
            f"first {builds[0]:,.2f} s (starts the chart converter)",
        )
    )


def default_viewer(ex: Extract) -> Viewer:
    """The demo's default "vis som": the head of the top-most unit that has staff. On the N = 80
    extract nobody works at the national root, so this is one municipality's department head."""
    from ui.auth import demo_staff

    viewer = viewer_for_employee(ex, str(demo_staff(ex)["employee_id"][0]))
    if viewer is None:
        sys.exit("The extract has no employee to view the app as.")
    return viewer


def _a_case(ex: Extract, viewer: Viewer) -> str | None:
    """The first case the sag page offers the default viewer (active cases come first)."""
    visible = cases_visible(ex, viewer, ex.as_of)
    return str(visible["case_id"][0]) if visible.height else None


def _count_elements(node: Any) -> int:
    children = getattr(node, "children", None)
    if not children:
        return 1
    return sum(_count_elements(c) for c in children.values())


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cache", type=Path, default=Path("/tmp/bench80"), help="where the extract is kept")
    parser.add_argument("--scale", type=int, default=80, help="municipalities' worth of data (80 ≈ Denmark)")
    parser.add_argument("--skip-pages", action="store_true", help="only the metrics figures")
    parser.add_argument(
        "--meeting-cache", type=Path, default=Path("/tmp/bench_gladsaxe"), help="the Gladsaxe-sized demo"
    )
    parser.add_argument("--meeting-only", action="store_true", help="only the economy meeting's figures")
    args = parser.parse_args()

    if args.meeting_only:
        bench_meeting(args.meeting_cache)
        failed = [line.what for line in LINES if line.missed]
        print(f"\n{len(failed)} target(s) missed" + (": " + "; ".join(failed) if failed else "."))
        return 0
    path = ensure_extract(args.cache, args.scale)
    print(f"\nExtract {path}  (polars {pl.__version__}, {os.cpu_count()} cores)\n")
    print(f"{'':<46} {'measured':>11}  {'target':>10}  {'':<4}")
    ex, load = timed(lambda: load_extract(path))
    rows = sum(r.accepted for r in ex.report.values())
    report(
        Line(
            "load + validate", load, TARGET_LOAD_S, f"{rows:,} rows accepted, {ex.rejected_total:,} set aside"
        )
    )
    team = pick_team(ex)
    bench_metrics(ex, team)
    bench_capability(ex, team)
    report(Line("peak RSS after load, KPIs and trends", peak_rss_mb(), TARGET_RSS_MB, unit="MB"))
    if not args.skip_pages:
        bench_pages(path.parent, ex)
        report(
            Line(
                "peak RSS at the end",
                peak_rss_mb(),
                note="includes the app's own cached copy of the extract (AppTest, same process)",
                unit="MB",
            )
        )
    if not args.skip_pages:
        bench_meeting(args.meeting_cache)
    failed = [line.what for line in LINES if line.missed]
    print(f"\n{len(failed)} target(s) missed" + (": " + "; ".join(failed) if failed else "."))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
