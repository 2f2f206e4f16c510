"""Payments (a_pay_flow) by channel, with customers migrating from counters to online over years."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from grid_appeals.simulate.calendar_weather import is_workday
from grid_appeals.simulate.context import SimContext
from grid_appeals.simulate.rng import day_rng

PAY_MODES = {"01": "营业厅柜台", "02": "自助缴费终端", "03": "网上国网APP", "04": "微信", "05": "支付宝", "06": "电e宝",
             "07": "银行代扣", "08": "社会网点/代收", "09": "其他"}
TARIFF = {"202": 0.4983, "201": 0.4983, "403": 0.6677, "300": 0.4556, "100": 0.6100, "500": 0.4200, "900": 0.6000}


def payments(ctx: SimContext, d: date) -> pd.DataFrame:
    w = ctx.world
    rng = day_rng(ctx.seed, d, "payments")
    month_start = 1.6 if d.day <= 5 else 1.0
    n = rng.poisson(w.n_customers / 32 * month_start * (1.0 if is_workday(d) else 0.7))
    cust = np.sort(rng.choice(w.n_customers, n, replace=False)) if n else np.zeros(0, dtype=np.int64)
    yrs = d.year - 2016 + d.timetuple().tm_yday / 365
    z = -2.6 + 0.55 * yrs + 3.2 * (w.cust_digital[cust] - 0.5)
    online = rng.random(n) < 1 / (1 + np.exp(-z))
    on_mode = np.array(["03", "04", "05", "06"])[rng.choice(4, n, p=[0.5, 0.3, 0.12, 0.08])]
    off_p = np.array([0.45, 0.15, 0.25, 0.13, 0.02])
    off_p = off_p * np.array([max(0.3, 1 - 0.06 * yrs), 1, 1, 1, 1])
    off_mode = np.array(["01", "02", "07", "08", "09"])[rng.choice(5, n, p=off_p / off_p.sum())]
    mode = np.where(online, on_mode, off_mode)
    elec = np.array(list(TARIFF))
    from grid_appeals.simulate.world import ELEC_CODES
    tariff = np.array([TARIFF[c] for c in ELEC_CODES])[w.cust_elec[cust]]
    amt = np.round(np.where(w.cust_rca[cust], rng.choice([50, 100, 100, 200, 300, 500], n),
                            w.cust_kwh[cust] * 30 * tariff * rng.uniform(0.8, 1.2, n)), 2)
    del elec
    ym = (d.replace(day=1) - pd.Timedelta(days=1)).strftime("%Y%m") if d.day < 20 else d.strftime("%Y%m")
    secs = np.where(mode == "07", rng.integers(2 * 3600, 5 * 3600, n), rng.integers(7 * 3600, 23 * 3600, n))
    return pd.DataFrame({
        "key": d.toordinal() * 100_000_000 + np.arange(n, dtype=np.int64), "cust_idx": cust,
        "pay_flow_no": np.char.add(f"PF{d:%Y%m%d}", np.char.zfill(np.arange(1, n + 1).astype(str), 9)).astype(object), "charge_ym": ym,
        "charge_date": pd.Timestamp(d) + pd.to_timedelta(secs, unit="s"), "pay_mode": mode, "rcv_amt": amt,
    })
