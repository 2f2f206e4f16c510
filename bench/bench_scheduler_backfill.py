"""Scheduler backfill (``airflow backfill create`` on a local stack) vs the in-process CLI backfill.

    .venv/bin/python bench/bench_scheduler_backfill.py [--dag-source hall] [--windows 2 7] [--seed 5]

Same machine, same command, same simulated days (tiny scale, no defects), databases prefixed
``gridbench_sched`` (or ``$GRID_DB_PREFIX``), own Airflow home under ``var/<prefix>/airflow``.
For each window of N days (consecutive, non-overlapping, so no backfill has to reprocess):
- in-process: ``grid-appeals backfill --from A --to B --sources <src> --no-mart`` as a subprocess
  (what an operator types; includes its interpreter start), wall time;
- scheduler: ``airflow dags unpause`` + ``airflow backfill create`` CLI calls, then until every
  backfill run has finished (polling the metadata DB every 2 s), wall time; the stack
  (api-server + scheduler + dag-processor) is started once beforehand, its start-up is reported
  separately.
The ratio scheduler / in-process is the number to compare across machines and loads.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))

os.environ.setdefault("GRID_DB_PREFIX", "gridbench_sched")
from grid_appeals.config import settings  # noqa: E402

CFG = settings()
os.environ.setdefault("AIRFLOW_HOME", str(CFG.var_dir / CFG.db_prefix / "airflow"))

from grid_appeals.orchestration.local_stack import LocalStack  # noqa: E402
from grid_appeals.orchestration.scheduler_backfill import create_backfill, wait_for_backfill  # noqa: E402
from grid_appeals.simulate.defects import DefectRates  # noqa: E402
from grid_appeals.simulate.runner import simulate  # noqa: E402
from grid_appeals.warehouse.bootstrap import bootstrap  # noqa: E402

FIRST = date(2024, 5, 6)


def in_process(source: str, first: date, last: date) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        [
            str(Path(sys.executable).parent / "grid-appeals"),
            "backfill",
            "--from",
            first.isoformat(),
            "--to",
            last.isoformat(),
            "--sources",
            source,
            "--no-mart",
        ],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - t0


def scheduler(stack: LocalStack, dag_id: str, first: date, last: date) -> float:
    already = len(stack.metadata_query("select run_id from dag_run where dag_id = :d", d=dag_id))
    t0 = time.perf_counter()
    create_backfill(stack, dag_id, first, last)
    runs = wait_for_backfill(stack, dag_id, already + (last - first).days + 1, timeout=1800, poll=2)
    elapsed = time.perf_counter() - t0
    bad = [r for r in runs if r.state != "success"]
    if bad:
        raise SystemExit(f"backfill runs not successful: {bad}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dag-source", default="hall")
    ap.add_argument("--windows", type=int, nargs="+", default=[2, 7])
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args()
    dag_id = f"ingest_{args.dag_source}"
    last = FIRST + timedelta(days=sum(args.windows) - 1)
    bootstrap(CFG)
    simulate(FIRST, last, scale="tiny", seed=args.seed, cfg=CFG, defects=DefectRates.none())
    stack = LocalStack(CFG, schedule=False, extra_env={"GRID_START_DATE": FIRST.isoformat()})
    stack.reset_metadata()
    t0 = time.perf_counter()
    try:
        stack.start(wait_for_dags=[dag_id])
        print(
            f"stack start-up (db migrate + api-server/scheduler/dag-processor healthy + DAGs parsed): "
            f"{time.perf_counter() - t0:.1f}s"
        )
        start = FIRST
        for n in args.windows:
            end = start + timedelta(days=n - 1)
            t_in = in_process(args.dag_source, start, end)
            t_sched = scheduler(stack, dag_id, start, end)
            print(
                f"{dag_id} {n} day(s) {start}..{end}: in-process CLI {t_in:.1f}s, scheduler backfill "
                f"{t_sched:.1f}s, ratio scheduler/in-process {t_sched / t_in:.2f}"
            )
            start = end + timedelta(days=1)
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
