"""业扩报装 (business-expansion) applications with step dates, time limits and overruns.

The whole lifecycle is drawn when the application is created (pure function of its day), and the
source row is updated as steps complete on later days — so an extractor reading by ``upd_time``
sees the same application move through its statuses.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from grid_appeals.simulate.calendar_weather import is_workday
from grid_appeals.simulate.context import SimContext
from grid_appeals.simulate.rng import day_rng

# type code: (name, limit in working days, share)
APP_TYPES = {"101": ("低压居民新装", 5, 0.45), "102": ("低压非居民新装", 6, 0.2), "111": ("低压增容", 6, 0.12),
             "201": ("高压新装(单电源)", 22, 0.1), "202": ("高压新装(双电源)", 32, 0.03), "211": ("高压增容", 22, 0.06),
             "301": ("分布式光伏并网", 10, 0.04)}
# status steps (code, name) in order
APP_STEPS = [("01", "受理"), ("02", "现场勘查"), ("03", "答复供电方案"), ("04", "竣工验收"), ("05", "装表接电"), ("06", "归档")]
LOOKBACK = 75


def _wd_to_days(wd: np.ndarray) -> np.ndarray:
    return wd * 7.0 / 5.0


def applications(ctx: SimContext, d: date) -> pd.DataFrame:
    return ctx.cached(("apps", d), lambda: _applications(ctx, d))


def _applications(ctx: SimContext, d: date) -> pd.DataFrame:
    from grid_appeals.simulate.customers import applicant  # customers.py builds on this module
    rng = day_rng(ctx.seed, d, "expansion")
    n = rng.poisson(ctx.scale.expansion_per_day * (1.0 if is_workday(d) else 0.15))
    codes = list(APP_TYPES)
    typ = rng.choice(len(codes), n, p=[v[2] for v in APP_TYPES.values()])
    limit = np.array([APP_TYPES[c][1] for c in codes])[typ]
    # actual duration: most finish inside the limit, ~12 % overrun (the 业扩超时 hot spot)
    over = rng.random(n) < 0.12
    total_wd = np.where(over, limit * rng.uniform(1.1, 2.0, n), limit * rng.uniform(0.35, 0.95, n))
    day0 = datetime(d.year, d.month, d.day)
    t0 = [day0 + timedelta(hours=float(h)) for h in rng.uniform(8.5, 17.5, n)]
    frac = np.sort(rng.uniform(0.05, 0.95, (n, 3)), axis=1)
    step_offsets = np.column_stack([np.zeros(n), frac * total_wd[:, None], total_wd, total_wd + rng.uniform(0.5, 3, n)])
    return pd.DataFrame({
        "key": d.toordinal() * 10_000 + np.arange(n, dtype=np.int64),
        "app_no": [f"YK{d:%Y%m%d}{i + 1:05d}" for i in range(n)],
        "cust_idx": applicant(ctx, d.toordinal() * 10_000 + np.arange(n, dtype=np.int64), np.array(codes)[typ],
                              rng.integers(0, ctx.world.n_customers, n)),
        "type_code": np.array(codes)[typ], "limit_wd": limit, "overrun": over,
        "t0": pd.to_datetime(t0),
        "steps": [[t + timedelta(days=float(x)) for x in row] for t, row in zip(t0, _wd_to_days(step_offsets), strict=True)],
        "contract_cap": np.round(np.where(np.array(codes)[typ] < "200", rng.choice([8, 10, 16, 20, 30, 50], n),
                                          rng.choice([200, 315, 400, 630, 1000, 2000], n)), 0),
    })


def state_at(app: pd.DataFrame, cutoff: datetime) -> pd.DataFrame:
    """Status of each application as of ``cutoff`` (last completed step) and its update time."""
    status, upd, finish, archive = [], [], [], []
    for steps in app["steps"]:
        done = [i for i, t in enumerate(steps) if t <= cutoff]
        k = done[-1] if done else 0
        status.append(APP_STEPS[k][0])
        upd.append(steps[k])
        finish.append(steps[4] if k >= 4 else None)
        archive.append(steps[5] if k >= 5 else None)
    return pd.DataFrame({"status_code": status, "upd_time": upd, "finish_time": finish, "archive_time": archive},
                        index=app.index)
