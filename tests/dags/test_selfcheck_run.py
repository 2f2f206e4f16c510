"""A real Airflow DAG run (``airflow dags test``) writes to the warehouse and runs dbt over it."""

from __future__ import annotations

import subprocess
from datetime import date

import psycopg

from grid_appeals.airflow_command import airflow_executable
from grid_appeals.airflow_env import airflow_environment
from grid_appeals.demo import ensure_airflow_db, run_dag


def test_selfcheck_dag_run_writes_row_and_builds_mart(warehouse) -> None:
    ensure_airflow_db(warehouse)
    day = date(2026, 3, 9)
    with psycopg.connect(warehouse.url(), autocommit=True) as conn:
        conn.execute(
            "create table if not exists ops.pipeline_heartbeat (dag_id text, run_date date, "
            "interval_start timestamptz, interval_end timestamptz, recorded_at timestamptz "
            "default now(), primary key (dag_id, run_date))"
        )
        conn.execute("delete from ops.pipeline_heartbeat where run_date = %s", (day,))
    for _ in range(2):  # a re-run of the same date overwrites, it does not duplicate
        run_dag("platform_selfcheck", day, warehouse)
    with psycopg.connect(warehouse.url()) as conn:
        rows = conn.execute(
            "select run_date, extract(epoch from interval_end - interval_start) from ops.pipeline_heartbeat "
            "where dag_id = 'platform_selfcheck' and run_date = %s",
            (day,),
        ).fetchall()
        assert rows == [(day, 86400)]
        mart = conn.execute(
            "select count(*) from marts.fct_platform_runs where run_date = %s", (day,)
        ).fetchone()[0]
        assert mart == 1


def test_airflow_sees_dag_with_env_connections(warehouse) -> None:
    env = airflow_environment(warehouse)
    out = subprocess.run(
        [airflow_executable(), "connections", "get", "warehouse", "-o", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert warehouse.db_name("warehouse") in out
