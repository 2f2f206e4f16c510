"""``ingest_entity``: extract → validate → quarantine → load → ledger, for one entity and one date.

This is the single entry point the DAGs (one task per entity) and the CLI backfill call. A
batch-level failure (schema drift, unreadable/empty/truncated file, row count out of bounds, too
many bad rows) raises :class:`BatchFailed` after recording the attempt as ``failed`` in
``ops.load_log`` and its expectation outcomes in ``ops.dq_result``; nothing of that date is
loaded or quarantined. Interval datetimes may be timezone-aware (Airflow's data interval, UTC):
they are converted to the contract's zone, in which the sources write their naive timestamps.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import psycopg
from psycopg import sql

from grid_appeals.config import Settings, settings
from grid_appeals.load.ddl import ensure_tables, raw_ident
from grid_appeals.load.ledger import LoadResult, finish_attempt, start_attempt
from grid_appeals.load.writer import open_load, write_batch
from grid_appeals.quality.data_docs import DataDocs
from grid_appeals.quality.gx_engine import GxSession, gx_session
from grid_appeals.quality.results import store_outcomes
from grid_appeals.quality.suites import load_suite
from grid_appeals.quality.validate import ValidationReport, quarantine_records, rows_by_gx, validate_batch
from grid_appeals.sources.batch import ExtractedBatch
from grid_appeals.sources.contracts import EntityContract
from grid_appeals.sources.files import extract_files
from grid_appeals.sources.sql import ConnResolver, extract_sql
from grid_appeals.warehouse.connection import warehouse_dsn

log = logging.getLogger(__name__)


class BatchFailed(RuntimeError):
    """The batch was rejected as a whole; the message says which file/table and why."""

    def __init__(self, message: str, result: LoadResult) -> None:
        super().__init__(message)
        self.result = result


def local_interval(contract: EntityContract, start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The interval as naive datetimes in the contract's zone (aware inputs are converted)."""
    tz = ZoneInfo(contract.timezone)

    def conv(d: datetime) -> datetime:
        return d.astimezone(tz).replace(tzinfo=None) if d.tzinfo else d

    return conv(start), conv(end)


def extract(
    contract: EntityContract,
    start_local: datetime,
    end_local: datetime,
    cfg: Settings,
    conn_resolver: ConnResolver | None = None,
    *,
    full: bool = False,
) -> ExtractedBatch:
    if contract.connector == "sql":
        return extract_sql(contract, start_local, end_local, cfg, conn_resolver, full=full)
    return extract_files(contract, start_local.date(), cfg)


def wants_full_snapshot(contract: EntityContract, conn: psycopg.Connection, day: date) -> bool:
    """``changed``-mode entities take a full snapshot on first load and on their weekly day.

    Why: the dated rows (c_cons: build/ps/cancel dates and the record's upd_time) are read daily;
    the weekly full snapshot (upserted, unchanged rows not rewritten) is the safety net for edits
    that bypass those dates, without copying 10 M customers every day.
    """
    if contract.mode != "changed":
        return False
    if contract.full_snapshot_weekday is not None and day.weekday() == contract.full_snapshot_weekday:
        return True
    row = conn.execute(sql.SQL("select not exists (select 1 from {})").format(raw_ident(contract))).fetchone()
    return bool(row and row[0])


def ingest_entity(
    contract: EntityContract,
    interval_start: datetime,
    interval_end: datetime,
    *,
    cfg: Settings | None = None,
    conn_resolver: ConnResolver | None = None,
    use_gx: bool = True,
    data_docs: bool = True,
    build_docs: bool = True,
    after_copy_chunk: Callable[[int], None] | None = None,
) -> LoadResult:
    """Load one entity for one data interval; raise :class:`BatchFailed` on batch-level failure.

    ``use_gx=False`` evaluates everything with the vectorised twin (benchmarks, quick checks).
    GX runs in the process-wide session (:func:`gx_session`). ``data_docs``: save this batch's GX
    results for the Data Docs (per ``GRID_GX_DATA_DOCS``); ``build_docs=False`` leaves rendering the
    site to the caller — a backfill renders once after its pool (:func:`build_data_docs`), an
    Airflow task (one batch) renders here. ``after_copy_chunk`` is a test hook called during the
    COPY (crash injection).
    """
    cfg = cfg or settings()
    start_local, end_local = local_interval(contract, interval_start, interval_end)
    day: date = start_local.date()
    batch_id = str(uuid.uuid4())
    result = LoadResult(batch_id=batch_id, entity=contract.key, data_date=day, status="running")
    timings = result.timings
    with psycopg.connect(warehouse_dsn(cfg), autocommit=True) as ops_conn:
        ensure_tables(contract, ops_conn)
        start_attempt(ops_conn, contract, batch_id, day, interval_start, interval_end)
        report: ValidationReport | None = None
        gx = gx_session() if use_gx else None
        if gx is not None:
            gx.take_results()  # results of an earlier call that died before recording are not ours
        docs = _DocsPolicy(DataDocs(cfg.deploy_dir), save=data_docs, build=build_docs)
        try:
            t0 = time.perf_counter()
            full = wants_full_snapshot(contract, ops_conn, day)
            batch = extract(contract, start_local, end_local, cfg, conn_resolver, full=full)
            timings["extract_s"] = round(time.perf_counter() - t0, 3)
            result.files = batch.files
            result.rows_received = batch.rows
            suite = load_suite(contract)

            def validate(
                on_loadable: Callable[[np.ndarray], None] | None = None,
                on_typed: Callable[[int, pd.DataFrame], None] | None = None,
                defer_gx_batch: bool = False,
            ) -> ValidationReport:
                """Validate the batch (streaming loadable rows to ``on_loadable``); reject it on a
                batch-level failure. Timed as validate_s (serialising included when streamed)."""
                nonlocal report
                t0 = time.perf_counter()
                report = validate_batch(
                    batch.frame,
                    contract,
                    suite,
                    start_local,
                    end_local,
                    gx=gx,
                    encoding_suspect=batch.encoding_replaced_rows > 0,
                    on_loadable=on_loadable,
                    on_typed=on_typed,
                    defer_gx_batch=defer_gx_batch,
                )
                timings["validate_s"] = round(time.perf_counter() - t0, 3)
                result.engine = report.engine
                _Rejected.raise_if_failed(report)  # rolls streamed rows back
                return report

            if streaming() and not rows_by_gx(batch.rows, gx):
                # the twin checks the rows: stream them into the COPY while the rest is checked
                with (
                    psycopg.connect(warehouse_dsn(cfg)) as data_conn,
                    open_load(
                        data_conn,
                        contract,
                        day,
                        batch_id,
                        batch.frame,
                        after_chunk=after_copy_chunk,
                        timings=timings,
                    ) as load,
                ):
                    checked = validate(load.send, load.on_typed, defer_gx_batch=True)
                    if load.sent != len(checked.load_rows):  # defensive: each loadable row sent once
                        raise RuntimeError(f"streamed {load.sent} rows, {len(checked.load_rows)} loadable")
                    # GX's batch-level verdicts are computed while the backend finishes the COPY
                    counts = load.finish(quarantine_records(checked, contract), beside=checked.confirm_batch)
                    _Rejected.raise_if_failed(checked)  # GX rejected what the twin passed: roll back
                    committing = time.perf_counter()
                timings["commit_s"] = round(time.perf_counter() - committing, 3)
            else:
                checked = validate()
                with psycopg.connect(warehouse_dsn(cfg)) as data_conn:
                    counts = write_batch(
                        data_conn,
                        contract,
                        day,
                        batch_id,
                        checked.loadable,
                        quarantine_records(checked, contract),
                        after_chunk=after_copy_chunk,
                        timings=timings,
                    )
            result.rows_loaded = counts.loaded
            result.rows_superseded = counts.superseded
            result.rows_quarantined = counts.quarantined
            result.duplicates_dropped = checked.duplicates + counts.superseded
            result.checksum = counts.checksum
            result.status = "success"
        except Exception as exc:
            result.status = "failed"
            result.error = f"{type(exc).__name__}: {exc}" if not isinstance(exc, _Rejected) else str(exc)
            if report is not None:
                result.rows_quarantined = len(report.quarantined)
                result.duplicates_dropped = report.duplicates
            result.rows_loaded = 0
            _record(ops_conn, contract, result, report, gx, docs)
            log.error("%s %s failed: %s", contract.key, day, result.error)
            raise BatchFailed(f"{contract.key} {day}: {result.error}", result) from exc
        if not result.identity_holds():  # defensive: the ledger's check constraint would refuse it
            raise AssertionError(f"row identity broken for {contract.key} {day}: {result.as_dict()}")
        _record(ops_conn, contract, result, report, gx, docs)
        log.info(
            "%s %s: received %d, loaded %d, quarantined %d, duplicates %d (%s)",
            contract.key,
            day,
            result.rows_received,
            result.rows_loaded,
            result.rows_quarantined,
            result.duplicates_dropped,
            result.engine,
        )
    return result


def streaming() -> bool:
    """Stream large batches into the COPY while they are validated? ``GRID_LOAD_STREAM`` (default 1).

    Why a switch: the overlap needs a free core for the Postgres backend; ``0`` validates the whole
    batch before the transaction opens (the data transaction then also holds its locks shorter).
    """
    return os.environ.get("GRID_LOAD_STREAM", "1") != "0"


def _docs_wanted(result: LoadResult) -> bool:
    """Put this batch in the GX Data Docs? ``GRID_GX_DATA_DOCS`` = ``all`` | ``issues`` | ``none``.

    Why not always: a rendered page costs ~0.05-0.1 s and disk, and a clean batch's page says
    nothing the ledger does not; the default keeps batches that failed or quarantined rows, where
    the page shows the unexpected values.
    """
    mode = os.environ.get("GRID_GX_DATA_DOCS", "issues").lower()
    if mode == "all":
        return True
    if mode == "none":
        return False
    return result.status == "failed" or result.rows_quarantined > 0


class _Rejected(Exception):
    """Internal: batch-level expectations failed (message already human-readable)."""

    @classmethod
    def raise_if_failed(cls, report: ValidationReport) -> None:
        if report.batch_errors:
            raise cls("; ".join(report.batch_errors))


@dataclass
class _DocsPolicy:
    """Where this batch's GX results go: saved to the docs store? site rendered now?"""

    docs: DataDocs
    save: bool
    build: bool


def _record(
    ops_conn: psycopg.Connection,
    contract: EntityContract,
    result: LoadResult,
    report: ValidationReport | None,
    gx: GxSession | None,
    docs: _DocsPolicy,
) -> None:
    t0 = time.perf_counter()
    if report is not None:
        store_outcomes(ops_conn, contract, result.batch_id, result.data_date, report.outcomes)
    result.timings["record_s"] = round(time.perf_counter() - t0, 3)
    if gx is not None:
        t0 = time.perf_counter()
        results = gx.take_results()
        if docs.save and _docs_wanted(result) and docs.docs.save(result.batch_id, results) and docs.build:
            docs.docs.build([result.batch_id])
        result.timings["docs_s"] = round(time.perf_counter() - t0, 3)
    finish_attempt(ops_conn, result)
