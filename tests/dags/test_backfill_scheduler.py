"""``airflow backfill create`` with a REAL scheduler: runs are created, scheduled and executed.

A local stack (api-server + scheduler + dag-processor, LocalExecutor, SQLite metadata, free ports
on 127.0.0.1) runs for a tiny simulated two-day window in its own databases and Airflow home
(``<test prefix>_sched``), the cheapest ingest DAG (``ingest_hall``: three small entities) is
unpaused and backfilled with the plain Airflow CLI, and the warehouse must hold exactly one
successful load per entity and day. Time-based scheduling is off in this stack, so unpausing does
not start catching up from ``GRID_START_DATE``; backfill runs are still scheduled normally.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest

from grid_appeals.config import Settings, settings
from grid_appeals.orchestration.dag_defaults import TZ
from grid_appeals.orchestration.local_stack import LocalStack
from grid_appeals.orchestration.scheduler_backfill import BackfillRun, create_backfill, wait_for_backfill
from grid_appeals.sources.contracts import load_contracts

DAG_ID = "ingest_hall"
FIRST, LAST = date(2024, 3, 11), date(2024, 3, 12)
DAYS = [FIRST + timedelta(days=i) for i in range((LAST - FIRST).days + 1)]


@pytest.fixture(scope="module")
def sched_cfg(cfg: Settings) -> Iterator[Settings]:
    """Settings of a private deployment ``<prefix>_sched``: own databases, landing zone, Airflow home."""
    prefix = f"{cfg.db_prefix}_sched"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GRID_DB_PREFIX", prefix)
        mp.setenv("AIRFLOW_HOME", str(cfg.var_dir / prefix / "airflow"))
        yield settings()


@pytest.fixture(scope="module")
def backfilled(sched_cfg: Settings) -> Iterator[tuple[LocalStack, list[BackfillRun]]]:
    """Start the stack, simulate the window meanwhile, backfill it; stop everything afterwards."""
    from grid_appeals.simulate.defects import DefectRates
    from grid_appeals.simulate.runner import simulate
    from grid_appeals.warehouse.bootstrap import bootstrap
    from grid_appeals.warehouse.connection import drop_database

    stack = LocalStack(
        sched_cfg,
        schedule=False,
        extra_env={"GRID_START_DATE": FIRST.isoformat(), "GRID_GX_DATA_DOCS": "all"},
    )
    stack.reset_metadata()  # no runs or backfills left over from an earlier (maybe killed) session
    try:
        stack.start(wait=False)  # components boot while the sources are simulated
        for role in ("warehouse", "src_95598", "src_marketing", "sim_truth"):
            drop_database(sched_cfg.db_name(role), cfg=sched_cfg)
        shutil.rmtree(sched_cfg.landing_dir, ignore_errors=True)
        bootstrap(sched_cfg)
        simulate(FIRST, LAST, scale="tiny", seed=11, cfg=sched_cfg, defects=DefectRates.none())
        stack.wait_ready(wait_for_dags=[DAG_ID], timeout=180)
        create_backfill(stack, DAG_ID, FIRST, LAST)
        yield stack, wait_for_backfill(stack, DAG_ID, len(DAYS), timeout=240)
    finally:
        stack.stop()


def test_backfill_runs_succeed_with_interval_start_as_logical_date(backfilled) -> None:
    _, runs = backfilled
    assert [(r.day, r.state) for r in runs] == [(d, "success") for d in DAYS], runs
    for r in runs:
        assert r.logical_date == r.data_interval_start, r
        local = r.data_interval_start.astimezone(ZoneInfo(TZ))
        assert (local.hour, local.minute) == (0, 0), r  # a whole local day [00:00, 24:00)
        assert r.data_interval_end - r.data_interval_start == timedelta(days=1), r


def test_each_entity_and_day_loaded_once_into_raw(backfilled, sched_cfg: Settings) -> None:
    contracts = {c.name: c for c in load_contracts("hall")}
    with psycopg.connect(sched_cfg.url()) as conn:
        ledger = sorted(
            conn.execute(
                "select entity, data_date, status, rows_loaded, batch_id from ops.load_log where source = 'hall'"
            ).fetchall()
        )
        assert [(e, d, s) for e, d, s, _, _ in ledger] == [
            (name, d, "success") for name in sorted(contracts) for d in DAYS
        ]
        for entity, day, _, rows_loaded, batch_id in ledger:
            c = contracts[entity]
            in_raw = conn.execute(
                f'select count(*) from "{c.raw_schema}"."{c.raw_table}" where _batch_id = %s and _data_date = %s',
                (batch_id, day),
            ).fetchone()[0]
            assert in_raw == rows_loaded, (entity, day)
        tickets = conn.execute(
            "select count(*) from raw_hall.hall_ticket where _data_date = any(%s) "
            "group by _data_date order by _data_date",
            (DAYS,),
        ).fetchall()
        assert len(tickets) == len(DAYS) and all(n > 0 for (n,) in tickets), tickets


def test_data_docs_task_renders_every_batch_of_the_runs(backfilled, sched_cfg: Settings) -> None:
    """The loads only save their GX results; the DAG's ``data_docs`` task renders them once per run."""
    with psycopg.connect(sched_cfg.url()) as conn:
        batches = [
            b for (b,) in conn.execute("select batch_id::text from ops.load_log where source = 'hall'")
        ]
    index = (sched_cfg.deploy_dir / "data_docs" / "index.html").read_text(encoding="utf-8")
    assert batches and all(b in index for b in batches), [b for b in batches if b not in index]
