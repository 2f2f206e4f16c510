"""``grid-appeals simulate --from DATE --to DATE --scale small|province --seed N [--no-defects]``."""

from __future__ import annotations

import argparse
import json
import time
from datetime import date


def _run(args: argparse.Namespace) -> int:
    from grid_appeals.simulate.defects import DefectRates
    from grid_appeals.simulate.runner import simulate

    t0 = time.perf_counter()
    counts = simulate(date.fromisoformat(args.date_from), date.fromisoformat(args.date_to), scale=args.scale,
                      seed=args.seed, defects=DefectRates.none() if args.no_defects else None, progress=True,
                      surge_rate=args.surge_rate)
    print(json.dumps(counts, ensure_ascii=False, indent=1))
    print(f"done in {time.perf_counter() - t0:.1f}s")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("simulate", help="generate the four source systems for a date range")
    p.add_argument("--from", dest="date_from", required=True, help="first date, YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", required=True, help="last date (inclusive), YYYY-MM-DD")
    p.add_argument("--scale", default="small", choices=["tiny", "small", "province"])
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--no-defects", action="store_true", help="generate clean data (no injected defects)")
    p.add_argument("--surge-rate", type=float, default=None,
                   help="daily chance a planted hot-spot surge starts (default 0.1); more gives an evaluation "
                        "of hot-spot detection more surges to find")
    p.set_defaults(func=_run)
