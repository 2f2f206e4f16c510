"""The mart step for a date window: text mining → dbt build → propensity → gate → publish.

The daily DAG calls it with a one-day window; the CLI backfill calls it once for a whole range so
dbt starts once (models take the window through ``date_from``/``date_to`` vars), not once per day.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from typing import Any

import psycopg

from grid_appeals.config import Settings, settings
from grid_appeals.pipeline.dates import days
from grid_appeals.warehouse.connection import warehouse_dsn

log = logging.getLogger(__name__)

# entities whose load for the day must have succeeded before the mart runs that day
REQUIRED_ENTITIES = ("95598.arc_s_95598_wkst", "metering.terminal_event", "marketing.c_cons")


def sources_loaded(
    run_date: date, *, cfg: Settings | None = None, required: Sequence[str] = REQUIRED_ENTITIES
) -> list[str]:
    """Entities in ``required`` without a successful load for ``run_date`` (empty = ready)."""
    cfg = cfg or settings()
    with psycopg.connect(warehouse_dsn(cfg)) as conn:
        exists = conn.execute("select to_regclass('ops.load_log')").fetchone()[0]
        if not exists:
            return list(required)
        done = {
            f"{s}.{e}"
            for s, e in conn.execute(
                "select distinct source, entity from ops.load_log where data_date = %s and status = 'success'",
                (run_date,),
            ).fetchall()
        }
    return [e for e in required if e not in done]


def mine_text(first: date, last: date, *, cfg: Settings | None = None, processes: int = 2) -> list[dict]:
    from grid_appeals.text.appeal_text_task import run_appeal_text

    return [run_appeal_text(d, cfg=cfg, processes=processes) for d in days(first, last)]


def window_vars(first: date, last: date) -> dict[str, str]:
    return {"date_from": first.isoformat(), "date_to": last.isoformat()}


def build_marts(first: date, last: date, *, cfg: Settings | None = None) -> None:
    """dbt build (models + tests) for the window, everything but the propensity mart."""
    from grid_appeals.transform.run_dbt import run_dbt

    run_dbt(
        ["build", "--exclude", "stg_ml__complaint_propensity+"], cfg=cfg, variables=window_vars(first, last)
    )


def score_propensity(first: date, last: date, *, cfg: Settings | None = None) -> list[dict[str, Any]]:
    """Propensity scores for every run date of the window: one feature fetch and one model per
    refit week for the whole range (a per-date refit was ~70 % of a 90-day mart backfill)."""
    from grid_appeals.analytics.propensity import score_range

    return score_range(first, last, cfg=cfg)


def build_propensity_mart(first: date, last: date, *, cfg: Settings | None = None) -> None:
    from grid_appeals.transform.run_dbt import run_dbt

    run_dbt(
        ["build", "--select", "stg_ml__complaint_propensity+"], cfg=cfg, variables=window_vars(first, last)
    )


def run_mart_window(first: date, last: date, *, cfg: Settings | None = None, processes: int = 2) -> dict:
    """Everything after the raw loads, for [first, last]."""
    cfg = cfg or settings()
    out: dict[str, Any] = {"text": mine_text(first, last, cfg=cfg, processes=processes)}
    build_marts(first, last, cfg=cfg)
    out["propensity"] = score_propensity(first, last, cfg=cfg)
    build_propensity_mart(first, last, cfg=cfg)
    from grid_appeals.pipeline.mart_gate import check_marts, publish

    out["gate"] = check_marts(first, last, cfg=cfg)
    out["publish"] = publish(first, last, cfg=cfg)
    return out
