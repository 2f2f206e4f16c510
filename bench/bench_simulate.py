"""Benchmark of the source simulator: rows/s per entity for the small and province presets.

Usage: ``.venv/bin/python bench/bench_simulate.py [--days 7] [--province-days 1] [--skip-province]``.
Writes into the ``gridbench`` database prefix so the demo's data is untouched. The province preset
(10 M customers) runs on a reduced number of days; the world (c_cons/c_mp COPY) is timed separately.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import date, timedelta

os.environ.setdefault("GRID_DB_PREFIX", "gridbench")


def run(scale: str, days: int, start: date) -> None:
    from grid_appeals.simulate.runner import simulate

    t0 = time.perf_counter()
    counts = simulate(start, start + timedelta(days=days - 1), scale=scale, seed=42)
    dt = time.perf_counter() - t0
    print(f"\n== {scale}: {days} day(s) in {dt:.1f}s (incl. world/static tables on first run) ==")
    for k, v in sorted(counts.items()):
        print(f"  {k:28s} {v:>12,d} rows  {v / dt:>12,.0f} rows/s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--province-days", type=int, default=1)
    ap.add_argument("--skip-province", action="store_true")
    a = ap.parse_args()
    run("small", a.days, date(2024, 7, 1))
    if not a.skip_province:
        run("province", a.province_days, date(2024, 7, 1))


if __name__ == "__main__":
    main()
