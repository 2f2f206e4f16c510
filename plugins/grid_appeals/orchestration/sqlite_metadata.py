"""SQLite as Airflow's metadata DB for the local stack: wait for locks, and write-ahead logging.

Why: with scheduler, dag-processor, api-server and CLI commands (``backfill create``) writing one
SQLite file on a loaded 2-core box, pysqlite's default 5 s lock wait is exceeded and a command
dies with "database is locked" half-way (seen: a backfill create failing after 4 of 7 runs, and
the scheduler crashing on the rolled-back runs). WAL lets readers proceed while one process writes;
the longer busy timeout lets writers queue instead of failing. Both are no-ops for Postgres.
Airflow imports these dicts by dotted path (``[database] sql_alchemy_connect_args``).
"""

from __future__ import annotations

import sqlite3

BUSY_TIMEOUT_S = 60
CONNECT_ARGS: dict = {"timeout": BUSY_TIMEOUT_S}
CONNECT_ARGS_ASYNC: dict = {"timeout": BUSY_TIMEOUT_S}
CONNECT_ARGS_PATH = f"{__name__}.CONNECT_ARGS"
CONNECT_ARGS_ASYNC_PATH = f"{__name__}.CONNECT_ARGS_ASYNC"


def enable_wal(sql_alchemy_conn: str) -> bool:
    """Switch a SQLite metadata DB to WAL (persistent in the file); False for other databases."""
    if not sql_alchemy_conn.startswith("sqlite:///"):
        return False
    with sqlite3.connect(sql_alchemy_conn.removeprefix("sqlite:///"), timeout=BUSY_TIMEOUT_S) as conn:
        mode = conn.execute("pragma journal_mode=wal").fetchone()[0]
    return str(mode).lower() == "wal"
