"""Static source tables (org tree, lines, 台区, customers, metering points, code tables).

Written once per (seed, scale) — re-written only when the world changes — so simulating a day never
re-copies 10 M customers. Customers are copied in chunks to bound memory.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from grid_appeals.simulate.context import SimContext
from grid_appeals.simulate.expansion import APP_STEPS, APP_TYPES
from grid_appeals.simulate.halls import HALL_BUSINESS
from grid_appeals.simulate.payments import PAY_MODES
from grid_appeals.simulate.workorders import (
    BUSI_CODES,
    CHANNELS,
    CMPL_CLASSES,
    CMPL_SUBS,
    SATISFACTION,
    STATUS,
)
from grid_appeals.simulate.world import ELEC_TYPES, VOLT_CODES
from grid_appeals.simulate.writer import copy_frame

CHUNK = 1_000_000


def code_table() -> pd.DataFrame:
    sets = {
        "BUSI_TYPE_CODE": {v: k for k, v in BUSI_CODES.items()}, "CMPL_CLASS_CODE": {v: k for k, v in CMPL_CLASSES.items()},
        "CMPL_SUB_CODE": {v: k for k, v in CMPL_SUBS.items()}, "SOURCE_CODE": {v: k for k, v in CHANNELS.items()},
        "WKST_STATUS_CODE": STATUS, "VISIT_SATISFACTION": SATISFACTION,
        "FAULT_TYPE_CODE": {"01": "区域停电", "02": "单户停电", "03": "电压异常", "04": "线路设施故障", "05": "计量装置故障",
                            "09": "其他故障"},
        "CMPL_GRADE_CODE": {"01": "特殊", "02": "重大", "03": "较大", "04": "一般"},
        "URBAN_RURAL_FLAG": {"1": "城市", "2": "农村"}, "ELEC_TYPE_CODE": {k: v[0] for k, v in ELEC_TYPES.items()},
        "VOLT_CODE": VOLT_CODES, "PAY_MODE": PAY_MODES, "APP_BUSI_TYPE": {k: v[0] for k, v in APP_TYPES.items()},
        "APP_STATUS_CODE": dict(APP_STEPS), "OUTAGE_TYPE_CODE": {"01": "计划停电", "02": "故障停电"},
        "ORG_TYPE": {"01": "省公司", "02": "地市公司", "03": "县公司", "04": "供电所"}, "HALL_BUSI": HALL_BUSINESS,
        "RCA_FLAG": {"0": "非费控", "1": "费控"}, "CONS_STATUS_CODE": {"1": "正常用电", "9": "已销户"},
    }
    return pd.DataFrame([(t, v, n) for t, m in sets.items() for v, n in m.items()], columns=["code_type", "value", "name"])


def write_static(ctx: SimContext, conns: dict) -> dict[str, int]:
    tr = conns["sim_truth"]
    row = tr.execute("select seed, scale, customers from sim_world where id = 1").fetchone()
    have = conns["src_marketing"].execute("select count(*) from c_cons").fetchone()[0]
    if row == (ctx.seed, ctx.scale.name, ctx.world.n_customers) and have == ctx.world.n_customers:
        return {}
    w = ctx.world
    mk, c95 = conns["src_marketing"], conns["src_95598"]
    for t in ("o_org", "g_line", "g_tg", "c_cons", "c_mp", "p_code"):
        mk.execute(f"truncate {t}")
    c95.execute("truncate p_code")
    codes = code_table()
    copy_frame(mk, "p_code", codes)
    copy_frame(c95, "p_code", codes)
    copy_frame(mk, "o_org", w.orgs)
    lines = w.lines.assign(org_no=w.stations["org_no"].to_numpy()[w.lines["station_idx"]], volt_code="AC00101")
    copy_frame(mk, "g_line", lines[["line_no", "line_name", "org_no", "volt_code"]])
    a = w.areas
    copy_frame(mk, "g_tg", pd.DataFrame({
        "tg_no": a["tg_no"], "tg_name": a["tg_name"], "line_no": w.lines["line_no"].to_numpy()[a["line_idx"]],
        "org_no": w.stations["org_no"].to_numpy()[a["station_idx"]], "tg_cap": a["tg_cap"],
        "urban_rural_flag": np.where(a["urban"], "1", "2"), "pub_priv_flag": "1"}))
    n = w.n_customers
    for lo in range(0, n, CHUNK):
        idx = np.arange(lo, min(n, lo + CHUNK))
        cf = w.cust_frame(idx)
        build = pd.to_datetime([date.fromordinal(int(x)) for x in w.cust_build[idx]]) if len(idx) < 200_000 else \
            pd.Timestamp("0001-01-01") + pd.to_timedelta(w.cust_build[idx].astype(np.int64) - 1, unit="D")
        cap = np.where(cf["elec_type_code"].isin(["201", "202"]), 8.0, np.where(cf["elec_type_code"] == "100", 630.0, 30.0))
        copy_frame(mk, "c_cons", pd.DataFrame({
            "cons_no": cf["cons_no"], "cons_name": cf["cons_name"], "elec_type_code": cf["elec_type_code"],
            "trade_code": np.where(cf["elec_type_code"].isin(["201", "202"]), "9900", "0700"),
            "volt_code": cf["volt_code"], "contract_cap": cap, "urban_rural_flag": np.where(cf["urban"], "1", "2"),
            "org_no": cf["org_no"], "tg_no": cf["tg_no"], "line_no": cf["line_no"], "rca_flag": cf["rca_flag"].astype(str),
            "status_code": w.cust_status[idx].astype(str), "elec_addr": cf["elec_addr"], "mobile": cf["mobile"],
            "build_date": build.strftime("%Y-%m-%d"), "ps_date": (build + pd.Timedelta(days=7)).strftime("%Y-%m-%d"),
            "cancel_date": None}))
        copy_frame(mk, "c_mp", pd.DataFrame({"mp_no": cf["mp_no"], "cons_no": cf["cons_no"], "tg_no": cf["tg_no"],
                                             "meter_asset_no": "3330001" + cf["mp_no"].str[-10:], "t_factor": 1}))
    tr.execute("delete from sim_world")
    tr.execute("insert into sim_world values (1, %s, %s, %s)", (ctx.seed, ctx.scale.name, n))
    return {"c_cons": n, "o_org": len(w.orgs), "g_tg": len(a)}
