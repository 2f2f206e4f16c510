"""Ground truth into the separate sim_truth database (never read by the pipeline)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from grid_appeals.simulate import workorders
from grid_appeals.simulate.calendar_weather import weather
from grid_appeals.simulate.context import SimContext
from grid_appeals.simulate.outages import meter_faults, outage_history, outages
from grid_appeals.simulate.writer import copy_frame, replace_by_key

FREQ_MIN = 3  # outages in 60 days that make an area a true frequent-outage area


def write_day(ctx: SimContext, d: date, conn, truth: pd.DataFrame, defects: list, apps_new: pd.DataFrame,
              counts: dict) -> dict[str, int]:
    w = ctx.world
    a = w.areas
    for t, col in (("causal_link", "created_date"), ("outage_truth", "outage_date"), ("frequent_outage_area", "as_of"),
                   ("meter_fault_truth", "fault_date"), ("defect_truth", "sim_date"), ("topic_surge", "surge_date"),
                   ("weather_truth", "wx_date"), ("row_counts", "sim_date"), ("sim_day", "sim_date")):
        conn.execute(f"delete from {t} where {col} = %s", (d,))
    replace_by_key(conn, "appeal_truth", "app_no", truth)
    links = truth[truth["parent_app_no"].notna() | truth["event_ref"].notna()]
    ln = pd.DataFrame({
        "child_app_no": links["app_no"],
        "parent_ref": links["parent_app_no"].where(links["parent_app_no"].notna(), links["event_ref"]),
        "parent_kind": np.where(links["parent_app_no"].notna(), "work_order",
                                links["event_ref"].astype(str).str.extract(r"^(OUT|MF|YK|\d)")[0]
                                .map({"OUT": "outage", "MF": "meter_fault", "YK": "expansion_app"}).fillna("hall_ticket")),
        "link_kind": links["cause"], "created_date": d})
    copy_frame(conn, "causal_link", ln)
    o = outages(ctx, d)
    hist = outage_history(ctx, d)
    copy_frame(conn, "outage_truth", pd.DataFrame({
        "outage_id": o["outage_id"], "outage_date": d, "tg_no": a["tg_no"].to_numpy()[o["area_idx"]],
        "start_time": o["start"], "end_time": o["end"], "planned": o["planned"], "notified": o["notified"],
        "storm": o["storm"], "cause": o["cause"], "prior_outages_60d": hist[o["area_idx"]]}))
    cnt = hist.copy()
    np.add.at(cnt, o["area_idx"].to_numpy(), 1)
    fa = np.flatnonzero(cnt >= FREQ_MIN)
    copy_frame(conn, "frequent_outage_area", pd.DataFrame({"as_of": d, "tg_no": a["tg_no"].to_numpy()[fa],
                                                           "outages_60d": cnt[fa], "weak_area": a["weak"].to_numpy()[fa]}))
    mf = meter_faults(ctx, d)
    copy_frame(conn, "meter_fault_truth", pd.DataFrame({
        "fault_date": d, "mp_no": w.mp_no(mf["cust_idx"].to_numpy()), "cons_no": w.cons_no(mf["cust_idx"].to_numpy()),
        "erc": mf["erc"], "fix_days": mf["fix_days"]}))
    if defects:
        copy_frame(conn, "defect_truth", pd.DataFrame(
            [(d, e, str(k), kind, det) for e, k, kind, det in defects],
            columns=["sim_date", "entity", "row_key", "kind", "detail"]))
    # topic surges (hot spots): station × topic count on d vs trailing 14-day mean
    surges = _surges(ctx, d)
    copy_frame(conn, "topic_surge", surges)
    wx = weather(ctx.seed, d)
    copy_frame(conn, "weather_truth", pd.DataFrame({"wx_date": d, "city_org_no": w.cities["org_no"], "tmax": wx.tmax,
                                                    "storm": wx.storm}))
    rc = pd.DataFrame([(d, k, v) for k, v in counts.items()], columns=["sim_date", "entity", "n"])
    copy_frame(conn, "row_counts", rc)
    conn.execute("insert into sim_day (sim_date, seed, scale) values (%s, %s, %s)", (d, ctx.seed, ctx.scale.name))
    return {"appeal_truth": len(truth), "causal_link": len(ln), "defect_truth": len(defects)}


def _topic_counts(ctx: SimContext, d: date) -> pd.Series:
    from grid_appeals.simulate.text.lexicon import INTENTS
    o = workorders.day_orders(ctx, d)
    topic = o["intent"].map(lambda i: INTENTS[i]["topic"])
    st = ctx.world.areas["station_idx"].to_numpy()[ctx.world.cust_area[o["cust_idx"].to_numpy()]]
    df = pd.DataFrame({"st": st, "topic": topic, "cause": o["cause"]}).dropna(subset=["topic"])
    return df.groupby(["st", "topic"]).size()


def _surges(ctx: SimContext, d: date) -> pd.DataFrame:
    cols = ["surge_date", "city_org_no", "station_org_no", "topic", "n_appeals", "baseline", "cause"]
    today = _topic_counts(ctx, d)
    if today.empty:
        return pd.DataFrame(columns=cols)
    hist = pd.concat([_topic_counts(ctx, d - timedelta(days=k)) for k in range(1, 15)], axis=1).fillna(0)
    base = (hist.sum(axis=1) / 14).reindex(today.index).fillna(0)
    hit = today[(today >= 4) & (today >= 3 * np.maximum(base, 0.5))]
    st = ctx.world.stations
    rows = []
    o = workorders.day_orders(ctx, d)
    ost = ctx.world.areas["station_idx"].to_numpy()[ctx.world.cust_area[o["cust_idx"].to_numpy()]]
    for (s, topic), n in hit.items():
        causes = o.loc[ost == s, "cause"].value_counts()
        rows.append((d, ctx.world.cities["org_no"].iat[int(st.at[s, "city_idx"])], st.at[s, "org_no"], topic, int(n),
                     round(float(base[(s, topic)]), 2), causes.index[0] if len(causes) else None))
    return pd.DataFrame(rows, columns=cols)
