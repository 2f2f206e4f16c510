"""Persisting every expectation outcome of every batch in ``ops.dq_result`` (own transaction).

Kept even when the batch fails, so the operator sees *why* in SQL (and dashboards can trend
unexpected counts per expectation) without opening the Data Docs.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import psycopg

from grid_appeals.quality.outcome import Outcome
from grid_appeals.sources.contracts import EntityContract


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


def store_outcomes(
    conn: psycopg.Connection,
    contract: EntityContract,
    batch_id: str,
    data_date: date,
    outcomes: list[Outcome],
) -> int:
    """Insert one ``ops.dq_result`` row per outcome; returns the number stored."""
    rows = []
    for o in outcomes:
        details = {"kwargs": o.kwargs, "meta": o.meta, **o.details}
        rows.append(
            (
                batch_id,
                contract.source,
                contract.name,
                data_date,
                o.expectation_type,
                o.column,
                o.level,
                o.success,
                o.unexpected_count,
                json.dumps(_jsonable(o.observed), ensure_ascii=False),
                json.dumps(_jsonable(details), ensure_ascii=False),
                o.engine,
            )
        )
    with conn.cursor() as cur:
        cur.executemany(
            """insert into ops.dq_result (batch_id, source, entity, data_date, expectation_type,
                   column_name, level, success, unexpected_count, observed, details, engine)
               values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            rows,
        )
    return len(rows)
