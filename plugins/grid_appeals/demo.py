"""``grid-appeals demo``: the main job on the embedded default, end to end.

1. start (or reuse) the embedded warehouse and bootstrap it (databases, schemas, roles, tables);
2. play the four source systems for a demo window (``simulate``, small scale);
3. load all but the last day in-process (the same task code the DAGs run, both cores), train the
   appeal classifier on that history;
4. run the last day through REAL Airflow DAG runs: the four ingest DAGs and the mart DAG (text
   mining → dbt build → propensity → GX gate → publish);
5. print where the data is.
Safe to run repeatedly: every step is idempotent and each run overwrites its own dates.
"""

from __future__ import annotations

import argparse
import subprocess
import time
from datetime import date, timedelta

import psycopg

from grid_appeals.airflow_command import airflow_executable
from grid_appeals.airflow_env import airflow_environment
from grid_appeals.config import Settings, settings

# A fixed window keeps the demo reproducible (dates come from data intervals, never now()): early
# summer, so heat-driven repairs and hot spots show.
DEMO_FIRST = date(2024, 6, 3)  # 5 weeks: the weekly propensity model needs ≥ 2 weeks of labelled history
DEMO_LAST = date(2024, 7, 7)
DEMO_SEED = 42
DAGS_FOR_LAST_DAY = ("ingest_95598", "ingest_marketing", "ingest_metering", "ingest_hall", "appeal_mart")


def ensure_airflow_db(cfg: Settings) -> None:
    """Create/migrate Airflow's metadata DB (SQLite in AIRFLOW_HOME); a no-op when current."""
    env = airflow_environment(cfg)
    subprocess.run([airflow_executable(), "db", "migrate"], env=env, check=True,
                   stdout=subprocess.DEVNULL)


def run_dag(dag_id: str, run_date: date, cfg: Settings) -> int:
    """Run one real DAG run covering local day ``run_date`` with ``airflow dags test``.

    With CronDataIntervalTimetable a manual run whose logical date is D+1 00:00 covers [D, D+1).
    Returns the number of tasks that succeeded.
    """
    env = airflow_environment(cfg)
    logical = (run_date + timedelta(days=1)).isoformat()
    proc = subprocess.run([airflow_executable(), "dags", "test", dag_id, logical], env=env,
                          capture_output=True, text=True)
    log_path = cfg.deploy_dir / "logs" / f"{dag_id}_{run_date}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    out = proc.stdout + proc.stderr
    log_path.write_text(out)
    # a logical date before the DAG's start_date yields a "successful" run with no tasks at all:
    # insist that tasks really ran and none failed
    ran = out.count("new_state=success")
    if proc.returncode != 0 or "state=success" not in out or ran == 0 or "new_state=failed" in out:
        raise SystemExit(f"DAG {dag_id} for {run_date} failed; log: {log_path}\n" + out[-3000:])
    print(f"  Airflow DAG run {dag_id} for {run_date}: success, {ran} task(s) (log {log_path})")
    return ran


def _summary(cfg: Settings) -> None:
    queries = {
        "raw work orders": "select count(*) from raw_95598.arc_s_95598_wkst",
        "raw meter readings": "select count(*) from raw_metering.e_mp_day_read",
        "quarantined rows": "select coalesce(sum(rows_quarantined), 0) from ops.load_log where status = 'success'",
        "failed batches (injected defects)": "select count(*) from ops.load_log where status = 'failed'",
        "nlp.appeal_text versions": "select count(*) from nlp.appeal_text",
        "marts.fct_appeals": "select count(*) from marts.fct_appeals",
        "marts.fct_hotspots_current": "select count(*) from marts.fct_hotspots_current",
        "frequent-outage areas (latest day)": "select count(*) from marts.fct_frequent_outage_areas "
            "where is_frequent_outage and as_of_date = (select max(as_of_date) from marts.fct_frequent_outage_areas)",
        "repeat chains converted to complaints": "select count(*) from marts.fct_appeal_chains where converted_to_complaint",
        "appeals scored for complaint propensity": "select count(*) from marts.fct_complaint_propensity",
    }
    with psycopg.connect(cfg.url()) as conn:
        print("\nwhere the data is:")
        print(f"  connection: {cfg.url()}")
        print(f"  psql:       psql '{cfg.url()}'")
        for label, sql in queries.items():
            print(f"  {label:<42} {conn.execute(sql).fetchone()[0]:>10,}")
        print("  top hot spots now:")
        for row in conn.execute("select hotspot_rank, appeal_date, org_name, topic, appeals, baseline_daily, "
                                "top_keywords from marts.fct_hotspots_current order by hotspot_rank limit 5"):
            print("    #{} {} {} {}: {} appeals (baseline {}/day) — {}".format(*row))
    print(f"  GX Data Docs: {cfg.deploy_dir / 'data_docs'}")


def _run(args: argparse.Namespace) -> int:
    from grid_appeals.pipeline.backfill import backfill
    from grid_appeals.simulate.runner import simulate
    from grid_appeals.text.training import train_models
    from grid_appeals.warehouse import embedded
    from grid_appeals.warehouse.bootstrap import bootstrap

    t0 = time.perf_counter()
    cfg = settings()
    if cfg.embedded:
        embedded.start(cfg.pgdata)
        print(f"warehouse: embedded PostgreSQL in {cfg.pgdata}")
    else:
        print("warehouse: external server from GRID_WAREHOUSE_URL")
    print(f"bootstrap: {bootstrap(cfg)}")
    first, last = DEMO_FIRST, DEMO_LAST
    print(f"simulating the source systems {first}..{last} (small scale, seed {DEMO_SEED}) ...")
    counts = simulate(first, last, scale="small", seed=DEMO_SEED, cfg=cfg)
    print(f"  {sum(counts.values()):,} source rows written")
    print(f"loading {first}..{last - timedelta(days=1)} in-process (same task code as the DAGs) ...")
    report = backfill(first, last - timedelta(days=1), cfg=cfg, mart=False, progress=not args.quiet)
    print("  " + report.summary().replace("\n", "\n  "))
    print("training the appeal classifier on that history ...")
    trained = train_models(last, cfg=cfg)
    print(f"  {trained['model_version']} on {trained['training_texts']:,} texts")
    from grid_appeals.pipeline.mart_tasks import run_mart_window

    print(f"building the marts for {first}..{last - timedelta(days=1)} (one dbt invocation) ...")
    run_mart_window(first, last - timedelta(days=1), cfg=cfg)
    print(f"running {last} through real Airflow DAG runs ...")
    ensure_airflow_db(cfg)
    for dag_id in DAGS_FOR_LAST_DAY:
        run_dag(dag_id, last, cfg)
    _summary(cfg)
    print(f"demo finished in {time.perf_counter() - t0:.0f}s; `make stop` stops the warehouse")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run the main job end to end on the embedded default")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_run)
