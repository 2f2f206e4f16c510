"""Outages and meter faults: the physical events that drive repairs and complaints.

Each day's events are a pure function of (seed, date). Weak transformer areas (old lines,
overloaded transformers) fail far more often, hot days and storms raise every area's rate, and
planned outages are sometimes not notified — the seeds of 频繁停电 and 停电未通知 complaints.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from grid_appeals.simulate.calendar_weather import demand_factor, is_workday, repair_factor, weather
from grid_appeals.simulate.context import SimContext
from grid_appeals.simulate.rng import day_rng

CAUSES_FAULT = ["配变过载跳闸", "低压线路故障", "10kV线路故障", "树障碰线", "雷击", "外力破坏", "设备老化", "小动物短路"]
CAUSES_PLAN = ["计划检修", "线路改造", "配变增容改造", "临时检修"]
FREQ_LOOKBACK = 60  # days of outage history that make an area "frequent outage"


def outages(ctx: SimContext, d: date) -> pd.DataFrame:
    return ctx.cached(("outages", d), lambda: _outages(ctx, d))


def _outages(ctx: SimContext, d: date) -> pd.DataFrame:
    w = ctx.world
    a = w.areas
    rng = day_rng(ctx.seed, d, "outages")
    wx = weather(ctx.seed, d)
    city = a["city_idx"].to_numpy()
    rf = repair_factor(wx.tmax)[city] ** 0.8
    storm = wx.storm[city]
    sf = demand_factor(d)["repair"] ** 0.5
    p = ctx.scale.outage_rate * rf * sf * np.where(storm, 12.0, 1.0) * np.where(a["weak"], 9.0, 1.0)
    fault = rng.random(len(a)) < np.minimum(p, 0.6)
    planned = (rng.random(len(a)) < (0.0015 if is_workday(d) else 0.0002)) & ~fault
    idx = np.flatnonzero(fault | planned)
    n = len(idx)
    is_plan = planned[idx]
    day0 = datetime(d.year, d.month, d.day)
    # fault starts: storms in the afternoon/evening, heat outages at the evening peak
    hour = np.where(is_plan, rng.integers(7, 10, n), np.clip(rng.normal(16.5, 4.5, n), 0, 23.9))
    start = [day0 + timedelta(hours=float(h), minutes=int(m)) for h, m in zip(hour, rng.integers(0, 60, n), strict=True)]
    dur_h = np.where(is_plan, rng.uniform(3, 9, n), rng.lognormal(np.log(2.0), 0.6, n)) * np.where(storm[idx], 1.6, 1.0)
    end = [s + timedelta(minutes=int(x * 60)) for s, x in zip(start, dur_h, strict=True)]
    notified = np.where(is_plan, rng.random(n) > 0.18, False)
    cause = np.where(is_plan, np.array(CAUSES_PLAN)[rng.integers(0, 4, n)],
                     np.where(storm[idx], np.array(["雷击", "树障碰线", "10kV线路故障"])[rng.integers(0, 3, n)],
                              np.array(CAUSES_FAULT)[rng.integers(0, len(CAUSES_FAULT), n)]))
    return pd.DataFrame({
        "outage_id": d.toordinal() * 100_000 + np.arange(n, dtype=np.int64),
        "area_idx": idx, "start": pd.to_datetime(start), "end": pd.to_datetime(end),
        "planned": is_plan, "notified": notified, "storm": storm[idx], "cause": cause,
        "pub_days_before": np.where(is_plan & notified, rng.integers(1, 4, n), 0),
    })


def outage_history(ctx: SimContext, d: date, days: int = FREQ_LOOKBACK) -> np.ndarray:
    """Outages per area in the ``days`` days before d (pure: re-derived from each past day)."""
    def build() -> np.ndarray:
        counts = np.zeros(len(ctx.world.areas), dtype=np.int32)
        for k in range(1, days + 1):
            o = outages(ctx, d - timedelta(days=k))
            np.add.at(counts, o["area_idx"].to_numpy(), 1)
        return counts
    return ctx.cached(("outage_hist", d, days), build)


METER_FAULTS = {"ERC29": "电能表飞走", "ERC30": "电能表停走", "ERC27": "示度下降", "ERC13": "电表故障"}


def meter_faults(ctx: SimContext, d: date) -> pd.DataFrame:
    """Meter faults starting on d: customer, kind and days until the meter is replaced."""
    def build() -> pd.DataFrame:
        rng = day_rng(ctx.seed, d, "meter_faults")
        n_c = ctx.world.n_customers
        n = rng.poisson(n_c * 1.6e-4)
        cust = rng.choice(n_c, size=n, replace=False) if n else np.zeros(0, dtype=np.int64)
        kind = np.array(list(METER_FAULTS))[rng.choice(4, n, p=[0.3, 0.3, 0.2, 0.2])]
        return pd.DataFrame({"cust_idx": np.sort(cust), "erc": kind, "fix_days": rng.integers(5, 40, n),
                             "hour": rng.uniform(0, 24, n)})
    return ctx.cached(("meter_faults", d), build)


def active_meter_faults(ctx: SimContext, d: date, lookback: int = 40) -> pd.DataFrame:
    """Faults active on d (started within ``lookback`` days and not yet fixed), with start date.

    One concat of the cached per-day fault lists and a vectorised filter (this ran 41 pandas
    filter/assign steps per day before).
    """
    starts = [d - timedelta(days=k) for k in range(lookback + 1)]
    frames = [meter_faults(ctx, s) for s in starts]
    n = np.array([len(f) for f in frames])
    if not n.sum():
        return pd.DataFrame(columns=["cust_idx", "erc", "fix_days", "hour", "start_day", "age"])
    allf = pd.concat(frames, ignore_index=True)
    age = np.repeat(np.arange(lookback + 1), n)
    keep = allf["fix_days"].to_numpy() > age
    out = allf[keep].reset_index(drop=True)
    out["start_day"] = np.repeat(np.array(starts, dtype=object), n)[keep]
    out["age"] = age[keep]
    return out.drop_duplicates("cust_idx")
