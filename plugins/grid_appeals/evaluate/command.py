"""``grid-appeals report defects|marts|text …``: evaluations of a loaded window vs ground truth."""

from __future__ import annotations

import argparse
from datetime import date


def _defects(args: argparse.Namespace) -> int:
    from grid_appeals.evaluate.defects import GOAL, defect_capture

    report = defect_capture(date.fromisoformat(args.date_from), date.fromisoformat(args.date_to))
    print(report.render())
    low = report.table[report.table["capture_pct"] < GOAL * 100]
    return 1 if len(low) else 0


def _marts(args: argparse.Namespace) -> int:
    """Mart correctness (hot spots, frequent outages, chains, propensity); 1 when a goal is missed."""
    from pathlib import Path

    from grid_appeals.config import settings
    from grid_appeals.evaluate.marts_eval import evaluate_marts

    cfg = settings()
    report = evaluate_marts(date.fromisoformat(args.date_from), date.fromisoformat(args.date_to), cfg=cfg,
                            score_from=date.fromisoformat(args.score_from) if args.score_from else None)
    print(report.render())
    md, js = report.write(Path(args.out) if args.out else cfg.deploy_dir / "reports")
    print(f"written: {md} {js}")
    return 0 if report.passed() else 1


def _sim_text(args: argparse.Namespace) -> int:
    from grid_appeals.evaluate.sim_text import sim_text_stats

    stats = sim_text_stats(date.fromisoformat(args.date_from), date.fromisoformat(args.date_to),
                           examples=args.examples)
    print(stats.render())
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``report`` with its ``defects`` sub-command (other evaluation reports can join later)."""
    report = sub.add_parser("report", help="evaluation reports against the simulator's ground truth")
    rsub = report.add_subparsers(dest="report", required=True)
    p = rsub.add_parser("defects", help="capture %% per injected defect kind for a loaded window")
    p.add_argument("--from", dest="date_from", required=True, help="first day, YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", required=True, help="last day (inclusive), YYYY-MM-DD")
    p.set_defaults(func=_defects)
    m = rsub.add_parser("marts", help="mart correctness vs ground truth (hot spots, outages, chains, propensity)")
    m.add_argument("--from", dest="date_from", required=True, help="first day of the loaded window, YYYY-MM-DD")
    m.add_argument("--to", dest="date_to", required=True, help="last day (inclusive), YYYY-MM-DD")
    m.add_argument("--score-from", dest="score_from", default=None,
                   help="first propensity run date judged (default: the window's midpoint)")
    m.add_argument("--out", default=None, help="folder for the .md/.json report (default var/<prefix>/reports)")
    m.set_defaults(func=_marts)
    t = rsub.add_parser("sim-text", help="breadth of the simulated appeal text (distinct ratio, vocabulary, examples)")
    t.add_argument("--from", dest="date_from", required=True, help="first creation day, YYYY-MM-DD")
    t.add_argument("--to", dest="date_to", required=True, help="last creation day (inclusive), YYYY-MM-DD")
    t.add_argument("--examples", type=int, default=20, help="example texts to print")
    t.set_defaults(func=_sim_text)
    from grid_appeals.evaluate.text_eval import register_text_eval

    register_text_eval(rsub)
