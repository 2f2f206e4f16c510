"""SQL connector: rows of one data interval streamed out of a source database with ``COPY TO``.

Why COPY (…) TO STDOUT as CSV: it is the fastest way out of Postgres and yields text exactly like a
file drop, so SQL and file sources share one parser and one validation path. Rows are selected when
their update time falls in [start, end), or their event time does and they were not updated after
the interval (a later run will get that newer state) — so late status changes land on the day they
happen and a backfill of an old date never stamps today's state onto it. Insert-only tables with
late rows widen the event-time window by ``lookback_days``; ``snapshot`` entities select the whole
table, ``changed`` entities the rows whose ``changed_columns`` fall in the interval (or the whole
table when the caller asks for a full snapshot) — see :mod:`grid_appeals.sources.contracts`.

Where the database lives is configuration: the contract's ``conn_id`` is an Airflow connection id.
Resolution order: a ``conn_resolver`` callable (the DAG passes one backed by Airflow's
``BaseHook``), else ``AIRFLOW_CONN_<ID>`` (URI or Airflow's JSON form), else the deployment's own
database ``cfg.url(conn_id)`` (the simulator's ``src_95598`` etc.).
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import quote

import numpy as np
import psycopg
import pyarrow as pa
from psycopg import sql

from grid_appeals.config import Settings
from grid_appeals.sources.batch import (
    SOURCE_FILE,
    SOURCE_ROW,
    ExtractedBatch,
    check_columns,
    constant_column,
    normalise_header,
    read_csv_strings,
)
from grid_appeals.sources.contracts import EntityContract

ConnResolver = Callable[[str], str]


def _json_conn_to_uri(doc: dict) -> str:
    scheme = {"postgres": "postgresql"}.get(doc.get("conn_type", "postgres"), doc.get("conn_type"))
    auth = ""
    if doc.get("login"):
        auth = (
            quote(doc["login"], safe="")
            + (":" + quote(doc["password"], safe="") if doc.get("password") else "")
            + "@"
        )
    host = doc.get("host", "") + (f":{doc['port']}" if doc.get("port") else "")
    return f"{scheme}://{auth}{host}/{doc.get('schema', '')}"


def resolve_conn_url(conn_id: str, cfg: Settings, conn_resolver: ConnResolver | None = None) -> str:
    """libpq URL for an Airflow connection id (see module doc for the resolution order)."""
    if conn_resolver is not None:
        return conn_resolver(conn_id)
    env = os.environ.get(f"AIRFLOW_CONN_{conn_id.upper()}")
    if env:
        env = env.strip()
        return _json_conn_to_uri(json.loads(env)) if env.startswith("{") else env
    return cfg.url(conn_id)


def airflow_conn_resolver(conn_id: str) -> str:
    """Resolver for use inside Airflow tasks: the connection's URI from Airflow's secrets backends."""
    from airflow.sdk import BaseHook  # imported lazily: the engine must not need Airflow

    uri = BaseHook.get_connection(conn_id).get_uri()
    return uri.replace("postgres://", "postgresql://", 1)


def _interval_query(
    contract: EntityContract, start: datetime, end: datetime, *, full: bool = False
) -> sql.Composed:
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in contract.column_names)
    table = sql.SQL(".").join(sql.Identifier(p) for p in contract.table.split("."))  # type: ignore[union-attr]
    s, e = sql.Literal(start), sql.Literal(end)
    ev = sql.Identifier(contract.event_time) if contract.event_time else None
    if contract.mode == "snapshot" or (contract.mode == "changed" and full):
        where = sql.SQL("true")
    elif contract.mode == "changed" and not contract.changed_columns:
        where = sql.SQL("false")  # refreshed by the periodic full snapshot only
    elif contract.mode == "changed":
        where = sql.SQL(" or ").join(
            sql.SQL("({c} >= {s} and {c} < {e})").format(c=sql.Identifier(c), s=s, e=e)
            for c in contract.changed_columns
        )
    elif contract.updated_at:
        up = sql.Identifier(contract.updated_at)
        where = sql.SQL("({up} >= {s} and {up} < {e})").format(up=up, s=s, e=e)
        if ev is not None:
            where = sql.SQL("{w} or ({ev} >= {s} and {ev} < {e} and ({up} is null or {up} < {e}))").format(
                w=where, ev=ev, up=up, s=s, e=e
            )
    elif ev is not None:
        lo = sql.Literal(start - timedelta(days=contract.lookback_days))
        where = sql.SQL("{ev} >= {s} and {ev} < {e}").format(ev=ev, s=lo, e=e)
    else:
        where = sql.SQL("true")
    order = sql.SQL(", ").join(sql.Identifier(c) for c in contract.primary_key)
    return sql.SQL("select {cols} from {table} where {where} order by {order}").format(
        cols=cols, table=table, where=where, order=order
    )


def extract_sql(
    contract: EntityContract,
    start_local: datetime,
    end_local: datetime,
    cfg: Settings,
    conn_resolver: ConnResolver | None = None,
    *,
    full: bool = False,
) -> ExtractedBatch:
    """The interval's rows as a string frame; schema drift in the source table fails first.

    ``full`` asks a ``changed``-mode entity for its whole table (first load, weekly snapshot).
    """
    url = resolve_conn_url(contract.conn_id or "", cfg, conn_resolver)
    where = f"{contract.conn_id}:{contract.table}"
    buf = io.BytesIO()
    with psycopg.connect(url) as conn:
        conn.execute(sql.SQL("set timezone = {}").format(sql.Literal(contract.timezone)))
        conn.execute("set datestyle = 'ISO, YMD'")
        table = sql.SQL(".").join(sql.Identifier(p) for p in contract.table.split("."))  # type: ignore[union-attr]
        cur = conn.execute(sql.SQL("select * from {} limit 0").format(table))
        found = [normalise_header(d.name) for d in cur.description or []]
        check_columns(
            found, contract.column_names, where=where, table=f"{contract.raw_schema}.{contract.raw_table}"
        )
        query = _interval_query(contract, start_local, end_local, full=full)
        with conn.cursor().copy(
            sql.SQL("copy ({}) to stdout with (format csv, header false)").format(query)
        ) as cp:
            for block in cp:
                buf.write(block)
    names = contract.column_names
    if buf.tell() == 0:
        frame = pa.table({c: pa.array([], pa.string()) for c in names}).to_pandas()
    else:
        frame = read_csv_strings(buf.getvalue(), names, quoted_null=False)
    frame[SOURCE_FILE] = constant_column(where, len(frame))
    frame[SOURCE_ROW] = np.arange(1, len(frame) + 1, dtype=np.int64)
    how = "full snapshot" if contract.mode == "snapshot" or full else contract.mode
    return ExtractedBatch(frame, files=[where], notes=[f"{where}: {len(frame)} rows ({how})"])
