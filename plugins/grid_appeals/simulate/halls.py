"""Business halls (营业厅): halls, windows, staff and queue tickets per day.

Long waits (>15 min, the State Grid standard) are what later turn into 营业服务 complaints, so the
queue model is explicit: arrivals peak mid-morning and after lunch, windows open depend on the day,
and an understaffed day produces a queue.
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd

from grid_appeals.simulate.calendar_weather import demand_factor
from grid_appeals.simulate.context import SimContext
from grid_appeals.simulate.rng import day_rng

HALL_BUSINESS = {"01": "缴费", "02": "新装", "03": "增容", "04": "过户", "05": "咨询", "06": "发票", "07": "故障报修",
                 "08": "校验", "09": "销户", "10": "其他"}
# halls open 8:30; tickets are issued until 17:30 and called until 19:00 (overtime on a bad day);
# whoever is still queueing then leaves uncalled (no call/finish time, 过号)
LAST_CALL = 19 * 60.0
HALL_BUSI_P = [0.34, 0.08, 0.04, 0.1, 0.2, 0.08, 0.03, 0.03, 0.03, 0.07]


def halls(ctx: SimContext) -> pd.DataFrame:
    """Static hall list: one per supply station in the biggest towns, up to halls_per_city per city."""
    def build() -> pd.DataFrame:
        st = ctx.world.stations
        rows = []
        for ci in range(len(ctx.world.cities)):
            cand = st[(st["city_idx"] == ci) & st["urban"]].head(ctx.scale.halls_per_city)
            for _, s in cand.iterrows():
                k = len(rows)
                rows.append((f"YYT{s['org_no'][-8:]}", f"{s['county_name']}{s['town']}营业厅", s["org_no"], ci,
                             int(s["station_idx"]), 3 + (k % 4), k % 4 == 3))  # every 4th hall: old queue system
        return pd.DataFrame(rows, columns=["hall_no", "hall_name", "org_no", "city_idx", "station_idx", "windows",
                                           "old_system"])
    return ctx.cached(("halls",), build)


def tickets(ctx: SimContext, d: date) -> pd.DataFrame:
    """Queue tickets of day d for all halls, with a FIFO multi-window queue per hall."""
    return ctx.cached(("tickets", d), lambda: _tickets(ctx, d))


def _tickets(ctx: SimContext, d: date) -> pd.DataFrame:
    h = halls(ctx)
    factor = demand_factor(d)["hall"]
    rng = day_rng(ctx.seed, d, "halls")
    day0 = datetime(d.year, d.month, d.day)
    parts = []
    if factor == 0:
        return pd.DataFrame(columns=["ticket_no", "hall_idx", "busi", "take", "call", "finish", "window", "staff",
                                     "appoint", "no_show", "wait_min", "cust_idx"])
    for hi, hall in h.iterrows():
        n = rng.poisson(ctx.scale.tickets_per_hall * factor * (1.5 if hall["city_idx"] == 0 else 1.0))
        # arrivals 8:30-17:30, peaks around 9:30 and 14:30; a month-start payment rush
        peak = np.where(rng.random(n) < 0.6, rng.normal(9.8, 1.0, n), rng.normal(14.7, 1.2, n))
        arr = np.sort(np.clip(peak, 8.5, 17.4)) * 60.0
        windows = max(1, int(hall["windows"] - rng.integers(0, 3)))  # staff absent → fewer windows
        service = rng.lognormal(np.log(7.5), 0.5, n)
        free = np.full(windows, 8.5 * 60.0)
        call = np.empty(n)
        win = np.empty(n, dtype=np.int64)
        left = np.zeros(n, dtype=bool)  # still queueing at the last call: gave up, never called
        for i in range(n):
            w = int(np.argmin(free))
            call[i] = max(arr[i], free[w])
            win[i] = w
            if call[i] > LAST_CALL:
                left[i] = True
                continue
            free[w] = call[i] + service[i]
        no_show = (rng.random(n) < 0.03) | left
        cust = rng.integers(0, ctx.world.n_customers, n)
        parts.append({
            "ticket_no": np.char.add(f"{d:%Y%m%d}{hi:03d}", np.char.zfill(np.arange(1, n + 1).astype(str), 4)),
            "hall_idx": np.full(n, hi), "busi": np.array(list(HALL_BUSINESS))[rng.choice(10, n, p=HALL_BUSI_P)],
            "take": arr, "call": np.where(left, np.nan, call),
            "finish": np.where(left, np.nan, call + np.where(no_show, 0, service)),
            "window": win + 1, "staff": np.char.add(hall["hall_no"][-4:], np.char.zfill((win + 1).astype(str), 2)),
            "appoint": rng.random(n) < 0.08, "no_show": no_show, "cust_idx": cust,
            "wait_min": np.round(np.where(left, LAST_CALL, call) - arr, 1),  # who left waited until the last call
        })
    df = pd.DataFrame({k: np.concatenate([p[k] for p in parts]) for k in parts[0]})
    for k in ("take", "call", "finish"):
        df[k] = pd.Timestamp(day0) + pd.to_timedelta(np.round(df[k].to_numpy() * 60), unit="s")
    df["ticket_no"] = df["ticket_no"].astype(object)
    df["staff"] = df["staff"].astype(object)
    return df
