"""95598 work orders: contacts caused by events, follow-ups that escalate, and their lifecycles.

Causality is explicit. Every contact belongs to a *chain* that starts from an event on its origin
day (an outage, a single-customer fault, a meter fault, a long hall queue, an overdue expansion
application, or a plain service need) and may continue with repeat calls and complaints on later
days. A chain is a pure function of (seed, origin day), so the orders created on day D are the
chain steps from the last ``CHAIN_DAYS`` origin days whose time falls on D — regenerating D never
needs anything but the seed.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from grid_appeals.simulate import expansion, halls, surges
from grid_appeals.simulate.calendar_weather import demand_factor, repair_factor, weather
from grid_appeals.simulate.context import SimContext
from grid_appeals.simulate.outages import meter_faults, outage_history, outages
from grid_appeals.simulate.rng import day_rng
from grid_appeals.simulate.text.lexicon import INTENTS

# chain-step key = origin-day ordinal * KEY_DAY + block * KEY_BLOCK + row. Province storm days have
# >10 k blocks (several per outage) and >10 k rows in one block, hence the wide layout.
KEY_DAY = 10**11
KEY_BLOCK = 10**6
SURGE_BLOCK = 99_998  # planted surges (surges.py)
REPEAT_BLOCK = 99_999  # 重复投诉 after an unsatisfied complaint visit
CHAIN_DAYS = 30  # a chain's last step is at most this many days after its origin
LIFECYCLE_DAYS = 25  # an order's last status change is at most this many days after creation

BUSI_CODES = {"故障报修": "001", "业务咨询": "002", "服务申请": "003", "投诉": "004", "举报": "005", "意见": "006",
              "建议": "007", "表扬": "008"}
CMPL_CLASSES = {"服务投诉": "01", "营业投诉": "02", "停送电投诉": "03", "供电质量投诉": "04", "电网建设投诉": "05"}
CMPL_SUBS = {"服务态度": "0101", "服务行为规范": "0102", "营业时间": "0103", "服务渠道/设施": "0104", "业扩报装": "0201",
             "用电变更": "0202", "抄表催费": "0203", "电费电价": "0204", "电能计量": "0205", "业务收费": "0206",
             "停送电信息公告": "0301", "停电计划执行": "0302", "抢修服务": "0303", "电压质量": "0401", "供电可靠性": "0402",
             "施工行为": "0501", "电力设施安全": "0502"}
CHANNELS = {"95598电话": "01", "网上国网": "02", "12345转办": "03", "主动抢修": "04", "微信": "05"}
STATUS = {"01": "受理", "02": "已派单", "03": "处理中", "04": "已办结", "05": "已归档", "06": "已回访"}
SATISFACTION = {"1": "满意", "2": "基本满意", "3": "不满意"}
FAULT_TYPES = {"repair_area_outage": "01", "repair_single_outage": "02", "repair_low_voltage": "03",
               "repair_line_hazard": "04", "repair_meter_box": "05", "repair_streetlight_other": "09"}

# primary service needs per mild weekday, relative weights (sum scaled to base_orders * 0.58)
SERVICE_MIX = {"consult_bill_query": 12, "consult_tariff": 5, "consult_outage_plan": 3, "consult_payment": 8,
               "consult_business": 5, "consult_meter_reading": 3, "apply_meter_check": 1.2, "apply_change": 5,
               "apply_reconnect": 3, "apply_new_install": 2, "apply_invoice": 1.5, "opinion_service": 1.6,
               "suggest": 1.0, "praise": 1.2, "report_theft": 0.35, "report_violation": 0.2, "report_conduct": 0.1,
               "report_damage": 0.2}
# complaints raised without an event chain; most still come after an earlier contact (prior intent)
DIRECT_COMPLAINTS = {"cmpl_attitude": (0.5, "consult_bill_query"), "cmpl_conduct": (0.35, "repair_single_outage"),
                     "cmpl_hours": (0.1, "consult_business"), "cmpl_change": (0.2, "apply_change"),
                     "cmpl_meter_read": (0.25, "consult_bill_query"), "cmpl_bill": (0.3, "consult_bill_query"),
                     "cmpl_fee": (0.1, "apply_change"), "cmpl_construction": (0.12, "opinion_service"),
                     "cmpl_facility": (0.1, "repair_line_hazard"), "cmpl_plan_exec": (0.08, "consult_outage_plan"),
                     "cmpl_channel": (0.1, "consult_payment")}
REPAIR_MIX = {"repair_single_outage": 0.56, "repair_line_hazard": 0.12, "repair_meter_box": 0.08,
              "repair_streetlight_other": 0.14, "repair_low_voltage": 0.10}

COLS = ["key", "t", "cust_idx", "intent", "channel", "repeat", "parent", "cause", "event_ref", "wait_min",
        "fix_min", "unresolved", "restore"]


def _frame(n: int, **cols) -> dict[str, np.ndarray]:
    """One block of chain steps as column arrays (DataFrames are built once per day: much faster)."""
    base = {"repeat": False, "parent": -1, "cause": "service", "event_ref": "", "wait_min": np.nan, "fix_min": np.nan,
            "unresolved": False, "restore": np.datetime64("NaT", "ns")}
    base.update(cols)
    out = {}
    for k, v in base.items():
        if isinstance(v, (pd.DatetimeIndex, pd.Series)):
            v = np.asarray(v, dtype="datetime64[ns]") if k in ("t", "restore") else np.asarray(v)
        elif isinstance(v, pd.Timestamp):
            v = np.datetime64(v.value, "ns")
        arr = np.asarray(v)
        if arr.ndim == 0:
            arr = np.full(n, arr.item() if arr.dtype.kind not in "Mm" else arr, dtype=arr.dtype if arr.dtype.kind != "U" else object)
        elif arr.dtype.kind == "U":
            arr = arr.astype(object)
        out[k] = arr
    out["_n"] = n
    return out


def _channel(rng: np.random.Generator, n: int, d: date, complaint: bool = False) -> np.ndarray:
    """Contact channel; online share grows year by year (channel migration).

    Online (网上国网 + 微信) reaches ~19 % of work orders in 2024 and at most 27 %: the apps
    mostly absorb payments and queries that never become work orders, while repairs and
    complaints still come in by phone (the earlier ~34 % was too high for a 95598 order extract).
    """
    online = float(np.clip(0.05 + 0.02 * (d.year - 2018), 0.05, 0.25))
    p = np.array([1 - online - 0.07 - (0.08 if complaint else 0), online * 0.8, 0.05 + (0.08 if complaint else 0), 0,
                  online * 0.2 + 0.02])
    return np.array(list(CHANNELS))[rng.choice(5, n, p=p / p.sum())]


def _times(rng: np.random.Generator, d: date, n: int, evening: bool = False) -> pd.DatetimeIndex:
    """Call times: daytime peak around 10:00 and 15:00 (service) or evening peak (repairs)."""
    if evening:
        h = np.where(rng.random(n) < 0.55, rng.normal(19.5, 2.5, n), rng.uniform(0, 24, n))
    else:
        h = np.where(rng.random(n) < 0.5, rng.normal(10.2, 1.6, n), rng.normal(15.5, 2.2, n))
    h = np.mod(h, 24)
    return pd.Timestamp(d) + pd.to_timedelta(np.round(h * 3600), unit="s")


def origins(ctx: SimContext, c: date) -> pd.DataFrame:
    """All chain steps whose origin event is on day c (their times may fall on later days)."""
    return ctx.cached(("origins", c), lambda: _origins(ctx, c))


def _origins(ctx: SimContext, c: date) -> pd.DataFrame:
    rng = day_rng(ctx.seed, c, "orders")
    w = ctx.world
    a = w.areas
    wx = weather(ctx.seed, c)
    dem = demand_factor(c)
    rf_city = repair_factor(wx.tmax)
    busy = 1.0 + 0.15 * (rf_city - 1)  # crews stretched thin on hot/storm days
    base = ctx.scale.base_orders
    steps: list[pd.DataFrame] = []
    # --- A. outage callers ------------------------------------------------------------------
    o = outages(ctx, c)
    hist = outage_history(ctx, c)
    urban_a = a["urban"].to_numpy()
    for r in o.itertuples():
        lo, n = int(a.at[r.area_idx, "cust_lo"]), int(a.at[r.area_idx, "cust_n"])
        dur_h = (r.end - r.start).total_seconds() / 3600
        rate = ctx.scale.callers_per_outage * min(2.5, 0.6 + dur_h / 4) * (0.3 if r.planned and r.notified else 1.0)
        k = rng.binomial(n, min(rate, 0.5))
        if k == 0:
            continue
        cust = lo + rng.choice(n, k, replace=False)
        t = r.start + pd.to_timedelta(np.minimum(rng.exponential(25, k), dur_h * 60 + 20), unit="m")
        city = int(a.at[r.area_idx, "city_idx"])
        limit = 45 if urban_a[r.area_idx] else 90
        crew = t.min() + pd.Timedelta(minutes=float(rng.lognormal(np.log(35 if urban_a[r.area_idx] else 65), 0.5)
                                                    * busy[city] * (1.4 if r.storm else 1.0)))
        wait = np.maximum(5.0, (crew - t).total_seconds() / 60)
        intent = np.where(rng.random(k) < (0.7 if r.planned else 0.1), "consult_outage_plan", "repair_area_outage")
        key0 = len(steps)
        prim = _frame(k, t=t, cust_idx=cust, intent=intent, channel=_channel(rng, k, c), cause="outage",
                      event_ref=f"OUT{r.outage_id}", wait_min=wait, restore=r.end,
                      fix_min=(r.end - crew).total_seconds() / 60)
        steps.append(prim)
        late = wait > limit
        # repeat calls while waiting for a late crew
        rep = late & (rng.random(k) < 0.5) & (intent == "repair_area_outage")
        if rep.any():
            tt = t[rep] + pd.to_timedelta(limit + rng.uniform(0, 1, rep.sum()) * (wait[rep] - limit), unit="m")
            steps.append(_frame(int(rep.sum()), t=tt, cust_idx=cust[rep], intent="repair_area_outage",
                                channel="95598电话", repeat=True, parent=np.flatnonzero(rep) + 1_000_000 * (key0 + 1),
                                cause="outage_late_repeat", event_ref=f"OUT{r.outage_id}"))
            esc = rng.random(rep.sum()) < 0.45
            if esc.any():
                te = crew + pd.to_timedelta(rng.uniform(30, 600, esc.sum()), unit="m")
                steps.append(_frame(int(esc.sum()), t=te, cust_idx=cust[rep][esc],
                                    intent=np.where(rng.random(esc.sum()) < 0.8, "cmpl_repair", "cmpl_attitude"),
                                    channel=_channel(rng, int(esc.sum()), c, True),
                                    parent=np.flatnonzero(rep)[esc] + 1_000_000 * (key0 + 1),
                                    cause="outage_late_complaint", event_ref=f"OUT{r.outage_id}"))
        # frequent outages in this area → reliability complaints after the repair call
        if hist[r.area_idx] >= 2:
            fq = rng.random(k) < min(0.5, 0.12 * hist[r.area_idx])
            if fq.any():
                tf = t[fq] + pd.to_timedelta(rng.uniform(60, 1800, fq.sum()), unit="m")
                steps.append(_frame(int(fq.sum()), t=tf, cust_idx=cust[fq], intent="cmpl_reliability",
                                    channel=_channel(rng, int(fq.sum()), c, True),
                                    parent=np.flatnonzero(fq) + 1_000_000 * (key0 + 1), cause="frequent_outage",
                                    event_ref=f"OUT{r.outage_id}"))
        if r.planned and not r.notified:
            nn = rng.random(k) < 0.35
            if nn.any():
                steps.append(_frame(int(nn.sum()), t=t[nn] + pd.to_timedelta(rng.uniform(30, 480, nn.sum()), unit="m"),
                                    cust_idx=cust[nn], intent="cmpl_notice",
                                    channel=_channel(rng, int(nn.sum()), c, True),
                                    parent=np.flatnonzero(nn) + 1_000_000 * (key0 + 1), cause="outage_not_notified",
                                    event_ref=f"OUT{r.outage_id}"))
    # --- B. single-customer faults, weather-driven per city ---------------------------------------
    city_n = np.array([len(x) for x in ctx.city_customers], dtype=float)
    lam = base * 0.40 * dem["repair"] * city_n / city_n.sum() * rf_city
    lam *= np.where(wx.storm, 1.8, 1.0)
    cnt = rng.poisson(lam)
    cust = np.concatenate([rng.choice(ctx.city_customers[i], cnt[i]) for i in range(len(cnt))]) if cnt.sum() else \
        np.zeros(0, dtype=np.int64)
    k = len(cust)
    if k:
        city_of = a["city_idx"].to_numpy()[w.cust_area[cust]]
        urban = urban_a[w.cust_area[cust]]
        intent = np.array(list(REPAIR_MIX))[rng.choice(len(REPAIR_MIX), k, p=list(REPAIR_MIX.values()))]
        lowv = a["low_volt"].to_numpy()[w.cust_area[cust]] & (wx.tmax[city_of] > 30)
        intent = np.where(lowv & (rng.random(k) < 0.5), "repair_low_voltage", intent)
        wait = rng.lognormal(np.log(np.where(urban, 30, 55)), 0.55) * busy[city_of]
        limit = np.where(urban, 45, 90)
        fix = rng.lognormal(np.log(50), 0.7, k)
        unres = rng.random(k) < np.where(intent == "repair_low_voltage", 0.35, 0.05)
        t = _times(rng, c, k, evening=True)
        key0 = len(steps)
        steps.append(_frame(k, t=t, cust_idx=cust, intent=intent, channel=_channel(rng, k, c), cause="fault",
                            wait_min=wait, fix_min=fix, unresolved=unres))
        late = wait > limit
        rep = (late & (rng.random(k) < 0.35)) | (unres & (rng.random(k) < 0.6))
        if rep.any():
            dt = np.where(late[rep], limit[rep] + rng.uniform(0, 1, rep.sum()) * np.maximum(wait[rep] - limit[rep], 1),
                          wait[rep] + fix[rep] + rng.uniform(120, 2000, rep.sum()))
            pr = np.flatnonzero(rep) + 1_000_000 * (key0 + 1)
            steps.append(_frame(int(rep.sum()), t=t[rep] + pd.to_timedelta(dt, unit="m"), cust_idx=cust[rep],
                                intent=intent[rep], channel="95598电话", repeat=True, parent=pr, cause="fault_repeat"))
            esc = rng.random(rep.sum()) < 0.2
            if esc.any():
                ci = intent[rep][esc]
                cint = np.where(ci == "repair_low_voltage", "cmpl_voltage",
                                np.where(rng.random(esc.sum()) < 0.78, "cmpl_repair", "cmpl_attitude"))
                te = t[rep][esc] + pd.to_timedelta(dt[esc] + rng.uniform(60, 2880, esc.sum()), unit="m")
                steps.append(_frame(int(esc.sum()), t=te, cust_idx=cust[rep][esc], intent=cint,
                                    channel=_channel(rng, int(esc.sum()), c, True), parent=pr[esc],
                                    cause="fault_escalation"))
    # --- C. service needs and direct complaints ---------------------------------------------------
    mix = dict(SERVICE_MIX)
    n_srv = rng.poisson(base * 0.58 * dem["service"])
    names_ = list(mix)
    p = np.array(list(mix.values()))
    intent = np.array(names_)[rng.choice(len(names_), n_srv, p=p / p.sum())]
    cust = rng.integers(0, w.n_customers, n_srv)
    steps.append(_frame(n_srv, t=_times(rng, c, n_srv), cust_idx=cust, intent=intent,
                        channel=_channel(rng, n_srv, c), cause="service"))
    dc = list(DIRECT_COMPLAINTS)
    pc = np.array([v[0] for v in DIRECT_COMPLAINTS.values()])
    n_c = rng.poisson(base * 0.0095 * dem["service"] * pc.sum() / 2.12)
    cint = np.array(dc)[rng.choice(len(dc), n_c, p=pc / pc.sum())]
    cust = rng.integers(0, w.n_customers, n_c)
    t = _times(rng, c, n_c)
    prior = rng.random(n_c) < 0.7
    key0 = len(steps)
    pint = np.array([DIRECT_COMPLAINTS[x][1] for x in cint], dtype=object)
    steps.append(_frame(int(prior.sum()), t=t[prior], cust_idx=cust[prior], intent=pint[prior],
                        channel=_channel(rng, int(prior.sum()), c), cause="pre_complaint"))
    steps.append(_frame(n_c, t=t + pd.to_timedelta(np.where(prior, rng.uniform(120, 5 * 1440, n_c), 0), unit="m"),
                        cust_idx=cust, intent=cint, channel=_channel(rng, n_c, c, True),
                        parent=np.where(prior, np.cumsum(prior) - 1 + 1_000_000 * (key0 + 1), -1),
                        cause=np.where(prior, "complaint_after_contact", "direct_complaint")))
    # --- D. meter faults → billing/metering contacts → complaints --------------------------------
    mf = meter_faults(ctx, c)
    call = rng.random(len(mf)) < 0.45
    if call.any():
        m = mf[call]
        k = len(m)
        intent = np.array(["consult_bill_query", "apply_meter_check", "repair_meter_box"])[
            rng.choice(3, k, p=[0.5, 0.3, 0.2])]
        t = pd.Timestamp(c) + pd.to_timedelta(rng.uniform(0.3, 12, k), unit="D")
        key0 = len(steps)
        refs = np.array([f"MF{c:%Y%m%d}:{x}" for x in m["cust_idx"]])
        steps.append(_frame(k, t=t, cust_idx=m["cust_idx"].to_numpy(), intent=intent, channel=_channel(rng, k, c),
                            cause="meter_fault", event_ref=refs))
        esc = rng.random(k) < 0.38
        if esc.any():
            steps.append(_frame(int(esc.sum()), t=t[esc] + pd.to_timedelta(rng.uniform(0.2, 6, esc.sum()), unit="D"),
                                cust_idx=m["cust_idx"].to_numpy()[esc],
                                intent=np.where(rng.random(esc.sum()) < 0.6, "cmpl_metering", "cmpl_bill"),
                                channel=_channel(rng, int(esc.sum()), c, True),
                                parent=np.flatnonzero(esc) + 1_000_000 * (key0 + 1), cause="meter_fault_complaint",
                                event_ref=refs[esc]))
    # --- E. long hall queues → 营业服务 complaints -------------------------------------------------
    tk = halls.tickets(ctx, c)
    if len(tk):
        long = tk[(tk["wait_min"] > 15)]
        sel = rng.random(len(long)) < np.clip(0.0015 * (long["wait_min"].to_numpy() - 15) ** 0.7, 0, 0.04)
        lt = long[sel]
        if len(lt):
            k = len(lt)
            steps.append(_frame(k, t=pd.DatetimeIndex(lt["finish"]) + pd.to_timedelta(rng.uniform(20, 2000, k), unit="m"),
                                cust_idx=lt["cust_idx"].to_numpy(),
                                intent=np.where(rng.random(k) < 0.75, "cmpl_channel",
                                                np.where(rng.random(k) < 0.5, "opinion_service", "cmpl_attitude")),
                                channel=_channel(rng, k, c, True), cause="hall_queue",
                                event_ref=lt["ticket_no"].to_numpy()))
    # --- F. overdue expansion applications → 催办 → 业扩超时 complaints ------------------------------
    ap = expansion.applications(ctx, c)
    od = ap[ap["overrun"].to_numpy() & (rng.random(len(ap)) < 0.6)]
    if len(od):
        k = len(od)
        lim_t = pd.DatetimeIndex([s[0] for s in od["steps"]]) + pd.to_timedelta(od["limit_wd"].to_numpy() * 1.4, unit="D")
        key0 = len(steps)
        steps.append(_frame(k, t=lim_t - pd.to_timedelta(rng.uniform(0, 2, k), unit="D"), cust_idx=od["cust_idx"].to_numpy(),
                            intent="consult_business", channel=_channel(rng, k, c), cause="expansion_overdue",
                            event_ref=od["app_no"].to_numpy()))
        esc = rng.random(k) < 0.5
        if esc.any():
            steps.append(_frame(int(esc.sum()), t=lim_t[esc] + pd.to_timedelta(rng.uniform(0.5, 6, esc.sum()), unit="D"),
                                cust_idx=od["cust_idx"].to_numpy()[esc], intent="cmpl_expansion",
                                channel=_channel(rng, int(esc.sum()), c, True),
                                parent=np.flatnonzero(esc) + 1_000_000 * (key0 + 1), cause="expansion_complaint",
                                event_ref=od["app_no"].to_numpy()[esc]))
    # --- assemble: key = origin-day ordinal * KEY_DAY + block * KEY_BLOCK + row ------------------
    cols: dict[str, list] = {k: [] for k in COLS}
    for b, st in enumerate(steps):
        n = st["_n"]
        if n == 0:
            continue
        cols["key"].append(c.toordinal() * KEY_DAY + b * KEY_BLOCK + np.arange(n, dtype=np.int64))
        par = np.asarray(st["parent"]).astype(np.int64)
        blk = par // 1_000_000 - 1
        st["parent"] = np.where(par >= 0, c.toordinal() * KEY_DAY + blk * KEY_BLOCK + par % 1_000_000, -1)
        for k in COLS[1:]:
            cols[k].append(st[k])
    df = pd.DataFrame({k: np.concatenate(v) for k, v in cols.items()})
    df["t"] = pd.to_datetime(df["t"])
    df["restore"] = pd.to_datetime(df["restore"])
    df = _lifecycle(ctx, c, df, rng)
    return _repeat_complaints(ctx, c, df, rng)


def _lifecycle(ctx: SimContext, c: date, df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Status timestamps for every order, drawn once at creation (applied as days are simulated)."""
    n = len(df)
    busi = np.array([INTENTS[i]["busi"] for i in df["intent"]])
    t = pd.DatetimeIndex(df["t"])
    repair = busi == "故障报修"
    minutes = lambda x: pd.to_timedelta(np.nan_to_num(x, nan=0.0), unit="m")  # noqa: E731
    dispatch_m = np.where(repair, rng.uniform(1, 6, n), rng.uniform(10, 240, n))
    in_call = (busi == "业务咨询") & (rng.random(n) < 0.65) | (busi == "表扬") & (rng.random(n) < 0.5)
    wait = df["wait_min"].to_numpy(dtype=float)
    wait = np.where(repair & np.isnan(wait), rng.lognormal(np.log(35), 0.5, n), wait)
    fix = df["fix_min"].to_numpy(dtype=float)
    fix = np.where(repair & np.isnan(fix), rng.lognormal(np.log(50), 0.7, n), fix)
    days = {"业务咨询": (0.1, 2), "服务申请": (1, 7), "投诉": (1, 6.5), "举报": (2, 12.5), "意见": (0.5, 4),
            "建议": (0.5, 4), "表扬": (0.2, 2)}
    lo = np.array([days.get(b, (0, 0))[0] for b in busi])
    hi = np.array([days.get(b, (0, 0))[1] for b in busi])
    finish_m = np.where(repair, np.maximum(wait, dispatch_m) + np.maximum(fix, 10),
                        np.where(in_call, rng.uniform(3, 15, n), rng.uniform(lo, hi) * 1440))
    restore = pd.DatetimeIndex(df["restore"])
    dispatch = t + minutes(dispatch_m)
    arrive = t + minutes(np.maximum(wait, dispatch_m))
    finish = t + minutes(finish_m)
    finish = pd.DatetimeIndex(np.where(repair & ~restore.isna() & (restore > arrive), restore, finish))
    archive = finish + minutes(rng.uniform(60, 2880, n))
    visit_rate = np.where(busi == "业务咨询", 0.3, np.where(busi == "表扬", 0.0, 0.88))
    has_visit = rng.random(n) < visit_rate
    visit = finish + minutes(rng.uniform(240, 4320, n))
    late = repair & (wait > np.where(ctx.world.cust_urban(df["cust_idx"].to_numpy()), 45, 90))
    bad = 0.015 + 0.3 * late + 0.45 * df["unresolved"].to_numpy() + 0.12 * (busi == "投诉") + 0.1 * df["repeat"].to_numpy()
    u = rng.random(n)
    sat = np.where(u < bad, "3", np.where(u < bad + 0.06, "2", "1"))
    df = df.assign(busi=busi, dispatch=pd.DatetimeIndex(np.where(in_call, pd.NaT, dispatch)),
                   arrive=pd.DatetimeIndex(np.where(repair, arrive, pd.NaT)), finish=finish, archive=archive,
                   visit=pd.DatetimeIndex(np.where(has_visit, visit, pd.NaT)), satisfaction=np.where(has_visit, sat, ""),
                   late=late, wait_min=np.where(repair, wait, np.nan), fix_min=np.where(repair, fix, np.nan))
    return df


def _repeat_complaints(ctx: SimContext, c: date, df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """重复投诉: an unsatisfied complaint visit makes the customer complain again about the same event."""
    cm = df[(df["busi"] == "投诉") & (df["satisfaction"] == "3")]
    sel = cm[rng.random(len(cm)) < 0.4]
    if not len(sel):
        return df.assign(repeat_complaint=False)
    k = len(sel)
    rep = sel[COLS].copy()
    rep["t"] = pd.DatetimeIndex(sel["visit"]) + pd.to_timedelta(rng.uniform(0.2, 4, k), unit="D")
    rep["parent"] = sel["key"].to_numpy()
    rep["repeat"] = True
    rep["cause"] = "repeat_complaint"
    rep["channel"] = _channel(rng, k, c, True)
    rep["key"] = c.toordinal() * KEY_DAY + REPEAT_BLOCK * KEY_BLOCK + np.arange(k)
    rep["unresolved"] = False
    rep["wait_min"] = np.nan
    rep["fix_min"] = np.nan
    rep["restore"] = pd.NaT
    rep = _lifecycle(ctx, c, rep.reset_index(drop=True), rng)
    rep["satisfaction"] = np.where(rep["satisfaction"] == "3", "2", rep["satisfaction"])  # no third round
    out = pd.concat([df.assign(repeat_complaint=False), rep.assign(repeat_complaint=True)], ignore_index=True)
    return out


def _by_created(ctx: SimContext, c: date) -> dict[int, pd.DataFrame]:
    """Origin day c's chain steps split by creation day (ordinal), computed once per origin day.

    Why: ``day_orders`` used to filter all 31 origin frames by time for every day it was asked for;
    splitting each origin frame once makes a day's orders a cheap concat of ready pieces.
    """
    def build() -> dict[int, pd.DataFrame]:
        o = origins(ctx, c)
        created = (pd.DatetimeIndex(o["t"]).normalize().to_numpy().astype("datetime64[D]").astype(np.int64)
                   + date(1970, 1, 1).toordinal())
        return {int(k): o[created == k] for k in np.unique(created)}
    return ctx.cached(("by_created", c), build)


def day_orders(ctx: SimContext, d: date) -> pd.DataFrame:
    """Orders created on day d (from chains of the last CHAIN_DAYS origin days), with app numbers."""
    def build() -> pd.DataFrame:
        parts = []
        for k in range(CHAIN_DAYS + 1):
            piece = _by_created(ctx, d - timedelta(days=k)).get(d.toordinal())
            if piece is not None:
                parts.append(piece)
        sg = surges.orders(ctx, d)  # planted topic surges (ground truth in sim_truth.topic_surge)
        if sg is not None:
            rng = day_rng(ctx.seed, d, "surges", 2)
            parts.append(_lifecycle(ctx, d, sg[COLS], rng).assign(repeat_complaint=False))
        df = pd.concat(parts, ignore_index=True).sort_values(["t", "key"], kind="stable").reset_index(drop=True)
        df["app_no"] = np.char.add(f"{d:%Y%m%d}", np.char.zfill(np.arange(1, len(df) + 1).astype(str), 8)).astype(object)
        df["created"] = d
        return df
    return ctx.cached(("day_orders", d), build)


def _app_lut(ctx: SimContext, d: date) -> pd.Series:
    """chain key → app_no for the orders created on d (cached: parents are looked up every day)."""
    def build() -> pd.Series:
        dd = day_orders(ctx, d)
        return pd.Series(dd["app_no"].to_numpy(), index=dd["key"].to_numpy())
    return ctx.cached(("app_lut", d), build)


def app_no_of(ctx: SimContext, keys: np.ndarray, times: pd.DatetimeIndex) -> np.ndarray:
    """Resolve chain keys to app numbers (through the creation day of each key)."""
    out = np.full(len(keys), None, dtype=object)
    days = pd.DatetimeIndex(times).normalize()
    for day in pd.unique(days[~pd.isna(days)]):
        m = np.asarray((days == day) & (keys >= 0))
        if m.any():
            lut = _app_lut(ctx, pd.Timestamp(day).date())
            out[m] = lut.reindex(keys[m]).to_numpy(dtype=object)
    return np.where(pd.isna(out), None, out)


def key_times(ctx: SimContext, keys: np.ndarray) -> pd.DatetimeIndex:
    """Creation time of chain steps by key (the key encodes the origin day, see KEY_DAY)."""
    keys = np.asarray(keys, dtype=np.int64)
    times = np.full(len(keys), np.datetime64("NaT"), dtype="datetime64[ns]")
    ok = keys >= 0
    for origin_ord in np.unique(keys[ok] // KEY_DAY):
        o = ctx.cached(("key_t", int(origin_ord)), lambda oo=int(origin_ord): pd.Series(
            pd.DatetimeIndex(origins(ctx, date.fromordinal(oo))["t"]).to_numpy(),
            index=origins(ctx, date.fromordinal(oo))["key"].to_numpy()))
        m = ok & (keys // KEY_DAY == origin_ord)
        times[m] = o.reindex(keys[m]).to_numpy()
    return pd.DatetimeIndex(times)


def state_at(df: pd.DataFrame, cutoff: datetime) -> pd.DataFrame:
    """Lifecycle columns as of ``cutoff``: later events are not visible yet (NULL)."""
    cut = pd.Timestamp(cutoff)
    cols = {}
    order = [("dispatch", "02"), ("arrive", "03"), ("finish", "04"), ("archive", "05"), ("visit", "06")]
    status = np.full(len(df), "01", dtype=object)
    upd = pd.DatetimeIndex(df["t"]).to_numpy().copy()
    for col, code in order:
        v = pd.DatetimeIndex(df[col])
        seen = (~v.isna()) & (v <= cut)
        cols[col] = pd.DatetimeIndex(np.where(seen, v, pd.NaT))
        status = np.where(seen, code, status)
        upd = np.where(seen & (v.to_numpy() > upd), v.to_numpy(), upd)
    cols["status"] = status
    cols["upd_time"] = pd.DatetimeIndex(upd)
    cols["satisfaction"] = np.where(~cols["visit"].isna(), df["satisfaction"], None)
    return pd.DataFrame(cols, index=df.index)
