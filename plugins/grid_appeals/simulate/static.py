"""Static source tables (org tree, lines, 台区, customers, metering points, code tables).

Written once per (seed, scale) — re-written only when the world changes — so simulating a day never
re-copies 10 M customers. Customers are copied in chunks to bound memory. From then on the runner
writes only the customers that change (``customers.py``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from grid_appeals.simulate import customers
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
# bump when the static rows change shape: databases written by an older version are rewritten once
# (2: c_cons.upd_time and cancel dates, c_mp.inst_date)
WORLD_VERSION = 2


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
    row = tr.execute("select seed, scale, customers, world_version from sim_world where id = 1").fetchone()
    # the world's own customers (new customers, numbered from customers.NEW_CONS_BASE, come later)
    have = conns["src_marketing"].execute("select count(*) from c_cons where cons_no < %s",
                                          (str(customers.NEW_CONS_BASE),)).fetchone()[0]
    if row == (ctx.seed, ctx.scale.name, ctx.world.n_customers, WORLD_VERSION) and have == ctx.world.n_customers:
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
        rows = customers.cons_rows(w, idx)
        copy_frame(mk, "c_cons", rows)
        copy_frame(mk, "c_mp", customers.mp_rows(pd.Series(w.mp_no(idx)), rows["cons_no"], rows["tg_no"], rows["ps_date"]))
    tr.execute("delete from sim_world")
    tr.execute("insert into sim_world (id, seed, scale, customers, world_version) values (1, %s, %s, %s, %s)",
               (ctx.seed, ctx.scale.name, n, WORLD_VERSION))
    return {"c_cons": n, "o_org": len(w.orgs), "g_tg": len(a)}
