"""Benchmark on a Denmark-sized extract (N = 80 municipalities): prints figures against targets.

    python bench/benchmark.py [--cache DIR] [--scale 80] [--skip-pages] [--skip-scaling] [--browser]

Generates the extract once into DIR (default /tmp/bench80; reused when present), then times,
each group in a new process (peak RSS never falls within one, and "cold" means the first call
in a new process right after the extract is loaded): load + validate; all KPIs of the root and
of one team, cold and warm ("warm": the same call again with the result cache cleared, never a
cache hit); the scorecard cascade of the national root and its cost per child; 12-month trends;
a team's economy; the capability measures for the root and a team; peak RSS. A DuckDB peer
(bench/duck.py: the same KPIs and economy in SQL, in a worker process of its own so that its
copy of the extract never adds to ours) is timed interleaved with ours, its values checked
equal, and ours ÷ DuckDB printed per figure. Then N = 1, 10, 40, 80 scaling (load, root
KPIs warm, cascade, peak RSS), each N in its own process, each page's server-side rerun through
AppTest (in a process of its own: the app loads its own copy), and the economy meeting page and its pack on the Gladsaxe-sized demo (--meeting-only
for just those). With --browser, also speed as the user feels it in Chromium
(bench/browser_timing.py: page switch, first page after a restart and on a fresh clone). A
missed target is printed as FAIL; the script itself only fails when something breaks.
"""

from __future__ import annotations

import argparse
import json
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
sys.path.insert(0, str(REPO / "bench"))

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
TARGET_TRENDS_S = 1.0
TARGET_RSS_MB = 800.0
TARGET_SCRIPT_RSS_MB = 1500.0
TARGET_PAGE_S = 0.300
TARGET_MEETING_PAGE_S = 0.300
TARGET_PACK_S = 3.0
TARGET_CAPABILITY_S = 0.300
TARGET_CASCADE_S = 1.5
TARGET_TEAM_COLD_S = 0.300
TARGET_ECONOMY_COLD_S = 0.150
SCALES = (1, 10, 40, 80)
ROUNDS = 3


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
    """This process's peak RSS. VmHWM, not ru_maxrss: Linux carries ru_maxrss across fork and
    exec, so a probe would report its parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
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


def _clear_results(ex: Extract) -> None:
    """Forget the cached results (scoped frames), keep the enriched tables: a warm call costs
    what a different as_of or unit costs, never a cache hit."""
    ex._cache.pop("scoped", None)


def _values(found: dict[str, Any]) -> dict[str, float | None]:
    return {k: v.value for k, v in found.items()}


def probe(name: str, path: Path, team: str | None) -> dict[str, Any]:
    """One group of figures in this (new) process; the result as a dict (printed as JSON)."""
    from metrics.economy import economy_table
    from metrics.scorecard import DEFAULT_SCORECARD, cascade, load_scorecard

    out: dict[str, Any] = {}
    if name.startswith("duck_"):
        import duck

        con, out["load"] = timed(lambda: duck.connect(path))
        ex = load_extract(path) if name == "duck_team_kpis" else None
        children = org_tree(ex).children if ex is not None else {}
        as_of = date_of(path)
        if name == "duck_team_kpis":
            _, out["cold"] = timed(lambda: duck.kpis(con, team, as_of, children))
        elif name == "duck_team_economy":
            _, out["cold"] = timed(lambda: duck.economy_by_account(con, team, as_of))
        out["rss"] = peak_rss_mb()
        return out
    if name == "pages":
        bench_pages(path)
        return {"lines": [vars(line) for line in LINES], "rss": peak_rss_mb()}
    ex, out["load"] = timed(lambda: load_extract(path))
    tree = org_tree(ex)
    root, as_of = Scope.unit(tree.root), ex.as_of
    if name == "team_kpis":
        _, out["cold"] = timed(lambda: registry.compute_all(ex, Scope.unit(team), as_of))
    elif name == "team_economy":
        _, out["cold"] = timed(lambda: economy_table(ex, Scope.unit(team), as_of, "account"))
    elif name in ("cascade", "scale"):
        card = load_scorecard(DEFAULT_SCORECARD)
        rows, out["cascade_cold"] = timed(lambda: cascade(ex, card, tree.root, as_of))
        out["children"] = len(rows) - 1
        _clear_results(ex)
        _, out["cascade_warm"] = timed(lambda: cascade(ex, card, tree.root, as_of))
        if name == "scale":
            registry.compute_all(ex, root, as_of)
            warm = []
            for _ in range(3):
                _clear_results(ex)
                warm.append(timed(lambda: registry.compute_all(ex, root, as_of))[1])
            out["root_warm"] = statistics.median(warm)
            for m in registry.metric_ids(ex):
                registry.trend(ex, m, root, as_of)
    elif name == "rss":
        team_scope = Scope.unit(team or tree.root)
        for scope in (root, team_scope):
            registry.compute_all(ex, scope, as_of)
            for m in registry.metric_ids(ex):
                registry.trend(ex, m, scope, as_of)
    out["rss"] = peak_rss_mb()
    return out


def date_of(path: Path) -> Any:
    from datetime import date

    return date.fromisoformat(path.name)


def run_probe(name: str, path: Path, team: str | None = None) -> dict[str, Any]:
    args = [sys.executable, __file__, "--probe", name, "--extract", str(path)]
    if team:
        args += ["--team", team]
    done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"probe {name} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


class DuckPeer:
    """The DuckDB peer in a process of its own, so its copy of the extract never adds to ours:
    it answers one JSON request a line with the result and the seconds the call took there."""

    def __init__(self, path: Path, children: dict[str, tuple[str, ...]]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--duck-worker", "--extract", str(path)],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._ask({"op": "children", "children": children})

    def _ask(self, request: dict[str, Any]) -> tuple[Any, float]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            sys.exit(f"the DuckDB peer stopped (exit code {self.proc.wait()})")
        answer = json.loads(line)
        return answer["result"], answer["seconds"]

    def kpis(self, unit: str, as_of: Any) -> tuple[dict[str, Any], float]:
        return self._ask({"op": "kpis", "unit": unit, "as_of": as_of.isoformat()})  # type: ignore[no-any-return]

    def economy_by_account(self, unit: str, as_of: Any) -> tuple[dict[str, Any], float]:
        return self._ask({"op": "economy", "unit": unit, "as_of": as_of.isoformat()})  # type: ignore[no-any-return]

    def close(self) -> float:
        """Stop the worker; its peak RSS in MB."""
        rss, _ = self._ask({"op": "quit"})
        self.proc.wait()
        return float(rss)


def duck_worker(path: Path) -> None:
    """The other end of `DuckPeer` (stdin → stdout, one JSON object a line)."""
    from datetime import date

    import duck

    con = duck.connect(path)
    children: dict[str, tuple[str, ...]] = {}
    for line in sys.stdin:
        request = json.loads(line)
        op, result = request["op"], None
        t0 = time.perf_counter()
        if op == "children":
            children = {k: tuple(v) for k, v in request["children"].items()}
        elif op == "kpis":
            result = duck.kpis(con, request["unit"], date.fromisoformat(request["as_of"]), children)
        elif op == "economy":
            result = duck.economy_by_account(con, request["unit"], date.fromisoformat(request["as_of"]))
        seconds = time.perf_counter() - t0
        if op == "quit":
            con.close()
            result = peak_rss_mb()
        print(json.dumps({"result": result, "seconds": seconds}), flush=True)
        if op == "quit":
            return


def _ratio_note(ours: list[float], duck: list[float]) -> str:
    lo, hi = min(ours), max(ours)
    return (
        f"range {lo * 1000:,.0f}–{hi * 1000:,.0f} ms; DuckDB median {statistics.median(duck) * 1000:,.0f} ms; "
        f"ours ÷ DuckDB {statistics.median(ours) / statistics.median(duck):.2f}"
    )


def bench_cold(path: Path, team: str) -> float:
    """Cold figures, each round a new process per figure, ours and DuckDB interleaved."""
    casc: list[dict[str, Any]] = []
    team_ours: list[float] = []
    team_duck: list[float] = []
    econ_ours: list[float] = []
    econ_duck: list[float] = []
    rss: list[float] = []
    for _ in range(ROUNDS):
        casc.append(run_probe("cascade", path))
        team_ours.append(run_probe("team_kpis", path, team)["cold"])
        team_duck.append(run_probe("duck_team_kpis", path, team)["cold"])
        econ_ours.append(run_probe("team_economy", path, team)["cold"])
        econ_duck.append(run_probe("duck_team_economy", path, team)["cold"])
        rss.append(run_probe("rss", path, team)["rss"])
    cold = [c["cascade_cold"] for c in casc]
    kids = casc[0]["children"]
    report(
        Line(
            f"cascade, national root, {kids} children – cold",
            statistics.median(cold),
            TARGET_CASCADE_S,
            f"range {min(cold):,.2f}–{max(cold):,.2f} s; warm {statistics.median([c['cascade_warm'] for c in casc]):,.2f} s",
        )
    )
    report(Line("cascade cost per child – cold", statistics.median(cold) / max(kids, 1)))
    report(
        Line(
            "first KPIs of a team – cold",
            statistics.median(team_ours),
            TARGET_TEAM_COLD_S,
            _ratio_note(team_ours, team_duck),
        )
    )
    report(
        Line(
            "economy of a team by account – cold",
            statistics.median(econ_ours),
            TARGET_ECONOMY_COLD_S,
            _ratio_note(econ_ours, econ_duck),
        )
    )
    report(
        Line(
            "peak RSS after load, KPIs and trends",
            statistics.median(rss),
            TARGET_RSS_MB,
            f"range {min(rss):,.0f}–{max(rss):,.0f} MB (root and team)",
            unit="MB",
        )
    )
    return max(max(rss), max(c["rss"] for c in casc))


def bench_warm(path: Path, ex: Extract, team: str) -> tuple[int, float]:
    """Warm figures, ours and the DuckDB peer (in its own process) interleaved; values checked
    equal. Returns the mismatches and the peer's peak RSS."""
    from metrics.economy import economy_table

    tree = org_tree(ex)
    duck = DuckPeer(path, {u: tuple(c) for u, c in tree.children.items()})
    ids = registry.metric_ids(ex)
    mismatches = 0
    for label, unit in (("root", tree.root), ("team", team)):
        scope = Scope.unit(unit)
        ours_v = _values(registry.compute_all(ex, scope, ex.as_of))
        duck_v, _ = duck.kpis(unit, ex.as_of)
        mismatches += _compare(f"KPIs {label}", ours_v, duck_v)
        ours: list[float] = []
        peer: list[float] = []
        for _ in range(5):
            _clear_results(ex)
            ours.append(timed(lambda scope=scope: registry.compute_all(ex, scope, ex.as_of))[1])
            peer.append(duck.kpis(unit, ex.as_of)[1])
        report(
            Line(
                f"all {len(ids)} KPIs, {label} – warm (median of 5)",
                statistics.median(ours),
                TARGET_KPIS_WARM_S,
                _ratio_note(ours, peer),
            )
        )
    scope = Scope.unit(team)
    table = economy_table(ex, scope, ex.as_of, "account")
    peer_table, _ = duck.economy_by_account(team, ex.as_of)
    for r in table.iter_rows(named=True):
        mismatches += _compare(
            f"economy {r['group']}",
            {k: r[k] for k in ("budget", "actual", "committed")},
            {k: peer_table.get(r["group"], {}).get(k) for k in ("budget", "actual", "committed")},
        )
    mismatches += _compare("economy accounts", {a: 1.0 for a in table["group"]}, {a: 1.0 for a in peer_table})
    ours, peer = [], []
    for _ in range(5):
        _clear_results(ex)
        ours.append(timed(lambda: economy_table(ex, scope, ex.as_of, "account"))[1])
        peer.append(duck.economy_by_account(team, ex.as_of)[1])
    report(
        Line(
            "economy of a team by account – warm (median of 5)",
            statistics.median(ours),
            None,
            _ratio_note(ours, peer),
        )
    )
    return mismatches, duck.close()


def _compare(what: str, ours: dict[str, float | None], peer: dict[str, Any]) -> int:
    bad = 0
    for k in sorted(set(ours) | set(peer)):
        a, b = ours.get(k), peer.get(k)
        same = (a is None and b is None) or (
            a is not None and b is not None and abs(a - b) <= 1e-9 * max(1.0, abs(a))
        )
        if not same:
            bad += 1
            print(f"  MISMATCH {what} {k}: ours {a!r}, DuckDB {b!r}", flush=True)
    return bad


def bench_trends(ex: Extract, team: str) -> None:
    tree = org_tree(ex)
    ids = registry.metric_ids(ex)
    for label, unit in (("root", tree.root), ("team", team)):
        scope = Scope.unit(unit)

        def trends(scope: Scope = scope) -> None:
            for m in ids:
                registry.trend(ex, m, scope, ex.as_of)

        runs = []
        for _ in range(3):
            _clear_results(ex)
            runs.append(timed(trends)[1])
        report(
            Line(
                f"12-month trends of all KPIs, {label} (median of 3)",
                statistics.median(runs),
                TARGET_TRENDS_S,
                f"range {min(runs) * 1000:,.0f}–{max(runs) * 1000:,.0f} ms",
            )
        )


def bench_scaling(base: Path) -> float:
    print("\nScaling (each N in its own process):")
    print(
        f"{'N':>4} {'load':>8} {'root KPIs warm':>15} {'cascade cold':>13} {'per child':>10} {'peak RSS':>9}"
    )
    rss = 0.0
    for n in SCALES:
        path = ensure_extract(base if n == 80 else base.parent / f"bench{n}", n)
        r = run_probe("scale", path)
        rss = max(rss, r["rss"])
        print(
            f"{n:>4} {r['load']:>7.2f}s {r['root_warm'] * 1000:>13,.0f}ms {r['cascade_cold']:>12.2f}s "
            f"{r['cascade_cold'] / max(r['children'], 1) * 1000:>8,.0f}ms {r['rss']:>7,.0f}MB",
            flush=True,
        )
    return rss


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


def run_pages(path: Path) -> float:
    """`bench_pages` in a process of its own (the app loads its own copy of the extract); its
    lines printed here. Returns that process's peak RSS."""
    done = subprocess.run(
        [sys.executable, __file__, "--probe", "pages", "--extract", str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"probe pages failed:\n{done.stderr[-2000:]}")
    *printed, last = done.stdout.strip().splitlines()
    print("\n".join(printed), flush=True)
    out = json.loads(last)
    LINES.extend(Line(**line) for line in out["lines"])
    return float(out["rss"])


def bench_pages(path: Path) -> None:
    """Each page's server-side rerun through AppTest (run by `run_pages` in a new process). The
    viewer and a case are read from our own load, which is let go before the app loads its copy."""
    import gc

    from streamlit.testing.v1 import AppTest

    ex = load_extract(path)
    viewer = default_viewer(ex)
    header = (
        f"\nPages as the demo's default viewer: {viewer.name} ({viewer.role}, "
        f"{org_tree(ex).label(aggregate_root(ex, viewer))}), on the N = 80 extract:"
    )
    case_id = _a_case(ex, viewer)
    del ex
    gc.collect()
    os.environ["STYRING_EXTRACTS"] = str(path.parent)
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=600)
    _, first = timed(at.run)
    report(Line("app first run (loads + validates in the app)", first, note="cached afterwards"))
    print(header)
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
    parser.add_argument(
        "--browser",
        action="store_true",
        help="also time page switches and first pages in Chromium on the demo (bench/browser_timing.py)",
    )
    parser.add_argument("--skip-scaling", action="store_true", help="no N = 1, 10, 40, 80 table")
    parser.add_argument("--probe", help=argparse.SUPPRESS)
    parser.add_argument("--duck-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--extract", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--team", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.duck_worker:
        duck_worker(args.extract)
        return 0
    if args.probe:
        print(json.dumps(probe(args.probe, args.extract, args.team)))
        return 0

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
    print(f"  team: {org_tree(ex).label(team)} ({team})", flush=True)
    child_rss = bench_cold(path, team)
    mismatches, duck_rss = bench_warm(path, ex, team)
    child_rss = max(child_rss, duck_rss)
    bench_trends(ex, team)
    print(f"  values checked against DuckDB: {mismatches} mismatch(es)", flush=True)
    bench_capability(ex, team)
    if not args.skip_scaling:
        child_rss = max(child_rss, bench_scaling(args.cache))
    if not args.skip_pages:
        child_rss = max(child_rss, run_pages(path))
    script = max(peak_rss_mb(), child_rss)
    report(
        Line(
            "the benchmark script as a whole, peak RSS",
            script,
            TARGET_SCRIPT_RSS_MB,
            f"largest process: this one {peak_rss_mb():,.0f} MB (ours), others {child_rss:,.0f} MB "
            "(probes, the DuckDB peer" + (", the pages' AppTest" if not args.skip_pages else "") + ")",
            unit="MB",
        )
    )
    if not args.skip_pages:
        bench_meeting(args.meeting_cache)
    failed = [line.what for line in LINES if line.missed]
    print(f"\n{len(failed)} target(s) missed" + (": " + "; ".join(failed) if failed else "."))
    if args.browser:
        print("\nIn Chromium, on the Gladsaxe-sized demo (median of 5, range in brackets):\n", flush=True)
        subprocess.run([sys.executable, str(REPO / "bench" / "browser_timing.py"), "--runs", "5"], check=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
