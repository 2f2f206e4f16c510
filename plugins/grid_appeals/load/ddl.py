"""DDL derived from a contract: raw table (+ date partitions), quarantine table, ops tables.

Everything is ``if not exists`` and serialised by an advisory lock, so any number of tasks may call
:func:`ensure_tables` concurrently. Raw tables:
- upserted entities (updatable work orders, snapshot/changed reference tables, SQL tables read
  with a lookback) are plain tables with the contract's primary key;
- append-only entities are range-partitioned by ``_data_date`` when the contract says so
  (``day`` or ``month``; partitions are created on demand by :func:`ensure_partition`), and carry no
  unique constraint: duplicates are removed per batch before the load, and a date is replaced as a
  whole, so a constraint would only slow the COPY down.
Lineage columns (``_batch_id, _source_file, _source_row, _data_date, _loaded_at``) follow the
business columns; checksums only ever cover the business columns. ``_source_file`` names a file
relative to the landing dir (absolute if outside it; ``conn_id:table`` for SQL sources).
"""

from __future__ import annotations

from datetime import date

import psycopg
from psycopg import sql

from grid_appeals.sources.contracts import EntityContract

PG_TYPES = {"text": "text", "integer": "integer", "bigint": "bigint", "numeric": "numeric",
            "date": "date", "timestamp": "timestamp", "boolean": "boolean"}
LINEAGE_COLUMNS = ("_batch_id", "_source_file", "_source_row", "_data_date", "_loaded_at")
QUARANTINE_SCHEMA = "quarantine"

OPS_DDL = [
    "create schema if not exists ops",
    "create schema if not exists quarantine",
    """create table if not exists ops.load_log (
        id bigserial primary key,
        batch_id uuid not null unique,
        source text not null,
        entity text not null,
        data_date date not null,
        attempt integer not null,
        interval_start timestamptz,
        interval_end timestamptz,
        status text not null check (status in ('running', 'success', 'failed')),
        rows_received bigint,
        rows_loaded bigint,
        rows_quarantined bigint,
        duplicates_dropped bigint,
        rows_superseded bigint,
        checksum text,
        error text,
        files jsonb,
        engine text,
        timings jsonb,
        started_at timestamptz not null default clock_timestamp(),
        finished_at timestamptz,
        constraint load_log_identity check (status <> 'success' or
            rows_received = rows_loaded + rows_quarantined + duplicates_dropped)
    )""",
    "create index if not exists load_log_entity_date on ops.load_log (source, entity, data_date)",
    """create table if not exists ops.dq_result (
        id bigserial primary key,
        batch_id uuid not null,
        source text not null,
        entity text not null,
        data_date date not null,
        expectation_type text not null,
        column_name text,
        level text,
        success boolean not null,
        unexpected_count bigint,
        observed jsonb,
        details jsonb,
        engine text,
        created_at timestamptz not null default clock_timestamp()
    )""",
    "create index if not exists dq_result_entity_date on ops.dq_result (source, entity, data_date)",
]


def raw_ident(contract: EntityContract) -> sql.Identifier:
    return sql.Identifier(contract.raw_schema, contract.raw_table)


def quarantine_ident(contract: EntityContract) -> sql.Identifier:
    return sql.Identifier(QUARANTINE_SCHEMA, contract.quarantine_table)


def _raw_table_ddl(contract: EntityContract) -> sql.Composed:
    cols = [sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(PG_TYPES[c.type]))
            for c in contract.columns]
    cols += [sql.SQL(x) for x in ("_batch_id uuid not null", "_source_file text", "_source_row bigint",
                                  "_data_date date not null",
                                  "_loaded_at timestamptz not null default clock_timestamp()")]
    if contract.upsert:
        cols.append(sql.SQL("primary key ({})").format(
            sql.SQL(", ").join(sql.Identifier(k) for k in contract.primary_key)))
    tail = sql.SQL(" partition by range (_data_date)") if contract.partition != "none" else sql.SQL("")
    return sql.SQL("create table if not exists {} ({}){}").format(
        raw_ident(contract), sql.SQL(", ").join(cols), tail)


def ensure_tables(contract: EntityContract, conn: psycopg.Connection) -> None:
    """Create raw, quarantine and ops tables for ``contract`` if missing (idempotent, concurrent-safe)."""
    if contract.upsert and contract.partition != "none":
        raise ValueError(f"{contract.key}: upserted entities (updatable, snapshot, lookback) are loaded by key and cannot be "
                         "partitioned by load date (set partition: none)")
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext('grid_appeals.load.ddl'))")
        conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(contract.raw_schema)))
        for stmt in OPS_DDL:
            conn.execute(stmt)  # type: ignore[arg-type]
        conn.execute(_raw_table_ddl(contract))
        _add_new_columns(contract, conn)
        if contract.partition == "none":
            # BRIN, not a btree: rows arrive day by day (and an update writes its new version at the
            # end), so block ranges follow _data_date; keeping it costs the COPY of 100 000 work
            # orders ~nothing instead of ~0.05 s, and the day's checksum still finds its rows
            conn.execute(sql.SQL("create index if not exists {} on {} using brin (_data_date) with (autosummarize = on)").format(
                sql.Identifier(f"{contract.raw_table}__data_date"), raw_ident(contract)))
        for col in contract.columns:
            if col.pii or col.description:
                note = ("PII. " if col.pii else "") + col.description
                conn.execute(sql.SQL("comment on column {}.{} is {}").format(
                    raw_ident(contract), sql.Identifier(col.name), sql.Literal(note.strip())))
        conn.execute(sql.SQL("""create table if not exists {} (
            id bigserial primary key,
            _batch_id uuid not null,
            _data_date date not null,
            _source_file text,
            _source_row bigint,
            row jsonb not null,
            failures jsonb not null,
            quarantined_at timestamptz not null default clock_timestamp())""").format(quarantine_ident(contract)))
        conn.execute(sql.SQL("create index if not exists {} on {} (_data_date)").format(
            sql.Identifier(f"{contract.quarantine_table}__data_date"), quarantine_ident(contract)))


def _add_new_columns(contract: EntityContract, conn: psycopg.Connection) -> None:
    """Columns a contract gained since its raw table was created (e.g. c_cons.upd_time) are added:
    nullable, so existing rows read NULL until they are loaded again. Only missing ones are
    altered: ``add column if not exists`` would take an exclusive lock on every run."""
    have = {r[0] for r in conn.execute(
        "select column_name from information_schema.columns where table_schema = %s and table_name = %s",
        (contract.raw_schema, contract.raw_table))}
    for c in contract.columns:
        if c.name not in have:
            conn.execute(sql.SQL("alter table {} add column {} {}").format(
                raw_ident(contract), sql.Identifier(c.name), sql.SQL(PG_TYPES[c.type])))


def partition_bounds(contract: EntityContract, day: date) -> tuple[str, date, date]:
    """(partition table name, lower bound, upper bound) holding ``day``."""
    if contract.partition == "day":
        nxt = date.fromordinal(day.toordinal() + 1)
        return f"{contract.raw_table}_p{day:%Y%m%d}", day, nxt
    first = day.replace(day=1)
    nxt = first.replace(year=first.year + (first.month == 12), month=first.month % 12 + 1)
    return f"{contract.raw_table}_p{first:%Y%m}", first, nxt


def ensure_partition(contract: EntityContract, conn: psycopg.Connection, day: date) -> sql.Identifier:
    """The partition holding ``day`` (created if missing); the table itself if unpartitioned."""
    if contract.partition == "none":
        return raw_ident(contract)
    name, lo, hi = partition_bounds(contract, day)
    ident = sql.Identifier(contract.raw_schema, name)
    exists = conn.execute("select to_regclass(%s)", (f'{contract.raw_schema}."{name}"',)).fetchone()
    if exists and exists[0] is not None:
        return ident
    # per-entity lock, held to commit: two dates of one month must not both create its partition
    conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"grid_appeals.load.ddl.{contract.key}",))
    conn.execute(sql.SQL("create table if not exists {} partition of {} for values from ({}) to ({})").format(
        ident, raw_ident(contract), sql.Literal(lo), sql.Literal(hi)))
    return ident
