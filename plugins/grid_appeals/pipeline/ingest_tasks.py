"""The ingestion step for one source entity and one data interval (an Airflow task body)."""

from __future__ import annotations

from datetime import datetime

from grid_appeals.config import Settings


def ingest(entity_key: str, interval_start: datetime, interval_end: datetime,
           cfg: Settings | None = None, *, build_docs: bool = True) -> dict:
    """Extract, validate, quarantine and load ``entity_key`` (``source.entity``) for the interval.

    Returns the ledger row as a dict (XCom-friendly); raises on a batch-level failure so Airflow
    marks the task failed and retries it. ``build_docs=False``: the caller renders the GX Data
    Docs once for many batches (the backfill).
    """
    from grid_appeals.load.ingest import ingest_entity
    from grid_appeals.orchestration.connections import conninfo
    from grid_appeals.sources.contracts import get_contract

    contract = get_contract(entity_key)
    result = ingest_entity(contract, interval_start, interval_end, cfg=cfg,
                           conn_resolver=lambda conn_id: conninfo(conn_id, cfg=cfg), build_docs=build_docs)
    return result.as_dict()
