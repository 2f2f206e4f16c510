"""Simulate and load a window day by day (like the daily DAG) and record what late updates did.

Why here: the load acceptance tests and the defect-capture evaluation need the same loaded window,
and building it (simulate + 15 entities × N days) is the slow part; a process-level cache lets
both use one build. Days are simulated and loaded alternately, so a status update made on day D to
an order created before D exists only from D's simulation on — after D's run raw must hold it.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd
import psycopg

from grid_appeals.config import Settings
from grid_appeals.pipeline.backfill import BackfillReport, backfill
from grid_appeals.simulate.defects import DefectRates
from grid_appeals.simulate.runner import simulate
from grid_appeals.warehouse.bootstrap import bootstrap
from grid_appeals.warehouse.connection import drop_database

_BUILT: dict[tuple, WindowRun] = {}


@dataclass
class WindowRun:
    """A loaded window: its settings, the per-day backfill reports and the late-update check."""

    cfg: Settings
    first: date
    last: date
    reports: dict[date, BackfillReport] = field(default_factory=dict)
    late_updates: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]


def query(cfg: Settings, role: str, sql_text: str, *args: object) -> pd.DataFrame:
    with psycopg.connect(cfg.url(role)) as conn:
        cur = conn.execute(sql_text, args)  # type: ignore[arg-type]
        return pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description or []])


def _late_updates(cfg: Settings, d: date) -> pd.DataFrame:
    """Orders created before ``d`` and updated on ``d``: source state next to raw state after d's run."""
    src = query(cfg, "src_95598", """select distinct app_no, wkst_status_code, upd_time from arc_s_95598_wkst
                                     where upd_time >= %s and upd_time < %s and left(app_no, 8) < %s""",
                d, d + timedelta(days=1), f"{d:%Y%m%d}")
    raw = query(cfg, "warehouse", "select app_no, wkst_status_code raw_status, upd_time raw_upd, _data_date "
                                  "from raw_95598.arc_s_95598_wkst where app_no = any(%s)", list(src["app_no"]))
    quarantined = set(query(cfg, "warehouse", "select row->>'app_no' app_no from "
                                              "quarantine.\"95598__arc_s_95598_wkst\" where _data_date = %s",
                            d)["app_no"])
    out = src.merge(raw, on="app_no", how="left")
    return out.assign(day=d, quarantined=out["app_no"].isin(quarantined))


def build_window(cfg: Settings, first: date, last: date, *, seed: int, rates: DefectRates,
                 scale: str = "tiny") -> WindowRun:
    """Fresh databases for ``cfg``'s prefix, then simulate+load each day (cached per process)."""
    key = (cfg.db_prefix, first, last, seed, rates, scale)
    if key in _BUILT:
        return _BUILT[key]
    for role in ("warehouse", "src_95598", "src_marketing", "sim_truth"):
        drop_database(cfg.db_name(role), cfg=cfg)
    shutil.rmtree(cfg.deploy_dir, ignore_errors=True)
    bootstrap(cfg)
    run = WindowRun(cfg, first, last)
    late = []
    for d in run.days:
        simulate(d, d, scale=scale, seed=seed, cfg=cfg, defects=rates)
        run.reports[d] = backfill(d, d, cfg=cfg, progress=False, mart=False)
        late.append(_late_updates(cfg, d))
    run.late_updates = pd.concat(late, ignore_index=True)
    _BUILT[key] = run
    return run
