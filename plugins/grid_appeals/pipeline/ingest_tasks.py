"""The ingestion step for one source entity and one data interval (an Airflow task body)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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


def render_data_docs(since: datetime | None, cfg: Settings | None = None) -> int:
    """Render the GX Data Docs for the results saved since ``since`` (the DAG run's start).

    Why a task of its own: rendering (~0.1-0.4 s, growing with the site's index) once per DAG run
    instead of in every load task keeps it off the loads' critical path and avoids concurrent
    renders. Without a start time the last day is rendered. Returns the pages rendered.
    """
    from grid_appeals.config import settings
    from grid_appeals.quality.data_docs import build_data_docs

    cfg = cfg or settings()
    since = since or datetime.now(UTC) - timedelta(days=1)
    return build_data_docs(cfg.deploy_dir, since=since)
