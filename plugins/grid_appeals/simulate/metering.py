"""Metering (用电信息采集) daily file drops: frozen readings and terminal events, gzip CSV.

Readings are cumulative, yet every day is computable alone: the register value of day d is
``base + kWh/day · S(d) + jitter(d)`` where S is the closed-form integral of a seasonal load curve
(peaks in January and July) and the jitter is bounded, so daily use stays positive and plausible.
Meter faults (停走/飞走/示度下降/电表故障) distort the readings of the affected meters; outages emit
ERC14, low-voltage areas ERC24 on hot days.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from grid_appeals.simulate import customers
from grid_appeals.simulate.calendar_weather import weather
from grid_appeals.simulate.context import SimContext
from grid_appeals.simulate.outages import active_meter_faults, meter_faults, outages
from grid_appeals.simulate.rng import day_rng, hash_uniform

EPOCH = date(2015, 1, 1).toordinal()
READ_COLS = ["mp_no", "data_date", "col_time", "pap_r", "pap_r1", "pap_r2", "pap_r3", "pap_r4"]
TOU_SPLIT = np.array([0.08, 0.32, 0.36, 0.24])  # 尖/峰/平/谷


def _cum_season(d: date) -> float:
    t = d.toordinal() - EPOCH
    return t + 0.22 * 365 / (4 * math.pi) * math.sin(4 * math.pi * (t - 15) / 365)


def _jitter(ctx: SimContext, d: date, idx: np.ndarray | None) -> np.ndarray:
    """Day d's register jitter, for all metering points or only ``idx`` (same numbers either way).

    Why the PCG64 ``advance``: a stuck meter (ERC30) needs the register value of the fault's start
    day for a handful of customers; drawing the whole 10 M stream of each start day just to pick a
    few values took most of a province day. Each double consumes exactly one 64-bit output, so
    jumping to position j reproduces ``random(n)[j]`` bit for bit.
    """
    rng = day_rng(ctx.seed, d, "metering")
    if idx is None:
        return rng.random(ctx.world.n_customers)
    idx = np.asarray(idx, dtype=np.int64)
    order = np.argsort(idx, kind="stable")
    bg = rng.bit_generator
    vals = np.empty(len(idx), dtype=np.float64)
    pos = 0
    for i in order:
        j = int(idx[i])
        if j < pos:  # repeated index
            vals[i] = vals[order[np.searchsorted(idx[order], j)]]
            continue
        bg.advance(j - pos)
        vals[i] = (int(bg.random_raw()) >> 11) * (1.0 / (1 << 53))
        pos = j + 1
    return vals


def register_values(ctx: SimContext, d: date, idx: np.ndarray | None = None) -> np.ndarray:
    """Forward active total (kWh) of each metering point (or of ``idx``) at 00:00 of day d."""
    w = ctx.world
    n = w.n_customers
    base = ctx.cached(("reg_base",), lambda: np.random.default_rng([ctx.seed, 31]).random(n) * 20000)
    jitter = _jitter(ctx, d, idx)
    if idx is None:
        return base + w.cust_kwh.astype(np.float64) * (_cum_season(d) + 0.3 * jitter)
    return base[idx] + w.cust_kwh[idx].astype(np.float64) * (_cum_season(d) + 0.3 * jitter)


def readings(ctx: SimContext, d: date) -> pd.DataFrame:
    """Frozen readings of day d with real meter-fault effects applied (before defects).

    Only the two most recent days are kept (a day's file also carries late rows of the day before):
    at province scale one day is ~10 M rows, so the general per-date cache would exhaust memory.
    """
    memo = ctx.cache.setdefault(("readings_memo",), {})
    if d not in memo:
        if len(memo) >= 2:
            memo.pop(min(memo))
        memo[d] = _readings(ctx, d)
    return memo[d]


def _readings(ctx: SimContext, d: date) -> pd.DataFrame:
    w = ctx.world
    n = w.n_customers
    rng = day_rng(ctx.seed, d, "metering", 2)
    v = register_values(ctx, d)
    af = active_meter_faults(ctx, d)
    missing = np.zeros(n, dtype=bool)
    for erc, grp in af.groupby("erc"):
        i = grp["cust_idx"].to_numpy()
        if erc == "ERC30":  # 停走: stuck at the value of the fault's start day
            for s, g2 in grp.groupby("start_day"):
                j = g2["cust_idx"].to_numpy()
                v[j] = register_values(ctx, s, j)
        elif erc == "ERC29":  # 飞走: runs away at many times normal speed
            v[i] += w.cust_kwh[i] * 25 * (grp["age"].to_numpy() + 1)
        elif erc == "ERC27":  # 示度下降: reading goes backwards
            v[i] -= w.cust_kwh[i] * 3 * (grp["age"].to_numpy() + 1)
        else:  # ERC13 meter failure: no frozen value
            missing[i] = True
    fail = rng.random(n) < 0.004  # ERC31 collection failure: no row at all
    col_all = rng.integers(5, 240, n)
    fail[customers.evolve(ctx, d).cancelled_before(d)] = True  # 销户: the meter was removed
    keep = np.flatnonzero(~fail)
    col_min = col_all[keep]
    vv = np.round(v[keep], 2)
    miss = missing[keep]
    nc = customers.connected_before(ctx, d)  # new customers, read from the day after 装表接电
    if len(nc):
        nv, ncol = _new_register_values(ctx, d, nc)
        keep_new = np.isfinite(nv)
        vv = np.concatenate([vv, np.round(nv[keep_new], 2)])
        col_min = np.concatenate([col_min, ncol[keep_new]])
        miss = np.concatenate([miss, np.zeros(int(keep_new.sum()), dtype=bool)])
        mp = np.concatenate([61000000000001 + keep, customers.NEW_MP_BASE + nc["uid"].to_numpy()[keep_new]])
        idx = np.concatenate([keep, np.full(int(keep_new.sum()), -1)])
    else:
        mp, idx = 61000000000001 + keep, keep
    day0 = np.datetime64(datetime(d.year, d.month, d.day), "s")
    cols = {"cust_idx": idx, "mp_no": mp, "data_date": d.isoformat(),
            "col_time": day0 + col_min.astype("timedelta64[m]"), "pap_r": np.where(miss, np.nan, vv)}
    for i, share in enumerate(TOU_SPLIT):
        part = np.round(vv * share, 2)
        part[miss] = np.nan
        cols[f"pap_r{i + 1}"] = part
    return pd.DataFrame(cols)


def _new_register_values(ctx: SimContext, d: date, nc: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Register values (NaN = collection failure) and collection minutes of new customers' meters
    on d: installed at zero on their connection day, then the same seasonal curve as every meter."""
    uid = nc["uid"].to_numpy().astype(np.int64)
    keys = uid * 4096 + d.toordinal() % 4096
    on = pd.DatetimeIndex(nc["connect_date"]).to_numpy().astype("datetime64[D]").astype(np.int64) - EPOCH + \
        date(1970, 1, 1).toordinal()
    s0 = on + 0.22 * 365 / (4 * math.pi) * np.sin(4 * math.pi * (on - 15) / 365)  # _cum_season, vectorised
    v = nc["kwh"].to_numpy() * (_cum_season(d) - s0 + 0.3 * hash_uniform(keys, ctx.seed, 431))
    v[hash_uniform(keys, ctx.seed, 432) < 0.004] = np.nan
    return v, 5 + (hash_uniform(keys, ctx.seed, 433) * 235).astype(np.int64)


def events(ctx: SimContext, d: date) -> pd.DataFrame:
    """Terminal events of day d: ERC14 outage/restore, ERC24 voltage, meter faults, ERC31 failures."""
    w = ctx.world
    a = w.areas
    rng = day_rng(ctx.seed, d, "voltage")
    rows = []
    o = outages(ctx, d)
    tmnl = "TM" + a["tg_no"].str[-10:]
    for r in o.itertuples():
        rows.append((tmnl[r.area_idx], None, a.at[r.area_idx, "tg_no"], "ERC14", r.start, "停电", f"OUT{r.outage_id}"))
        rows.append((tmnl[r.area_idx], None, a.at[r.area_idx, "tg_no"], "ERC14", r.end, "上电", f"OUT{r.outage_id}"))
    wx = weather(ctx.seed, d)
    hot = wx.tmax[a["city_idx"].to_numpy()] > 30
    lv = np.flatnonzero(a["low_volt"].to_numpy() & hot & (rng.random(len(a)) < 0.7))
    for i in lv:
        t = datetime(d.year, d.month, d.day, 19) + timedelta(minutes=int(rng.integers(0, 180)))
        rows.append((tmnl[i], None, a.at[i, "tg_no"], "ERC24", t, f"A相电压越下限 {int(rng.integers(168, 196))}V", ""))
    mf = meter_faults(ctx, d)
    names = {"ERC29": "电能表飞走", "ERC30": "电能表停走", "ERC27": "电能表示度下降", "ERC13": "电能表故障"}
    for r in mf.itertuples():
        ai = int(w.cust_area[r.cust_idx])
        rows.append((tmnl[ai], str(61000000000001 + r.cust_idx), a.at[ai, "tg_no"], r.erc,
                     datetime(d.year, d.month, d.day) + timedelta(hours=float(r.hour)), names[r.erc], ""))
    df = pd.DataFrame(rows, columns=["tmnl_addr", "mp_no", "tg_no", "erc_code", "event_time", "event_desc", "ref"])
    df = df.sort_values(["event_time", "tg_no", "erc_code"], kind="stable").reset_index(drop=True)
    df.insert(0, "event_id", [f"E{d:%Y%m%d}{i + 1:07d}" for i in range(len(df))])
    return df


def write_readings_csv(path, df: pd.DataFrame) -> None:
    """Fast CSV via pyarrow (the province preset writes ~10 M rows a day); reproducible gzip."""
    import gzip
    import io
    tbl = pa.Table.from_pandas(df, preserve_index=False)
    sink = io.BytesIO()
    pacsv.write_csv(tbl, sink, pacsv.WriteOptions(include_header=True, quoting_style="needed"))
    raw = sink.getvalue().replace(b'"', b"")
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=3) as gz:
        gz.write(raw)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())
