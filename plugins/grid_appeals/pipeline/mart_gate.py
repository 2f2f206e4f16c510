"""The GX gate on the marts: nothing is published to BI until the window's appeal library passes.

dbt tests already hold structural invariants; this gate adds data expectations a BI consumer
cares about (labels in the taxonomy, scores in range, no phone or ID number left unmasked in the
text), validated with Great Expectations on the run window's rows of ``marts.fct_appeals``. Results
go to ``ops.mart_gate_log``; a failure raises, so the publish step does not run.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pandas as pd
import psycopg

from grid_appeals.config import PROJECT_ROOT, Settings, settings
from grid_appeals.warehouse.connection import warehouse_dsn

SUITE = PROJECT_ROOT / "expectations" / "marts.fct_appeals.json"

DDL = """
create table if not exists ops.mart_gate_log (
    date_from date not null,
    date_to date not null,
    suite text not null,
    rows_checked integer not null,
    success boolean not null,
    failed_expectations jsonb not null,
    checked_at timestamptz not null default clock_timestamp(),
    primary key (date_from, date_to, suite)
);
create table if not exists ops.publish_log (
    date_from date not null,
    date_to date not null,
    published_at timestamptz not null default clock_timestamp(),
    fct_appeals_rows integer not null,
    primary key (date_from, date_to)
);
"""


class GateFailed(RuntimeError):
    """The marts failed the publish gate; the message lists the failed expectations."""


def check_marts(first: date, last: date, *, cfg: Settings | None = None) -> dict[str, Any]:
    from grid_appeals.quality.gx_engine import GxSession

    cfg = cfg or settings()
    suite = json.loads(SUITE.read_text(encoding="utf-8"))
    with psycopg.connect(warehouse_dsn(cfg)) as conn:
        conn.execute(DDL)
        cur = conn.execute("select * from marts.fct_appeals where loaded_for_date between %s and %s",
                           (first, last))
        frame = pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])
        for col in ("sentiment_score", "arrival_minutes"):
            frame[col] = pd.to_numeric(frame[col])
        outcomes = GxSession(cfg.deploy_dir / "data_docs").validate(
            "marts_fct_appeals", suite["expectations"], frame.reset_index(drop=True), {})
        failed = [{"type": o.expectation_type, "kwargs": o.kwargs, "unexpected": o.unexpected_count}
                  for o in outcomes if not o.success]
        with conn.transaction():
            conn.execute("delete from ops.mart_gate_log where date_from = %s and date_to = %s and suite = %s",
                         (first, last, suite["name"]))
            conn.execute("insert into ops.mart_gate_log (date_from, date_to, suite, rows_checked, success, "
                         "failed_expectations) values (%s, %s, %s, %s, %s, %s)",
                         (first, last, suite["name"], len(frame), not failed, json.dumps(failed, ensure_ascii=False,
                                                                                        default=str)))
    if failed:
        raise GateFailed(f"marts gate failed for {first}..{last}: {failed}")
    return {"rows_checked": len(frame), "expectations": len(outcomes)}


def publish(first: date, last: date, *, cfg: Settings | None = None) -> dict[str, Any]:
    """Record that the window is published (BI dashboards read marts after this row exists)."""
    cfg = cfg or settings()
    with psycopg.connect(warehouse_dsn(cfg)) as conn, conn.transaction():
        conn.execute(DDL)
        n = conn.execute("select count(*) from marts.fct_appeals where loaded_for_date between %s and %s",
                         (first, last)).fetchone()[0]
        conn.execute("insert into ops.publish_log (date_from, date_to, fct_appeals_rows) values (%s, %s, %s) "
                     "on conflict (date_from, date_to) do update set fct_appeals_rows = excluded.fct_appeals_rows",
                     (first, last, n))
    return {"published_rows": n}
