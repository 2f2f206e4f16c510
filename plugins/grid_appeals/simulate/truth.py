"""Ground truth into the separate sim_truth database (never read by the pipeline)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from grid_appeals.simulate import surges, workorders
from grid_appeals.simulate.calendar_weather import weather
from grid_appeals.simulate.context import SimContext
from grid_appeals.simulate.outages import meter_faults, outage_history, outages
from grid_appeals.simulate.writer import Ops

FREQ_MIN = 3  # outages in 60 days that make an area a true frequent-outage area


def write_day(ctx: SimContext, d: date, ops: Ops, truth: pd.DataFrame, defects: list, apps_new: pd.DataFrame,
              counts: dict) -> dict[str, int]:
    """Queue day d's ground truth (replacing whatever an earlier run wrote for d)."""
    db = "sim_truth"
    w = ctx.world
    a = w.areas
    for t, col in (("causal_link", "created_date"), ("outage_truth", "outage_date"), ("frequent_outage_area", "as_of"),
                   ("meter_fault_truth", "fault_date"), ("defect_truth", "sim_date"), ("topic_surge", "surge_date"),
                   ("weather_truth", "wx_date"), ("row_counts", "sim_date"), ("sim_day", "sim_date")):
        ops.execute(db, f"delete from {t} where {col} = %s", (d,))
    ops.replace(db, "appeal_truth", "app_no", truth)
    links = truth[truth["parent_app_no"].notna() | truth["event_ref"].notna()]
    ln = pd.DataFrame({
        "child_app_no": links["app_no"],
        "parent_ref": links["parent_app_no"].where(links["parent_app_no"].notna(), links["event_ref"]),
        "parent_kind": np.where(links["parent_app_no"].notna(), "work_order",
                                links["event_ref"].astype(str).str.extract(r"^(OUT|MF|YK|SG|\d)")[0]
                                .map({"OUT": "outage", "MF": "meter_fault", "YK": "expansion_app", "SG": "planted_surge"}).fillna("hall_ticket")),
        "link_kind": links["cause"], "created_date": d})
    ops.copy(db, "causal_link", ln)
    o = outages(ctx, d)
    hist = outage_history(ctx, d)
    ops.copy(db, "outage_truth", pd.DataFrame({
        "outage_id": o["outage_id"], "outage_date": d, "tg_no": a["tg_no"].to_numpy()[o["area_idx"]],
        "start_time": o["start"], "end_time": o["end"], "planned": o["planned"], "notified": o["notified"],
        "storm": o["storm"], "cause": o["cause"], "prior_outages_60d": hist[o["area_idx"]]}))
    cnt = hist.copy()
    np.add.at(cnt, o["area_idx"].to_numpy(), 1)
    fa = np.flatnonzero(cnt >= FREQ_MIN)
    ops.copy(db, "frequent_outage_area", pd.DataFrame({"as_of": d, "tg_no": a["tg_no"].to_numpy()[fa],
                                                           "outages_60d": cnt[fa], "weak_area": a["weak"].to_numpy()[fa]}))
    mf = meter_faults(ctx, d)
    ops.copy(db, "meter_fault_truth", pd.DataFrame({
        "fault_date": d, "mp_no": w.mp_no(mf["cust_idx"].to_numpy()), "cons_no": w.cons_no(mf["cust_idx"].to_numpy()),
        "erc": mf["erc"], "fix_days": mf["fix_days"]}))
    if defects:
        ops.copy(db, "defect_truth", pd.DataFrame(
            [(d, e, str(k), kind, det) for e, k, kind, det in defects],
            columns=["sim_date", "entity", "row_key", "kind", "detail"]))
    # topic surges (hot spots): station × topic count on d vs trailing 14-day mean
    ops.copy(db, "topic_surge", _surges(ctx, d))
    wx = weather(ctx.seed, d)
    ops.copy(db, "weather_truth", pd.DataFrame({"wx_date": d, "city_org_no": w.cities["org_no"], "tmax": wx.tmax,
                                                    "storm": wx.storm}))
    rc = pd.DataFrame([(d, k, v) for k, v in counts.items()], columns=["sim_date", "entity", "n"])
    ops.copy(db, "row_counts", rc)
    ops.execute(db, "insert into sim_day (sim_date, seed, scale) values (%s, %s, %s)", (d, ctx.seed, ctx.scale.name))
    return {"appeal_truth": len(truth), "causal_link": len(ln), "defect_truth": len(defects)}


def _topic_counts(ctx: SimContext, d: date) -> pd.Series:
    """Organic appeals (planted surges excluded) per (station, topic) created on d.

    Cached: each day is part of the baseline of the next 14.
    """
    return ctx.cached(("topic_counts", d), lambda: _topic_counts_build(ctx, d))


def _topic_counts_build(ctx: SimContext, d: date) -> pd.Series:
    from grid_appeals.simulate.text.lexicon import INTENTS
    o = workorders.day_orders(ctx, d)
    o = o[o["cause"] != "planted_surge"]
    topic = o["intent"].map(lambda i: INTENTS[i]["topic"])
    st = ctx.world.areas["station_idx"].to_numpy()[ctx.world.cust_area[o["cust_idx"].to_numpy()]]
    df = pd.DataFrame({"st": st, "topic": topic.to_numpy()}).dropna(subset=["topic"])
    return df.groupby(["st", "topic"]).size()


def _baseline(ctx: SimContext, d: date) -> pd.Series:
    """Mean organic daily count per (station, topic) over the 14 days before d (cached)."""
    def build() -> pd.Series:
        hist = pd.concat([_topic_counts(ctx, d - timedelta(days=k)) for k in range(1, 15)], axis=1).fillna(0)
        return hist.sum(axis=1) / 14
    return ctx.cached(("baseline", d), build)


SURGE_COLS = ["surge_date", "city_org_no", "station_org_no", "topic", "n_appeals", "baseline", "cause", "planted",
              "surge_id", "n_planted", "multiplier", "tg_nos", "surge_day"]


def _surges(ctx: SimContext, d: date) -> pd.DataFrame:
    """Topic surges on d: planted ones (planted=true, one row per surge day) and organic ones that a
    simple rule finds (planted=false: ≥4 appeals and ≥3× the 14-day mean, on station × topic cells
    without a planted surge that day)."""
    st = ctx.world.stations
    city_org = ctx.world.cities["org_no"].to_numpy()
    today = _topic_counts(ctx, d)
    rows = []
    planted_cells = set()
    for sg in surges.active(ctx, d):
        planted_cells.add((sg.station_idx, sg.topic))
        base = _baseline(ctx, sg.start).get((sg.station_idx, sg.topic), 0.0)
        organic = int(today.get((sg.station_idx, sg.topic), 0))
        rows.append((d, city_org[int(st.at[sg.station_idx, "city_idx"])], st.at[sg.station_idx, "org_no"], sg.topic,
                     organic + sg.per_day, round(float(base), 2), surges.SCENARIOS[sg.scenario].cause, True,
                     sg.surge_id, sg.per_day, sg.multiplier,
                     ",".join(ctx.world.areas["tg_no"].to_numpy()[list(sg.area_idx)]), (d - sg.start).days + 1))
    if not today.empty:
        base = _baseline(ctx, d).reindex(today.index).fillna(0)
        hit = today[(today >= 4) & (today >= 3 * np.maximum(base, 0.5))]
        o = workorders.day_orders(ctx, d)
        ost = ctx.world.areas["station_idx"].to_numpy()[ctx.world.cust_area[o["cust_idx"].to_numpy()]]
        for (s, topic), n in hit.items():
            if (s, topic) in planted_cells:
                continue
            causes = o.loc[ost == s, "cause"].value_counts()
            rows.append((d, city_org[int(st.at[s, "city_idx"])], st.at[s, "org_no"], topic, int(n),
                         round(float(base[(s, topic)]), 2), causes.index[0] if len(causes) else None, False,
                         None, None, None, None, None))
    out = pd.DataFrame(rows, columns=SURGE_COLS)
    for c in ("n_appeals", "n_planted", "surge_day"):
        out[c] = out[c].astype("Int64")
    return out
