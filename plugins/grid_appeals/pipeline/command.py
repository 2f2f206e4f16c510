"""``grid-appeals backfill --from D --to D [--sources ...]``."""

from __future__ import annotations

import argparse
from datetime import date


def _run(args: argparse.Namespace) -> int:
    from grid_appeals.pipeline.backfill import backfill
    from grid_appeals.warehouse.bootstrap import bootstrap

    bootstrap()  # idempotent (~0.5 s): a backfill into a fresh deployment needs the schemas and ledger

    report = backfill(date.fromisoformat(args.date_from), date.fromisoformat(args.date_to),
                      sources=args.sources, mart=not args.no_mart, jobs=args.jobs)
    print(report.summary())
    return 1 if report.failed else 0


def register(sub: argparse._SubParsersAction) -> None:
    from grid_appeals.pipeline.backfill import SOURCES

    p = sub.add_parser("backfill", help="run the daily pipeline in-process for a date range")
    p.add_argument("--from", dest="date_from", required=True, help="first day, YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", required=True, help="last day (inclusive), YYYY-MM-DD")
    p.add_argument("--sources", nargs="+", default=list(SOURCES), choices=SOURCES)
    p.add_argument("--jobs", type=int, default=2, help="parallel load processes (default 2 = cores)")
    p.add_argument("--no-mart", action="store_true", help="load raw only; skip text mining, dbt and publish")
    p.set_defaults(func=_run)
