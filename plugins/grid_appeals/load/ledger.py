"""The load ledger ``ops.load_log``: one row per entity, date and attempt.

Why each write commits on its own (autocommit connection): the row must say ``running`` while the
load runs and ``failed`` after the data transaction rolled back — a ledger written inside that
transaction would vanish with it. The identity received = loaded + quarantined + duplicates is also
enforced by a check constraint on successful rows.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

import psycopg

from grid_appeals.sources.contracts import EntityContract


@dataclass
class LoadResult:
    """Outcome of one ``ingest_entity`` call, mirrored in its ``ops.load_log`` row."""

    batch_id: str
    entity: str
    data_date: date
    status: str
    rows_received: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    duplicates_dropped: int = 0
    rows_superseded: int = 0
    checksum: str | None = None
    error: str | None = None
    files: list[str] = field(default_factory=list)
    engine: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    def identity_holds(self) -> bool:
        return self.rows_received == self.rows_loaded + self.rows_quarantined + self.duplicates_dropped

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["data_date"] = self.data_date.isoformat()
        return d


def start_attempt(conn: psycopg.Connection, contract: EntityContract, batch_id: str, data_date: date,
                  interval_start: datetime, interval_end: datetime) -> int:
    """Insert the ``running`` row; returns the attempt number for this entity and date."""
    row = conn.execute(
        """insert into ops.load_log (batch_id, source, entity, data_date, attempt, interval_start,
                                     interval_end, status)
           select %s, %s, %s, %s, coalesce(max(attempt), 0) + 1, %s, %s, 'running'
           from ops.load_log where source = %s and entity = %s and data_date = %s
           returning attempt""",
        (batch_id, contract.source, contract.name, data_date, interval_start, interval_end,
         contract.source, contract.name, data_date)).fetchone()
    return int(row[0]) if row else 1


def finish_attempt(conn: psycopg.Connection, result: LoadResult) -> None:
    """Record the final status and counts of an attempt (success or failed)."""
    conn.execute(
        """update ops.load_log set status = %s, rows_received = %s, rows_loaded = %s,
               rows_quarantined = %s, duplicates_dropped = %s, rows_superseded = %s, checksum = %s,
               error = %s, files = %s, engine = %s, timings = %s, finished_at = clock_timestamp()
           where batch_id = %s""",
        (result.status, result.rows_received, result.rows_loaded, result.rows_quarantined,
         result.duplicates_dropped, result.rows_superseded, result.checksum, result.error,
         json.dumps(result.files, ensure_ascii=False), result.engine, json.dumps(result.timings),
         result.batch_id))
