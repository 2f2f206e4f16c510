"""The platform self-check: bootstrap, write one heartbeat row for the run's date, dbt build over it.

It is the smallest end-to-end path through every component (Airflow run → warehouse write → dbt),
so a broken install shows up here before any source is touched.
"""

from __future__ import annotations

from datetime import datetime

import psycopg

from grid_appeals.orchestration.connections import conninfo

DDL = """
create table if not exists ops.pipeline_heartbeat (
    dag_id text not null,
    run_date date not null,
    interval_start timestamptz not null,
    interval_end timestamptz not null,
    recorded_at timestamptz not null default now(),
    primary key (dag_id, run_date)
)
"""


def record_heartbeat(dag_id: str, run_date: str, interval_start: datetime, interval_end: datetime,
                     conn_id: str = "warehouse") -> int:
    """Upsert the heartbeat for (dag_id, run_date); return how many heartbeats the table holds."""
    with psycopg.connect(conninfo(conn_id)) as conn, conn.transaction():
        conn.execute(DDL)
        conn.execute(
            """insert into ops.pipeline_heartbeat (dag_id, run_date, interval_start, interval_end)
               values (%s, %s, %s, %s)
               on conflict (dag_id, run_date) do update
               set interval_start = excluded.interval_start, interval_end = excluded.interval_end""",
            (dag_id, run_date, interval_start, interval_end))
        return conn.execute("select count(*) from ops.pipeline_heartbeat").fetchone()[0]
