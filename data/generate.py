"""Deterministic synthetic extracts for the demo and the tests.

One world is simulated per (seed, scale, size, year of the newest as_of); every extract of a series
is a snapshot of that world on its as_of, so consecutive extracts agree with each other.

    python -m data.generate [--out data/extracts] [--seed 2017] [--end YYYY-MM-DD] [--count 7]
                            [--scale 1] [--single] [--small] [--defects]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl

from data._params import HISTORY_START
from data._snapshot import DEFECTS, inject_defects, snapshot
from data._world import World, build_world
from metrics.contract import ALL_TABLE_NAMES, CONTRACT_VERSION, MANIFEST_FILE, file_name

Progress = Callable[[float, str], None]

DEFAULT_OUT = Path(__file__).resolve().parent / "extracts"
SOURCES = (
    "Sagssystem for børn og unge (syntetisk)",
    "Økonomisystem (syntetisk)",
    "HR- og lønsystem (syntetisk)",
    "Tilfredshedsundersøgelser (syntetisk)",
)

__all__ = ["DEFECTS", "default_end", "ensure_demo_data", "generate_extract", "generate_series"]


def default_end(today: date | None = None) -> date:
    """The most recent Friday on or before today."""
    today = today or date.today()
    return today - timedelta(days=(today.weekday() - 4) % 7)


def _quiet(fraction: float, text: str) -> None:
    pass


def _sub(progress: Progress, lo: float, hi: float) -> Progress:
    return lambda f, text: progress(lo + (hi - lo) * min(max(f, 0.0), 1.0), text)


def _write(
    out_root: Path, world: World, as_of: date, *, seed: int, scale: int, size: str, defects: bool
) -> Path:
    tables = snapshot(world, as_of)
    if defects:
        tables = inject_defects(tables, as_of)
    manifest = {
        "contract_version": CONTRACT_VERSION,
        "municipality": world.municipality,
        "as_of": as_of.isoformat(),
        # fixed, not the wall clock, so that the same seed gives the same files
        "created_at": datetime.combine(as_of, datetime.min.time()).replace(hour=19, minute=30).isoformat(),
        "sources": [
            *SOURCES,
            f"Demodata fra data/generate.py (seed {seed}, scale {scale}, size {size}"
            f"{', med fejlrækker' if defects else ''})",
        ],
        "synthetic": True,
    }
    out_root.mkdir(parents=True, exist_ok=True)
    final = out_root / as_of.isoformat()
    # written next to the final folder and renamed, so a reader never sees half an extract
    tmp = out_root / f".{as_of.isoformat()}.tmp-{os.getpid()}-{threading.get_ident()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    for name in ALL_TABLE_NAMES:
        if name in tables:  # optional tables (contacts) only when the world has them
            tables[name].write_parquet(tmp / file_name(name), compression="zstd", statistics=True)
    (tmp / MANIFEST_FILE).write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    if final.exists():
        shutil.rmtree(final)
    try:
        tmp.rename(final)
    except OSError:
        if not (final / MANIFEST_FILE).is_file():
            raise
        shutil.rmtree(tmp)  # another process wrote the same extract meanwhile
    return final


def generate_series(
    out_root: Path,
    *,
    end: date,
    seed: int = 2017,
    count: int = 7,
    interval_days: int = 14,
    scale: int = 1,
    size: str = "full",
    defects: bool = False,
    progress: Progress | None = None,
) -> list[Path]:
    """Writes out_root/<as_of ISO>/ folders (manifest.json + 11 parquet files); returns their paths, newest first.

    progress(fraction 0..1, Danish text) is called as work proceeds. Defects, if asked for, go into
    the newest extract only.
    """
    if count < 1:
        raise ValueError("count must be ≥ 1")
    if interval_days < 1:
        raise ValueError("interval_days must be ≥ 1")
    oldest = end - timedelta(days=(count - 1) * interval_days)
    if oldest < HISTORY_START:
        raise ValueError(
            f"the oldest extract ({oldest}) would be before the history starts ({HISTORY_START})"
        )
    progress = progress or _quiet
    out_root = Path(out_root)
    progress(0.0, "Simulerer demodata")
    world = build_world(seed=seed, scale=scale, size=size, reference=end, progress=_sub(progress, 0.0, 0.6))
    paths = []
    for i in range(count):
        as_of = end - timedelta(days=i * interval_days)
        progress(0.6 + 0.4 * i / count, f"Skriver udtræk {as_of.isoformat()} ({i + 1} af {count})")
        paths.append(
            _write(out_root, world, as_of, seed=seed, scale=scale, size=size, defects=defects and i == 0)
        )
    progress(1.0, "Demodata er klar")
    return paths


def generate_extract(
    out_root: Path,
    *,
    as_of: date,
    seed: int = 2017,
    scale: int = 1,
    size: str = "full",
    defects: bool = False,
    progress: Progress | None = None,
) -> Path:
    """One extract; the same as the newest of generate_series(end=as_of) with the same arguments."""
    return generate_series(
        out_root, end=as_of, seed=seed, count=1, scale=scale, size=size, defects=defects, progress=progress
    )[0]


def _extract_dirs(root: Path) -> list[Path]:
    found = []
    for p in root.iterdir() if root.is_dir() else []:
        try:
            date.fromisoformat(p.name)
        except ValueError:
            continue
        if (p / MANIFEST_FILE).is_file():
            found.append(p)
    return sorted(found, key=lambda p: p.name, reverse=True)


_DEMO_LOCK = threading.Lock()


def ensure_demo_data(root: Path, progress: Progress | None = None) -> list[Path]:
    """Generate the default series into root unless it already holds an extract; paths newest first."""
    root = Path(root)
    # Two browser sessions of one server may both find the folder empty at first start.
    with _DEMO_LOCK:
        existing = _extract_dirs(root)
        if existing:
            return existing
        return generate_series(root, end=default_end(), progress=progress)


def summary(path: Path) -> str:
    """Rows per table and spend per year of one written extract."""
    lines = [f"Udtræk {path.name}:"]
    for name in ALL_TABLE_NAMES:
        if not (path / file_name(name)).is_file():
            continue
        n = pl.scan_parquet(path / file_name(name)).select(pl.len()).collect().item()
        lines.append(f"  {name:<20} {n:>10,} rækker".replace(",", "."))
    spend = (
        pl.scan_parquet(path / file_name("payments"))
        .group_by(pl.col("period").dt.year().alias("år"))
        .agg(pl.col("amount").sum())
        .sort("år")
        .collect()
    )
    budget = (
        pl.scan_parquet(path / file_name("budgets"))
        .group_by(pl.col("year").alias("år"))
        .agg(pl.col("amount").sum().alias("budget"))
        .collect()
    )
    lines.append("  Forbrug pr. år (betalt til og med as_of) og budget, mio. kr.:")
    for r in spend.join(budget, on="år", how="left").sort("år").iter_rows(named=True):
        b = r["budget"]
        lines.append(f"    {r['år']}: {r['amount'] / 1e6:8.1f}   budget {b / 1e6 if b else 0:8.1f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m data.generate", description="Dan syntetiske demo-udtræk.")
    ap.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="rodmappe for udtræk (default data/extracts)"
    )
    ap.add_argument("--seed", type=int, default=2017)
    ap.add_argument(
        "--end", type=date.fromisoformat, default=None, help="nyeste as_of (default: seneste fredag)"
    )
    ap.add_argument("--count", type=int, default=7, help="antal udtræk, hver 14. dag")
    ap.add_argument("--scale", type=int, default=1, help="antal kommuner (80 ≈ hele landet)")
    ap.add_argument("--single", action="store_true", help="kun det nyeste udtræk")
    ap.add_argument("--small", action="store_true", help="lille datasæt til tests")
    ap.add_argument("--defects", action="store_true", help="læg et par fejlrækker i det nyeste udtræk")
    ap.add_argument(
        "--calibration", action="store_true", help="udskriv kalibreringstabellen for det nyeste udtræk"
    )
    args = ap.parse_args(argv)
    if args.scale < 1 or args.count < 1:
        ap.error("--scale og --count skal være mindst 1")
    t0 = time.perf_counter()
    last = [-1.0]

    def report(f: float, text: str) -> None:
        if f - last[0] >= 0.05 or f >= 1.0:
            last[0] = f
            print(f"[{time.perf_counter() - t0:6.1f} s] {f * 100:5.1f} %  {text}", flush=True)

    paths = generate_series(
        args.out,
        end=args.end or default_end(),
        seed=args.seed,
        count=1 if args.single else args.count,
        scale=args.scale,
        size="small" if args.small else "full",
        defects=args.defects,
        progress=report,
    )
    print(f"Skrev {len(paths)} udtræk til {args.out} på {time.perf_counter() - t0:.1f} s.")
    print(summary(paths[0]))
    if args.calibration:
        from data._calibration import table

        print(table(paths[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
