"""Connections to the deployment's databases (psycopg 3), creating databases on first use."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from grid_appeals.config import Settings, settings


def connect(role: str = "warehouse", *, cfg: Settings | None = None, autocommit: bool = False,
            **kwargs) -> psycopg.Connection:
    """Open a connection to one of the deployment's databases (warehouse, src_95598, ...)."""
    cfg = cfg or settings()
    return psycopg.connect(cfg.url(role), autocommit=autocommit, **kwargs)


def warehouse_dsn(cfg: Settings | None = None) -> str:
    """Where pipeline tasks read and write the warehouse: the Airflow connection ``warehouse``
    (``AIRFLOW_CONN_WAREHOUSE``) when set, else the platform config.

    Why: loads, text mining, propensity, the gate and dbt must all follow the same setting, so a
    deployment points every task at its warehouse by configuration alone (sources work the same way).
    """
    from grid_appeals.orchestration.connections import conninfo

    return conninfo("warehouse", cfg=cfg)


def ensure_database(name: str, *, cfg: Settings | None = None) -> bool:
    """Create database ``name`` on the deployment's server if missing. Returns True if created."""
    cfg = cfg or settings()
    with psycopg.connect(cfg.server_url("postgres"), autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone()
        if exists:
            return False
        conn.execute(sql.SQL("create database {} encoding 'UTF8' template template0").format(
            sql.Identifier(name)))
        return True


def drop_database(name: str, *, cfg: Settings | None = None) -> None:
    cfg = cfg or settings()
    with psycopg.connect(cfg.server_url("postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


@contextmanager
def transaction(role: str = "warehouse", *, cfg: Settings | None = None) -> Iterator[psycopg.Connection]:
    """A connection whose work commits on success and rolls back on any exception."""
    with connect(role, cfg=cfg) as conn, conn.transaction():
        yield conn
