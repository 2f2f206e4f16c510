"""Simulate the four source systems for a date range: the ``simulate`` command's engine.

Per date D it writes, idempotently: the 95598 orders created on D (plus late-arriving ones from
earlier days), status updates made on D to orders created before D, call records, outage notices;
marketing payments and expansion applications (new + updates); the metering and hall file drops;
and the ground truth of all of it. Re-simulating D deletes/replaces exactly what D wrote.
"""

from __future__ import annotations

import logging
import time
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from grid_appeals.config import Settings, settings
from grid_appeals.simulate import expansion, payments, workorders
from grid_appeals.simulate import files as sim_files
from grid_appeals.simulate import truth as sim_truth
from grid_appeals.simulate.context import SimContext
from grid_appeals.simulate.defects import DefectRates, malform_phone, pick
from grid_appeals.simulate.outages import outages
from grid_appeals.simulate.rng import hash_uniform, row_random
from grid_appeals.simulate.scales import get_scale
from grid_appeals.simulate.schemas import SIM_TRUTH, SRC_95598, SRC_MARKETING
from grid_appeals.simulate.static import write_static
from grid_appeals.simulate.text.grammar import Speaker, generate, opinion
from grid_appeals.simulate.text.lexicon import INTENTS
from grid_appeals.simulate.workorders import BUSI_CODES, CHANNELS, CMPL_CLASSES, CMPL_SUBS, FAULT_TYPES
from grid_appeals.simulate.writer import replace_by_key, update_by_key
from grid_appeals.warehouse.connection import connect, ensure_database

log = logging.getLogger(__name__)
CONFUSABLE = {"投诉": "意见", "意见": "投诉", "业务咨询": "服务申请", "服务申请": "业务咨询", "故障报修": "业务咨询",
              "举报": "投诉", "建议": "意见", "表扬": "意见"}
TIME_LIMIT_H = {"故障报修": 3, "业务咨询": 24, "服务申请": 120, "投诉": 96, "举报": 216, "意见": 96, "建议": 96, "表扬": 24}
WKST_UPDATE_COLS = {"wkst_status_code": "varchar(2)", "dispatch_time": "timestamp", "arrive_time": "timestamp",
                    "finish_time": "timestamp", "archive_time": "timestamp", "visit_time": "timestamp",
                    "visit_satisfaction": "varchar(1)", "handle_opinion": "text", "upd_time": "timestamp",
                    "arrive_minutes": "numeric", "repair_minutes": "numeric"}


def late_delay(keys: np.ndarray, seed: int, entity: str, rate: float) -> np.ndarray:
    """Days a late-arriving row is delayed (0 = on time), by key."""
    late = pick(keys, seed, "late_row", entity, rate)
    return np.where(late, 1 + (hash_uniform(keys, seed, 777) * 3).astype(int), 0)


def _cutoff(ledger: set[date], created: date, d: date, horizon: int) -> datetime:
    """End of the latest simulated day within the row's lifecycle horizon (order-independent state)."""
    cands = [s for s in (*ledger, d) if created <= s <= created + timedelta(days=horizon)]
    s = max(cands)
    return datetime(s.year, s.month, s.day, 23, 59, 59)


def _wkst_state(ctx: SimContext, orders: pd.DataFrame, cutoff_by_day: dict[date, datetime],
                write_day: date) -> pd.DataFrame:
    """Lifecycle columns of orders at their cutoff, with the late-insert rule for upd_time."""
    parts = []
    for c, grp in orders.groupby("created"):
        st = workorders.state_at(grp, cutoff_by_day[c])
        parts.append(st)
    st = pd.concat(parts).loc[orders.index]
    delay = orders["delay"].to_numpy()
    ins = pd.DatetimeIndex([pd.Timestamp(c) + pd.Timedelta(days=int(k), hours=6) for c, k in
                            zip(orders["created"], delay, strict=True)])
    upd = pd.DatetimeIndex(np.where((delay > 0) & (ins > st["upd_time"]), ins, st["upd_time"]))
    out = pd.DataFrame(index=orders.index)
    out["wkst_status_code"] = st["status"]
    out["dispatch_time"] = st["dispatch"]
    out["arrive_time"] = st["arrive"]
    out["finish_time"] = st["finish"]
    out["archive_time"] = st["archive"]
    out["visit_time"] = st["visit"]
    out["visit_satisfaction"] = st["satisfaction"]
    fin = ~st["finish"].isna()
    out["arrive_minutes"] = np.where(~st["arrive"].isna(), np.round(orders["wait_min"], 1), np.nan)
    out["repair_minutes"] = np.where(fin & (orders["busi"] == "故障报修"), np.round(orders["fix_min"], 1), np.nan)
    kinds = {"故障报修": "repair", "业务咨询": "consult", "服务申请": "apply", "投诉": "complaint", "举报": "report"}
    ops = []
    for k, b, f, sat, ft in zip(orders["key"], orders["busi"], fin, orders["satisfaction"], st["finish"], strict=True):
        if not f:
            ops.append(None)
            continue
        r = row_random(ctx.seed, int(k), 91)
        ops.append(opinion(kinds.get(b, "other"), r, hm=pd.Timestamp(ft).strftime("%H:%M"), satisfied=sat != "3"))
    out["handle_opinion"] = ops
    out["upd_time"] = upd
    return out


def _wkst_rows(ctx: SimContext, orders: pd.DataFrame, state: pd.DataFrame, d: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Full source rows for orders first written on d, plus their truth rows."""
    w = ctx.world
    cf = w.cust_frame(orders["cust_idx"].to_numpy()).set_index(orders.index)
    texts, fam, phr, noise = [], [], [], []
    for k, intent, ch, rep, name, phone, cons, addr in zip(
            orders["key"], orders["intent"], orders["channel"], orders["repeat"], cf["person"], cf["mobile"],
            cf["cons_no"], cf["elec_addr"], strict=True):
        r = row_random(ctx.seed, int(k), 17)
        g = generate(intent, Speaker(name, name[0], phone, cons, addr), r,
                     channel={"网上国网": "网上国网", "微信": "微信", "12345转办": "12345"}.get(ch, "95598"),
                     repeat=bool(rep) and INTENTS[intent]["busi"] != "投诉")
        texts.append(g.text)
        fam.append(g.family)
        phr.append(g.phrasing)
        noise.append(g.noise)
    busi = orders["busi"].to_numpy()
    cls = np.array([INTENTS[i].get("cls") for i in orders["intent"]], dtype=object)
    sub = np.array([INTENTS[i].get("sub") for i in orders["intent"]], dtype=object)
    keys = orders["key"].to_numpy()
    mis = hash_uniform(keys, ctx.seed, 55) < ctx.mislabel_rate
    label = np.where(mis, [CONFUSABLE[b] for b in busi], busi)
    cls_codes = list(CMPL_CLASSES)
    wrong_cls = np.array(cls_codes, dtype=object)[(hash_uniform(keys, ctx.seed, 56) * 5).astype(int)]
    label_cls = np.where(label == "投诉", np.where(busi == "投诉", np.where(mis, wrong_cls, cls), wrong_cls), None)
    label_sub = np.where((label == "投诉") & (label_cls == cls), sub, None)
    city_org = ctx.world.cities["org_no"].to_numpy()[cf["city_idx"].to_numpy()]
    main_app = None
    out = pd.DataFrame({
        "app_no": orders["app_no"], "busi_type_code": [BUSI_CODES[b] for b in label],
        "cmpl_class_code": [CMPL_CLASSES.get(x) if x else None for x in label_cls],
        "cmpl_sub_code": [CMPL_SUBS.get(x) if x else None for x in label_sub],
        "cmpl_grade_code": np.where(label == "投诉", np.where(hash_uniform(keys, ctx.seed, 57) < 0.03, "03", "04"), None),
        "source_code": [CHANNELS[c] for c in orders["channel"]],
        "urban_rural_flag": np.where(cf["urban"], "1", "2"), "prov_org_no": "61101", "city_org_no": city_org,
        "org_no": cf["org_no"], "handle_time": pd.DatetimeIndex(orders["t"]).floor("s"), "accept_content": texts,
        "handle_opinion": state["handle_opinion"],
        "calling_no": cf["mobile"], "cust_no": cf["cons_no"], "cust_name": cf["cons_name"],
        "elec_type": cf["elec_type_code"], "fault_addr": np.where(busi == "故障报修", cf["elec_addr"], None),
        "fault_type_code": [FAULT_TYPES.get(i) for i in orders["intent"]], "line_no": cf["line_no"], "tg_no": cf["tg_no"],
        "sensitive_flag": np.where(hash_uniform(keys, ctx.seed, 58) < 0.02, "1", "0"), "main_app_no": main_app,
        "repeat_flag": np.where(orders["repeat"], "1", "0"),
        **{c: state[c] for c in ["wkst_status_code", "dispatch_time", "arrive_time", "arrive_minutes",
                                 "repair_minutes", "finish_time", "archive_time", "visit_time", "visit_satisfaction"]},
        "time_limit_hours": [TIME_LIMIT_H[b] for b in busi], "upd_time": state["upd_time"],
    }, index=orders.index)
    # merged outage orders: sub-orders point at the first order of the same outage (主单/子单)
    ev = orders["event_ref"].astype(str)
    first = orders.assign(ev=ev)[ev.str.startswith("OUT")].groupby("ev")["app_no"].transform("first")
    out.loc[first.index, "main_app_no"] = np.where(first.to_numpy() != out.loc[first.index, "app_no"].to_numpy(),
                                                   first.to_numpy(), None)
    parent_app = workorders.app_no_of(ctx, orders["parent"].to_numpy().astype(np.int64),
                                      _parent_times(ctx, orders))
    truth = pd.DataFrame({
        "app_no": orders["app_no"], "created_date": orders["created"], "intent": orders["intent"], "busi_type": busi,
        "cmpl_class": cls, "cmpl_sub": sub, "topic": [INTENTS[i]["topic"] for i in orders["intent"]],
        "phrasing_family": fam, "phrasing_id": phr, "text_noise": noise, "label_busi_type": label,
        "label_cmpl_class": label_cls, "mislabelled": (label != busi) | ((busi == "投诉") & (label_cls != cls)),
        "cause": orders["cause"], "event_ref": orders["event_ref"].replace("", None), "parent_app_no": parent_app,
        "is_repeat": orders["repeat"].astype(bool), "repeat_complaint": orders["repeat_complaint"].astype(bool),
        "late_arrival": orders["late"].astype(bool), "cust_no": cf["cons_no"], "tg_no": cf["tg_no"],
    })
    # hot-spot topic for repeat contacts that turned into complaints
    truth.loc[truth["repeat_complaint"] | ((busi == "投诉") & orders["cause"].isin(
        ["outage_late_complaint", "fault_escalation"]).to_numpy() & truth["topic"].isna()), "topic"] = "重复诉求"
    return out, truth


def _parent_times(ctx: SimContext, orders: pd.DataFrame) -> pd.DatetimeIndex:
    """Creation time of each order's parent (parents live in the same origin day's chain table)."""
    par = orders["parent"].to_numpy().astype(np.int64)
    times = np.full(len(par), np.datetime64("NaT"), dtype="datetime64[ns]")
    for origin_ord in np.unique(par[par >= 0] // 10_000_000):
        o = workorders.origins(ctx, date.fromordinal(int(origin_ord)))
        lut = dict(zip(o["key"].to_numpy(), pd.DatetimeIndex(o["t"]).to_numpy(), strict=True))
        m = (par >= 0) & (par // 10_000_000 == origin_ord)
        times[m] = [lut.get(k, np.datetime64("NaT")) for k in par[m]]
    return pd.DatetimeIndex(times)


def _apply_wkst_defects(ctx: SimContext, rows: pd.DataFrame, keys: np.ndarray, d: date,
                        defects: list[tuple]) -> pd.DataFrame:
    dr = ctx.defects
    s = ctx.seed
    m = pick(keys, s, "missing_required", "wkst", dr.missing_required)
    cols = np.array(["cust_no", "org_no", "busi_type_code", "accept_content"])
    which = cols[(hash_uniform(keys, s, 61) * 4).astype(int)]
    for i in np.flatnonzero(m):
        rows.iat[i, rows.columns.get_loc(which[i])] = None
        defects.append(("wkst", rows["app_no"].iat[i], "missing_required", which[i]))
    m = pick(keys, s, "invalid_code", "wkst", dr.invalid_code)
    for i in np.flatnonzero(m):
        col = ["busi_type_code", "elec_type", "source_code"][int(hash_uniform(keys[i:i + 1], s, 62)[0] * 3)]
        rows.iat[i, rows.columns.get_loc(col)] = {"busi_type_code": "099", "elec_type": "X02", "source_code": "9"}[col]
        defects.append(("wkst", rows["app_no"].iat[i], "invalid_code", col))
    m = pick(keys, s, "malformed_phone", "wkst", dr.malformed_phone)
    if m.any():
        rows.loc[rows.index[m], "calling_no"] = malform_phone(rows["calling_no"].to_numpy()[m], keys[m], s)
        defects += [("wkst", a, "malformed_phone", "calling_no") for a in rows["app_no"].to_numpy()[m]]
    m = pick(keys, s, "bad_timestamp", "wkst", dr.bad_timestamp)
    for i in np.flatnonzero(m):
        future = hash_uniform(keys[i:i + 1], s, 63)[0] < 0.5
        t = rows["handle_time"].iat[i]
        rows.iat[i, rows.columns.get_loc("handle_time")] = t + (pd.Timedelta(days=400) if future else -pd.Timedelta(days=2))
        defects.append(("wkst", rows["app_no"].iat[i], "bad_timestamp", "future" if future else "before_day"))
    m = pick(keys, s, "duplicate", "wkst", dr.duplicate)
    if m.any():
        defects += [("wkst", a, "duplicate", "") for a in rows["app_no"].to_numpy()[m]]
        rows = pd.concat([rows, rows[m]], ignore_index=True)
    return rows


def _simulate_day(ctx: SimContext, d: date, cfg: Settings, ledger: set[date], conns: dict) -> dict[str, int]:
    counts: dict[str, int] = {}
    defects: list[tuple] = []
    dr = ctx.defects
    H = workorders.LIFECYCLE_DAYS
    c95, cmk, ctr = conns["src_95598"], conns["src_marketing"], conns["sim_truth"]
    # ---- 95598: orders first written on d (on time from d, late from d-1..d-3) -------------------
    cur = workorders.day_orders(ctx, d)
    cur = cur.assign(delay=late_delay(cur["key"].to_numpy(), ctx.seed, "wkst", dr.late_row))
    new = [cur[cur["delay"] == 0]]
    for k in (1, 2, 3):
        p = workorders.day_orders(ctx, d - timedelta(days=k))
        p = p.assign(delay=late_delay(p["key"].to_numpy(), ctx.seed, "wkst", dr.late_row))
        new.append(p[p["delay"] == k])
    new_o = pd.concat(new, ignore_index=True)
    cut = {c: _cutoff(ledger, c, d, H) for c in pd.unique(new_o["created"])}
    st = _wkst_state(ctx, new_o, cut, d)
    rows, truth = _wkst_rows(ctx, new_o, st, d)
    for a in new_o.loc[new_o["delay"] > 0, "app_no"]:
        defects.append(("wkst", a, "late_row", f"written {d}"))
    rows = _apply_wkst_defects(ctx, rows, new_o["key"].to_numpy(), d, defects)
    counts["arc_s_95598_wkst.insert"] = replace_by_key(c95, "arc_s_95598_wkst", "app_no", rows)
    # ---- 95598: status updates on d for orders created in the previous H days --------------------
    old = []
    for k in range(1, H + 1):
        c = d - timedelta(days=k)
        p = workorders.day_orders(ctx, c)
        p = p.assign(delay=late_delay(p["key"].to_numpy(), ctx.seed, "wkst", dr.late_row))
        old.append(p[k > p["delay"]])
    old_o = pd.concat(old, ignore_index=True)
    if len(old_o):
        cut = {c: _cutoff(ledger, c, d, H) for c in pd.unique(old_o["created"])}
        # cheap pre-filter: only orders with some lifecycle event on/after d can change
        last = pd.concat([pd.DatetimeIndex(old_o[c]).to_series(index=old_o.index) for c in
                          ("dispatch", "arrive", "finish", "archive", "visit")], axis=1).max(axis=1)
        old_o = old_o[last >= pd.Timestamp(d)]
        if len(old_o):
            ust = _wkst_state(ctx, old_o, cut, d)
            ust = ust[ust["upd_time"] >= pd.Timestamp(d)]
            ust.insert(0, "app_no", old_o.loc[ust.index, "app_no"])
            counts["arc_s_95598_wkst.update"] = update_by_key(c95, "arc_s_95598_wkst", "app_no", ust, WKST_UPDATE_COLS)
    # ---- call records for phone orders written today ---------------------------------------------
    ph = rows[rows["source_code"] == "01"].drop_duplicates("app_no")
    hs = pd.DatetimeIndex(ph["handle_time"])
    dur = (hash_uniform(np.arange(len(ph)) + d.toordinal() * 100000, ctx.seed, 71) * 600 + 60).astype(int)
    comm = pd.DataFrame({"comm_id": "C" + ph["app_no"].astype(str), "app_no": ph["app_no"], "calling_no": ph["calling_no"],
                         "called_no": "95598", "agent_no": ["A" + str(1000 + int(x) % 380) for x in ph["app_no"]],
                         "call_start_time": hs - pd.to_timedelta(dur, unit="s"), "call_end_time": hs,
                         "call_dir": "1"})
    ck = comm["app_no"].astype(np.int64).to_numpy() if len(comm) else np.zeros(0, np.int64)
    m = pick(ck, ctx.seed, "duplicate", "comm", dr.duplicate)
    defects += [("s_comm_rec", x, "duplicate", "") for x in comm["comm_id"].to_numpy()[m]]
    comm = pd.concat([comm, comm[m]], ignore_index=True)
    counts["s_comm_rec"] = replace_by_key(c95, "s_comm_rec", "comm_id", comm)
    # ---- outage notices --------------------------------------------------------------------------
    o = outages(ctx, d)
    a = ctx.world.areas
    tg = a["tg_no"].to_numpy()[o["area_idx"]]
    st_org = ctx.world.stations["org_no"].to_numpy()[a["station_idx"].to_numpy()[o["area_idx"]]]
    ln = ctx.world.lines["line_no"].to_numpy()[a["line_idx"].to_numpy()[o["area_idx"]]]
    notice = pd.DataFrame({
        "outage_no": [f"TD{x}" for x in o["outage_id"]], "org_no": st_org, "line_no": ln, "tg_no": tg,
        "outage_type_code": np.where(o["planned"], "01", "02"),
        "outage_scope": a["tg_name"].to_numpy()[o["area_idx"]] + "供电范围内用户", "outage_reason": o["cause"],
        "pub_time": pd.DatetimeIndex(np.where(o["planned"] & o["notified"],
                                              pd.DatetimeIndex(o["start"]) - pd.to_timedelta(o["pub_days_before"], unit="D"),
                                              np.where(o["planned"], pd.NaT, pd.DatetimeIndex(o["start"]) + pd.Timedelta(minutes=20))))
        , "start_time": o["start"], "end_time": o["end"], "upd_time": o["end"],
    })
    counts["s_region_outrage"] = replace_by_key(c95, "s_region_outrage", "outage_no", notice)
    # ---- marketing: payments (with late rows and defects) ----------------------------------------
    pays = []
    for k in (0, 1, 2, 3):
        p = payments.payments(ctx, d - timedelta(days=k))
        dl = late_delay(p["key"].to_numpy(), ctx.seed, "pay", dr.late_row)
        pays.append(p[dl == k])
        if k:
            defects += [("a_pay_flow", x, "late_row", f"written {d}") for x in p["pay_flow_no"].to_numpy()[dl == k]]
    pay = pd.concat(pays, ignore_index=True)
    pk = pay["key"].to_numpy()
    cf = ctx.world.cust_frame(pay["cust_idx"].to_numpy())
    pf = pd.DataFrame({"pay_flow_no": pay["pay_flow_no"], "cons_no": cf["cons_no"].to_numpy(), "org_no": cf["org_no"].to_numpy(),
                       "charge_ym": pay["charge_ym"], "charge_date": pay["charge_date"], "pay_mode": pay["pay_mode"],
                       "rcv_amt": pay["rcv_amt"], "acct_org_no": cf["org_no"].to_numpy()})
    m = pick(pk, ctx.seed, "invalid_code", "pay", dr.invalid_code)
    pf.loc[m, "pay_mode"] = "99"
    defects += [("a_pay_flow", x, "invalid_code", "pay_mode") for x in pf["pay_flow_no"].to_numpy()[m]]
    m = pick(pk, ctx.seed, "missing_required", "pay", dr.missing_required)
    pf.loc[m, "cons_no"] = None
    defects += [("a_pay_flow", x, "missing_required", "cons_no") for x in pf["pay_flow_no"].to_numpy()[m]]
    m = pick(pk, ctx.seed, "duplicate", "pay", dr.duplicate)
    defects += [("a_pay_flow", x, "duplicate", "") for x in pf["pay_flow_no"].to_numpy()[m]]
    pf = pd.concat([pf, pf[m]], ignore_index=True)
    counts["a_pay_flow"] = replace_by_key(cmk, "a_pay_flow", "pay_flow_no", pf)
    # ---- marketing: expansion applications (new + status updates) --------------------------------
    apps_new = expansion.applications(ctx, d)
    parts = []
    for k in range(0, expansion.LOOKBACK + 1):
        c = d - timedelta(days=k)
        ap = expansion.applications(ctx, c)
        if not len(ap):
            continue
        stt = expansion.state_at(ap, _cutoff(ledger, c, d, expansion.LOOKBACK))
        ap = pd.concat([ap, stt], axis=1)
        parts.append(ap if k == 0 else ap[pd.DatetimeIndex(ap["upd_time"]) >= pd.Timestamp(d)])
    if parts:
        ap = pd.concat(parts, ignore_index=True)
        cf = ctx.world.cust_frame(ap["cust_idx"].to_numpy())
        sapp = pd.DataFrame({"app_no": ap["app_no"], "cons_no": cf["cons_no"].to_numpy(), "busi_type_code": ap["type_code"],
                             "org_no": cf["org_no"].to_numpy(), "app_date": pd.DatetimeIndex(ap["t0"]).floor("s"),
                             "volt_code": np.where(ap["type_code"] < "200", "AC02202", "AC00101"),
                             "contract_cap": ap["contract_cap"], "status_code": ap["status_code"],
                             "limit_days": ap["limit_wd"], "finish_time": pd.DatetimeIndex(ap["finish_time"]).floor("s"),
                             "archive_time": pd.DatetimeIndex(ap["archive_time"]).floor("s"),
                             "upd_time": pd.DatetimeIndex(ap["upd_time"]).floor("s")})
        counts["s_app"] = replace_by_key(cmk, "s_app", "app_no", sapp)
    # ---- files ----------------------------------------------------------------------------------
    counts.update(sim_files.write_metering(ctx, d, cfg, defects))
    counts.update(sim_files.write_halls(ctx, d, cfg, defects))
    # ---- ground truth ---------------------------------------------------------------------------
    counts.update(sim_truth.write_day(ctx, d, ctr, truth, defects, apps_new, counts))
    return counts


def simulate(start: date, end: date, *, scale: str = "small", seed: int = 42, cfg: Settings | None = None,
             defects: DefectRates | None = None, progress: bool = False) -> dict[str, int]:
    """Simulate [start, end] (inclusive); returns row counts per entity summed over the days."""
    cfg = cfg or settings()
    sc = get_scale(scale)
    ctx = SimContext(seed, sc, defects if defects is not None else DefectRates())
    for role, ddl in (("src_95598", SRC_95598), ("src_marketing", SRC_MARKETING), ("sim_truth", SIM_TRUTH)):
        ensure_database(cfg.db_name(role), cfg=cfg)
        with connect(role, cfg=cfg, autocommit=True) as conn:
            conn.execute(ddl)
    totals: dict[str, int] = {}
    t0 = time.perf_counter()
    conns = {r: connect(r, cfg=cfg) for r in ("src_95598", "src_marketing", "sim_truth")}
    try:
        totals.update(write_static(ctx, conns))
        for c in conns.values():
            c.commit()
        ledger = {r[0] for r in conns["sim_truth"].execute("select sim_date from sim_day").fetchall()}
        days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
        it = days
        if progress:
            from tqdm import tqdm
            it = tqdm(days, desc="simulate", unit="day")
        for d in it:
            counts = _simulate_day(ctx, d, cfg, ledger, conns)
            ledger.add(d)
            for c in conns.values():
                c.commit()
            for k, v in counts.items():
                totals[k] = totals.get(k, 0) + int(v)
    except Exception:
        for c in conns.values():
            c.rollback()
        raise
    finally:
        for c in conns.values():
            c.close()
    log.info("simulated %s..%s (%s, seed %s) in %.1fs", start, end, scale, seed, time.perf_counter() - t0)
    return totals
