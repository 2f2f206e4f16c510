"""``grid-appeals report defects --from D --to D``: defect capture of a loaded window vs ground truth."""

from __future__ import annotations

import argparse
from datetime import date


def _defects(args: argparse.Namespace) -> int:
    from grid_appeals.evaluate.defects import GOAL, defect_capture

    report = defect_capture(date.fromisoformat(args.date_from), date.fromisoformat(args.date_to))
    print(report.render())
    low = report.table[report.table["capture_pct"] < GOAL * 100]
    return 1 if len(low) else 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``report`` with its ``defects`` sub-command (other evaluation reports can join later)."""
    report = sub.add_parser("report", help="evaluation reports against the simulator's ground truth")
    rsub = report.add_subparsers(dest="report", required=True)
    p = rsub.add_parser("defects", help="capture %% per injected defect kind for a loaded window")
    p.add_argument("--from", dest="date_from", required=True, help="first day, YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", required=True, help="last day (inclusive), YYYY-MM-DD")
    p.set_defaults(func=_defects)
