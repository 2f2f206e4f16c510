"""Latent complaint propensity (潜在投诉倾向) for open non-complaint appeals.

Trained on history the warehouse itself observed (no ground truth), in the same shape as it is
used: on run date R the model scores the appeals of the last ``HORIZON_DAYS`` that have not yet
turned into a complaint, asking "will this chain produce a complaint in the next HORIZON days?".
So training examples are snapshots at earlier as-of dates R' (every ``ASOF_STEP_DAYS`` days,
R' ≤ R − HORIZON so every label is observable at R): the appeals of (R' − HORIZON, R'] not yet
escalated by the end of R', labelled 1 when their chain's first complaint came in the HORIZON days
after R'. As-of features say where the appeal stands at R' (or R) — its age, whether it is still
open and how far past its reply deadline, how many more contacts the customer made since — next
to what was known at acceptance (prior contacts, text urgency and cues, linked outage length, repair delays vs
limits, customer complaint history, topics, the area's outages in the 60 days before the call, an
unnotified planned outage of the area, the customer's own measured meter faults), so training does
not peek at the outcome. Scores are
written per run date to ``ml.complaint_propensity``; the mart model exposes them to BI.

Refit cadence: one model per calendar week (``REFIT_DAYS`` = 7, weeks start on Monday), trained on
the snapshots whose labels were observable by the start of that week (as-of ≤ week start −
HORIZON), scores every run date of the week. So a 90-day backfill fits 13 models instead of 90 and
scores all dates from one feature fetch (:func:`score_range`), the daily DAG (:func:`score_run_date`)
gets exactly the score a backfill of the same date would, and no scored date sees a label from its
own future. ``REFIT_DAYS = 1`` gives the former model per run date.
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
from grid_appeals.warehouse.connection import warehouse_dsn

log = logging.getLogger(__name__)

HORIZON_DAYS = 14
HISTORY_DAYS = 180
ASOF_STEP_DAYS = 3  # spacing of the training snapshots
MAX_ASOF_SNAPSHOTS = 16  # most recent snapshots used (bounds training size and time)
REFIT_DAYS = 7  # one model per calendar week; 1 = a model per run date
EPOCH = date(2000, 1, 3)  # a Monday: refit periods are calendar weeks, whatever range a run covers
TOPICS = (
    "频繁停电",
    "抢修超时",
    "停电未通知",
    "电压低",
    "计量装置",
    "电费争议",
    "服务态度",
    "服务规范",
    "营业服务",
    "业扩超时",
    "重复诉求",
)
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
    a.customer_id,
    a.finished_at,
    a.reply_deadline_at,
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

NUMERIC = [
    "prior_contacts_30d",
    "prior_same_area_30d",
    "prior_complaints_365d",
    "repeat_flag",
    "sentiment_score",
    "escalation_cue_count",
    "linked_outage_count",
    "linked_outage_minutes",
    "arrival_overdue_minutes",
    "restore_overdue_minutes",
    "rural",
    "sensitive",
    "age_days",
    "open_at_asof",
    "overdue_hours_at_asof",
    "contacts_since",
    "position_in_chain",
    "area_outages_60d",
    "unnotified_planned_outage",
    "meter_fault_events_20d",
]


def feature_matrix(frame: pd.DataFrame) -> pd.DataFrame:
    x = frame[NUMERIC].astype(float).copy()
    for col in (
        "linked_outage_minutes",
        "arrival_overdue_minutes",
        "restore_overdue_minutes",
        "overdue_hours_at_asof",
    ):
        x[col] = np.log1p(x[col])
    index = {t: j for j, t in enumerate(TOPICS)}
    flags = np.zeros((len(frame), len(TOPICS)))
    for i, topics in enumerate(frame["hot_topics"].to_numpy()):
        for t in topics if topics is not None else ():
            if t in index:
                flags[i, index[t]] = 1.0
    for j, topic in enumerate(TOPICS):
        x[f"topic_{topic}"] = flags[:, j]
    for bt in BUSINESS_TYPES:
        x[f"bt_{bt}"] = (frame["agent_business_type"] == bt).astype(float)
    return x


def labels(frame: pd.DataFrame) -> np.ndarray:
    """1 when the chain's first complaint came within the horizon after the snapshot's as-of day."""
    after = pd.to_datetime(frame["chain_first_complaint_at"])
    start = pd.to_datetime(frame["asof_end"])
    return (
        ((after >= start) & (after < start + pd.Timedelta(days=HORIZON_DAYS)))
        .fillna(False)
        .astype(int)
        .to_numpy()
    )


def as_of(frame: pd.DataFrame, contacts: pd.DataFrame, day: date) -> pd.DataFrame:
    """Snapshot at the end of ``day``: appeals of (day − HORIZON, day] whose chain has not produced a
    complaint yet, with the as-of features (age, open, overdue hours, later contacts of the customer).
    Everything is measured against the end of ``day``, so a state reached later is never seen."""
    end = pd.Timestamp(day + timedelta(days=1))
    acc = pd.to_datetime(frame["accepted_at"])
    seen = pd.to_datetime(frame["chain_first_complaint_at"])
    keep = (acc < end) & (acc >= end - pd.Timedelta(days=HORIZON_DAYS)) & ~(seen.notna() & (seen < end))
    snap = frame[keep.to_numpy()].copy()
    acc = pd.to_datetime(snap["accepted_at"])
    fin = pd.to_datetime(snap["finished_at"])
    deadline = pd.to_datetime(snap["reply_deadline_at"])
    snap["asof_end"] = end
    snap["age_days"] = (end - acc).dt.total_seconds() / 86400
    is_open = fin.isna() | (fin >= end)
    snap["open_at_asof"] = is_open.astype(int)
    snap["overdue_hours_at_asof"] = np.where(
        is_open & deadline.notna() & (deadline < end), (end - deadline).dt.total_seconds() / 3600, 0.0
    )
    snap["contacts_since"] = 0.0
    if len(snap) and len(contacts):
        c = contacts[pd.to_datetime(contacts["accepted_at"]) < end]
        m = snap[["work_order_id", "customer_id", "accepted_at"]].merge(
            c, on="customer_id", suffixes=("", "_c")
        )
        m = m[pd.to_datetime(m["accepted_at_c"]) > pd.to_datetime(m["accepted_at"])]
        later = m.groupby("work_order_id").size()
        snap["contacts_since"] = snap["work_order_id"].map(later).fillna(0).to_numpy(dtype=float)
    return snap


def _fetch(conn: psycopg.Connection, start: date, end: date) -> pd.DataFrame:
    cur = conn.execute(FEATURES_SQL, {"start": start, "end": end})
    cols = [d.name for d in cur.description]
    return pd.DataFrame(cur.fetchall(), columns=cols)


def _contacts(conn: psycopg.Connection, start: date, end: date) -> pd.DataFrame:
    """Every contact (complaints included) of the period: the later-contacts feature counts them."""
    cur = conn.execute(
        "select customer_id, accepted_at from marts.fct_appeals where customer_id is not null "
        "and accepted_date > %(start)s and accepted_date <= %(end)s",
        {"start": start, "end": end},
    )
    return pd.DataFrame(cur.fetchall(), columns=["customer_id", "accepted_at"])


def one_thread():
    """Fit and predict on one OpenMP thread. Why: the boosting's OpenMP workers spin-wait for each
    other; next to other busy processes on a 2-core box (the scheduler's tasks, a backfill's
    loaders) two threads made one weekly fit 83 s instead of ~15 s, and the scores are identical."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="openmp")


def fit(train: pd.DataFrame):
    from sklearn.ensemble import HistGradientBoostingClassifier

    x, y = feature_matrix(train), labels(train)
    model = HistGradientBoostingClassifier(
        max_iter=200, learning_rate=0.06, max_leaf_nodes=15, l2_regularization=1.0, random_state=0
    )
    with one_thread():
        model.fit(x, y)
    return model, x.columns.tolist(), int(y.sum())


def model_anchor(run_date: date, refit_days: int | None = None) -> date:
    """First day of the refit period holding ``run_date`` (Monday for weekly refits): the model that
    scores ``run_date`` knows only labels observable by this day."""
    refit = refit_days or REFIT_DAYS
    return run_date - timedelta(days=(run_date - EPOCH).days % refit)


def training_asofs(anchor: date, history_start: date) -> list[date]:
    """As-of days of the training snapshots of the model anchored at ``anchor``: every
    ASOF_STEP_DAYS back from ``anchor − HORIZON`` (the latest as-of whose labels are all observable
    by the anchor), at most MAX_ASOF_SNAPSHOTS, each snapshot after ``history_start``."""
    last = anchor - timedelta(days=HORIZON_DAYS)
    asofs = [last - timedelta(days=k * ASOF_STEP_DAYS) for k in range(MAX_ASOF_SNAPSHOTS)]
    return [d for d in asofs if d - timedelta(days=HORIZON_DAYS) >= history_start]


def _explain(values: np.ndarray, columns: list[str]) -> list[str]:
    """The three features furthest (in standard deviations) from the day's average, per appeal."""
    spread = values.std(axis=0)
    spread[spread == 0] = 1.0
    distance = np.abs(values - values.mean(axis=0)) / spread
    top3 = np.argsort(-distance, axis=1, kind="stable")[:, :3]
    names = np.asarray(columns)
    return [
        json.dumps({str(names[j]): round(float(values[i, j]), 3) for j in top3[i]}, ensure_ascii=False)
        for i in range(len(values))
    ]


def _score_day(
    model,
    columns: list[str],
    current: pd.DataFrame,
    run_date: date,
    version: str,
    trained: int,
    positives: int,
) -> list[tuple]:
    """Rows of ml.complaint_propensity for one run date's snapshot."""
    x = feature_matrix(current)[columns]
    with one_thread():
        scores = model.predict_proba(x)[:, 1]
    # rank on the score as stored (6 decimals), ties by work order: the daily run and a backfill of
    # the same date then agree even when float noise or the snapshot's row order differ
    stored = np.round(scores, 6)
    ids = current["work_order_id"].to_numpy()
    order = np.lexsort((ids.astype(str), -stored))
    ranks = np.empty(len(scores), dtype=int)
    ranks[order] = np.arange(1, len(scores) + 1)
    top = _explain(x.to_numpy(dtype=float), columns)
    return [
        (run_date, ids[i], float(stored[i]), int(ranks[i]), top[i], version, trained, positives)
        for i in range(len(ids))
    ]


def score_range(
    first: date, last: date, *, cfg: Settings | None = None, refit_days: int | None = None
) -> list[dict[str, Any]]:
    """Score every run date in [first, last]: ONE feature fetch for the range, one model per refit
    period (see :func:`model_anchor`), each trained on as-of snapshots up to its anchor − HORIZON
    (HISTORY days back) and scoring the snapshots of its run dates (appeals of the last HORIZON
    days not yet complained about); replaces the range's scores in one transaction."""
    cfg = cfg or settings()
    run_dates = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    anchors: dict[date, list[date]] = {}
    for d in run_dates:
        anchors.setdefault(model_anchor(d, refit_days), []).append(d)
    lookback = timedelta(days=HISTORY_DAYS + 2 * HORIZON_DAYS)
    start = min(anchors) - lookback
    out: list[dict[str, Any]] = []
    rows: list[tuple] = []
    with psycopg.connect(warehouse_dsn(cfg)) as conn:
        conn.execute(DDL)
        frame = _fetch(conn, start, last)
        contacts = _contacts(conn, start, last)
        snapshots: dict[date, pd.DataFrame] = {}  # built once, shared by periods whose training overlaps
        for anchor, dates in anchors.items():
            asofs = training_asofs(anchor, anchor - lookback)
            if not frame.empty:
                for d in asofs:
                    if d not in snapshots:
                        snapshots[d] = as_of(frame, contacts, d)
            snaps = [snapshots[d] for d in asofs if d in snapshots]
            train = pd.concat(snaps, ignore_index=True) if snaps else pd.DataFrame()
            y = labels(train) if not train.empty else np.array([])
            if len(train) < 200 or y.sum() < 5:
                log.warning(
                    "propensity %s…%s (model of %s): not enough history (%d examples, %d positives)",
                    dates[0],
                    dates[-1],
                    anchor,
                    len(train),
                    int(y.sum()) if len(y) else 0,
                )
                out += [
                    {"run_date": d.isoformat(), "scored": 0, "trained_examples": len(train)} for d in dates
                ]
                continue
            model, columns, positives = fit(train)
            version = (
                "propensity-" + hashlib.sha256(f"{anchor}|{len(train)}|{positives}".encode()).hexdigest()[:12]
            )
            for d in dates:
                current = as_of(frame, contacts, d)
                day_rows = (
                    _score_day(model, columns, current, d, version, len(train), positives)
                    if not current.empty
                    else []
                )
                rows += day_rows
                out.append(
                    {
                        "run_date": d.isoformat(),
                        "scored": len(day_rows),
                        "trained_examples": len(train),
                        "trained_positives": positives,
                        "model_version": version,
                        "model_anchor": anchor.isoformat(),
                    }
                )
        with conn.transaction():
            conn.execute(
                "delete from ml.complaint_propensity where run_date between %s and %s", (first, last)
            )
            with conn.cursor().copy("copy ml.complaint_propensity from stdin") as copy:
                for row in rows:
                    copy.write_row(row)
    log.info(
        "propensity %s…%s: %d run dates, %d models, %d rows",
        first,
        last,
        len(run_dates),
        len({o.get("model_version") for o in out if o.get("model_version")}),
        len(rows),
    )
    return out


def score_run_date(run_date: date, *, cfg: Settings | None = None) -> dict[str, Any]:
    """The daily DAG's step: score one run date with its refit period's model (the same scores a
    backfill over that date writes)."""
    return score_range(run_date, run_date, cfg=cfg)[0]
