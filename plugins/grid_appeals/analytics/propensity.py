"""Latent complaint propensity (潜在投诉倾向) for open non-complaint appeals.

Trained on history the warehouse itself observed (no ground truth): every non-complaint appeal
accepted at least ``HORIZON_DAYS`` before the run date is an example, labelled 1 when a complaint
followed in the same repeat chain within ``HORIZON_DAYS``. Features are what was known within a
day of acceptance (prior contacts, text urgency and cues, linked outage length, repair delays vs
limits, customer complaint history, topics, the area's outages in the 60 days before the call, an
unnotified planned outage of the area, the customer's own measured meter faults), so training does
not peek at the outcome. Scores are
written per run date to ``ml.complaint_propensity``; the mart model exposes them to BI.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import psycopg

from grid_appeals.config import Settings, settings

log = logging.getLogger(__name__)

HORIZON_DAYS = 14
HISTORY_DAYS = 180
TOPICS = ("频繁停电", "抢修超时", "停电未通知", "电压低", "计量装置", "电费争议", "服务态度", "服务规范",
          "营业服务", "业扩超时", "重复诉求")
BUSINESS_TYPES = ("故障报修", "业务咨询", "服务申请", "举报", "意见", "建议", "表扬")

DDL = """
create schema if not exists ml;
create table if not exists ml.complaint_propensity (
    run_date date not null,
    work_order_id text not null,
    score numeric not null,
    score_rank integer not null,
    top_features jsonb,
    model_version text not null,
    trained_examples integer,
    trained_positives integer,
    primary key (run_date, work_order_id)
);
"""

FEATURES_SQL = """
with base as (
    select a.*, coalesce(m.position_in_chain, 1) as chain_position, m.chain_first_complaint_at as chain_complaint_at
    from marts.fct_appeals a
    left join intermediate.int_appeal_chain_members m on m.work_order_id = a.work_order_id
    where not a.is_complaint
      and a.accepted_date > %(start)s and a.accepted_date <= %(end)s
),
area_outages as (   -- outages of the caller's area in the 60 days before the call (频繁停电 risk)
    select b.work_order_id, count(*) as area_outages_60d
    from base b
    join intermediate.int_outages_paired o
      on o.transformer_area_id = b.transformer_area_id
     and o.started_at < b.accepted_at and o.started_at >= b.accepted_at - interval '60 days'
    group by 1
),
unnotified as (     -- a planned outage of the area without a notice, in the day before the call
    select b.work_order_id, 1 as unnotified_planned_outage
    from base b
    join staging.stg_95598__outage_notices n
      on n.transformer_area_id = b.transformer_area_id
     and n.outage_started_at between b.accepted_at - interval '24 hours' and b.accepted_at
     and n.outage_type = 'planned' and not n.was_notified
    group by 1
),
meter_events as (   -- the customer's own meter faults (ERC13/27/29/30) measured before the call
    select mp.customer_id, e.event_at
    from staging.stg_metering__terminal_events e
    join staging.stg_marketing__metering_points mp on mp.metering_point_id = e.metering_point_id
    where e.erc_code in ('ERC13', 'ERC27', 'ERC29', 'ERC30')
      and e.event_at >= %(start)s::date - 20 and e.event_at < %(end)s::date + 1
),
meter as (
    select b.work_order_id, count(*) as meter_fault_events_20d
    from base b
    join meter_events f on f.customer_id = b.customer_id
     and f.event_at between b.accepted_at - interval '20 days' and b.accepted_at
    group by 1
)
select
    a.work_order_id,
    a.accepted_at,
    a.accepted_date,
    a.agent_business_type,
    a.hot_topics,
    a.prior_contacts_30d,
    a.prior_same_area_30d,
    a.prior_complaints_365d,
    a.is_repeat_call_flagged::int as repeat_flag,
    coalesce(a.sentiment_score, 0) as sentiment_score,
    a.escalation_cue_count,
    a.linked_outage_count,
    coalesce(a.linked_outage_max_minutes, 0) as linked_outage_minutes,
    coalesce(greatest(a.arrival_minutes - a.arrival_limit_minutes, 0), 0) as arrival_overdue_minutes,
    coalesce(greatest(a.restore_minutes - a.restore_limit_minutes, 0), 0) as restore_overdue_minutes,
    (a.finished_at is null or a.finished_at > a.accepted_at + interval '1 day')::int as open_after_1d,
    (a.area_type = 'rural')::int as rural,
    a.is_sensitive_customer::int as sensitive,
    a.chain_position as position_in_chain,
    coalesce(ao.area_outages_60d, 0) as area_outages_60d,
    coalesce(u.unnotified_planned_outage, 0) as unnotified_planned_outage,
    coalesce(mf.meter_fault_events_20d, 0) as meter_fault_events_20d,
    a.chain_complaint_at as chain_first_complaint_at
from base a
left join area_outages ao on ao.work_order_id = a.work_order_id
left join unnotified u on u.work_order_id = a.work_order_id
left join meter mf on mf.work_order_id = a.work_order_id
"""

NUMERIC = ["prior_contacts_30d", "prior_same_area_30d", "prior_complaints_365d", "repeat_flag",
           "sentiment_score", "escalation_cue_count", "linked_outage_count", "linked_outage_minutes",
           "arrival_overdue_minutes", "restore_overdue_minutes", "open_after_1d", "rural", "sensitive",
           "position_in_chain", "area_outages_60d", "unnotified_planned_outage", "meter_fault_events_20d"]


def feature_matrix(frame: pd.DataFrame) -> pd.DataFrame:
    x = frame[NUMERIC].astype(float).copy()
    for col in ("linked_outage_minutes", "arrival_overdue_minutes", "restore_overdue_minutes"):
        x[col] = np.log1p(x[col])
    topics = frame["hot_topics"].apply(lambda t: set(t or ()))
    for topic in TOPICS:
        x[f"topic_{topic}"] = topics.apply(lambda s, t=topic: float(t in s))
    for bt in BUSINESS_TYPES:
        x[f"bt_{bt}"] = (frame["agent_business_type"] == bt).astype(float)
    return x


def labels(frame: pd.DataFrame) -> np.ndarray:
    """1 when a complaint followed in the same chain within the horizon."""
    after = frame["chain_first_complaint_at"]
    delta = (pd.to_datetime(after) - pd.to_datetime(frame["accepted_at"])).dt.total_seconds()
    return ((delta > 0) & (delta <= HORIZON_DAYS * 86400)).fillna(False).astype(int).to_numpy()


def _fetch(conn: psycopg.Connection, start: date, end: date) -> pd.DataFrame:
    cur = conn.execute(FEATURES_SQL, {"start": start, "end": end})
    cols = [d.name for d in cur.description]
    return pd.DataFrame(cur.fetchall(), columns=cols)


def fit(train: pd.DataFrame):
    from sklearn.ensemble import HistGradientBoostingClassifier

    x, y = feature_matrix(train), labels(train)
    model = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.06, max_leaf_nodes=15,
                                           l2_regularization=1.0, random_state=0)
    model.fit(x, y)
    return model, x.columns.tolist(), int(y.sum())


def score_run_date(run_date: date, *, cfg: Settings | None = None) -> dict[str, Any]:
    """Train on [run_date − HISTORY − HORIZON, run_date − HORIZON], score appeals of the last
    HORIZON days that have not (yet) become complaints; replace run_date's scores."""
    cfg = cfg or settings()
    with psycopg.connect(cfg.url("warehouse")) as conn:
        conn.execute(DDL)
        train = _fetch(conn, run_date - timedelta(days=HISTORY_DAYS + HORIZON_DAYS),
                       run_date - timedelta(days=HORIZON_DAYS))
        current = _fetch(conn, run_date - timedelta(days=HORIZON_DAYS), run_date)
        # an appeal whose chain already produced a complaint by the run date is no longer "latent"
        if not current.empty:
            seen = pd.to_datetime(current["chain_first_complaint_at"])
            cutoff = pd.Timestamp(run_date + timedelta(days=1))
            current = current[~((seen.notna()) & (seen < cutoff))]
        y = labels(train) if not train.empty else np.array([])
        if len(train) < 200 or y.sum() < 5 or current.empty:
            log.warning("propensity %s: not enough history (%d examples, %d positives) or nothing to score",
                        run_date, len(train), int(y.sum()) if len(y) else 0)
            return {"run_date": run_date.isoformat(), "scored": 0, "trained_examples": len(train)}
        model, columns, positives = fit(train)
        x = feature_matrix(current)[columns]
        scores = model.predict_proba(x)[:, 1]
        version = "propensity-" + hashlib.sha256(
            f"{run_date}|{len(train)}|{positives}".encode()).hexdigest()[:12]
        order = np.argsort(-scores, kind="stable")
        ranks = np.empty(len(scores), dtype=int)
        ranks[order] = np.arange(1, len(scores) + 1)
        # explanation: the three features furthest (in standard deviations) from the average
        values = x.to_numpy(dtype=float)
        spread = values.std(axis=0)
        spread[spread == 0] = 1.0
        distance = np.abs(values - values.mean(axis=0)) / spread
        top3 = np.argsort(-distance, axis=1, kind="stable")[:, :3]
        names = np.asarray(columns)
        ids = current["work_order_id"].to_numpy()
        rows = []
        for i in range(len(ids)):
            top = {str(names[j]): round(float(values[i, j]), 3) for j in top3[i]}
            rows.append((run_date, ids[i], float(round(scores[i], 6)), int(ranks[i]),
                         json.dumps(top, ensure_ascii=False), version, len(train), positives))
        with conn.transaction():
            conn.execute("delete from ml.complaint_propensity where run_date = %s", (run_date,))
            with conn.cursor().copy("copy ml.complaint_propensity from stdin") as copy:
                for row in rows:
                    copy.write_row(row)
    out = {"run_date": run_date.isoformat(), "scored": len(rows), "trained_examples": len(train),
           "trained_positives": positives, "model_version": version}
    log.info("propensity %s", out)
    return out
