"""Benchmark of the source simulator: rows/s per entity for the small and province presets.

Usage: ``.venv/bin/python bench/bench_simulate.py [--days 7] [--province-days 1] [--skip-province] [--keep]``.

Writes into its own database prefix (``gridbench`` unless ``GRID_DB_PREFIX`` says otherwise; never
the demo's ``grid`` nor the tests' ``gridtest``) and drops those databases and the landing files
before and after each preset — the province output is tens of GB. For each preset it reports the
world + static tables (c_cons/c_mp COPY) separately from the daily generation, then rows and rows/s
per entity (rows of the entity ÷ wall time of the daily phase: the throughput the whole generator
sustains, since entities of a day are produced together), plus peak RSS of this process and of
the worker processes.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import time
from datetime import date, timedelta

os.environ.setdefault("GRID_DB_PREFIX", "gridbench")


def _clean() -> None:
    from grid_appeals.config import settings
    from grid_appeals.simulate.world import build_world
    from grid_appeals.warehouse.connection import drop_database

    cfg = settings()
    assert cfg.db_prefix not in ("grid", "gridtest"), "the benchmark must not touch the demo or test databases"
    for role in ("src_95598", "src_marketing", "sim_truth"):
        drop_database(cfg.db_name(role), cfg=cfg)
    shutil.rmtree(cfg.landing_dir, ignore_errors=True)
    build_world.cache_clear()


def _landing_bytes() -> int:
    from grid_appeals.config import settings

    root = settings().landing_dir
    return sum(f.stat().st_size for f in root.rglob("*") if f.is_file()) if root.exists() else 0


def run(scale: str, days: int, start: date, keep: bool) -> dict[str, float]:
    """Simulate ``days`` days of ``scale`` into fresh databases and print the throughput."""
    from grid_appeals.simulate.runner import simulate

    _clean()
    try:
        # phase 1: world + static tables only (a zero-length range is not allowed: simulate the
        # day before the range, then time the daily phase separately)
        t0 = time.perf_counter()
        warm = simulate(start - timedelta(days=1), start - timedelta(days=1), scale=scale, seed=42)
        t_static = time.perf_counter() - t0
        print(f"[{scale}] world + static tables + first day: {t_static:.1f}s", flush=True)
        t1 = time.perf_counter()
        counts = simulate(start, start + timedelta(days=days - 1), scale=scale, seed=42)
        dt = time.perf_counter() - t1
        size = _landing_bytes()
    finally:
        if not keep:
            _clean()
    rss_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rss_kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"\n== {scale}: world + static tables + first day: {t_static:.1f}s "
          f"({', '.join(f'{k} {v:,d}' for k, v in warm.items() if k in ('c_cons', 'g_tg', 'o_org'))})")
    print(f"== {scale}: {days} day(s) in {dt:.1f}s ({dt / days:.1f} s/day), landing files {size / 1e9:.2f} GB, "
          f"peak RSS parent {rss_self:,.0f} MB, largest worker {rss_kids:,.0f} MB ==")
    print(f"  {'entity':30s} {'rows':>12s} {'rows/day':>12s} {'rows/s':>12s}")
    for k, v in sorted(counts.items()):
        print(f"  {k:30s} {v:>12,d} {v / days:>12,.0f} {v / dt:>12,.0f}")
    total = sum(counts.values())
    print(f"  {'all entities':30s} {total:>12,d} {total / days:>12,.0f} {total / dt:>12,.0f}")
    return {"static_s": t_static, "days_s": dt, **{k: v / dt for k, v in counts.items()}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--province-days", type=int, default=1)
    ap.add_argument("--skip-province", action="store_true")
    ap.add_argument("--skip-small", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the databases/files afterwards")
    a = ap.parse_args()
    if not a.skip_small:
        run("small", a.days, date(2024, 7, 1), a.keep)
    if not a.skip_province:
        run("province", a.province_days, date(2024, 7, 1), a.keep)


if __name__ == "__main__":
    main()
