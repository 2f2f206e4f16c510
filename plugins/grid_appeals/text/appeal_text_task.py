"""The per-date text-mining step: raw work-order text → ``nlp.appeal_text``.

Runs between the raw load and dbt. It reads the work-order versions the 95598 load wrote for the
run's date (``_data_date``), masks and structures their text, classifies it with the current model
and upserts one row per (order, version). Re-running a date rewrites exactly those versions, so
the step is idempotent; versions superseded later stay, which is what "one row per work order
version" asks for. Only masked text ever leaves the raw layer.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import date
from pathlib import Path
from typing import Any

import psycopg

from grid_appeals.config import Settings, settings
from grid_appeals.transform.codes import code_map
from grid_appeals.warehouse.connection import warehouse_dsn

log = logging.getLogger(__name__)

REVIEW_THRESHOLD = 0.85  # model confidence above which a disagreement with the agent is flagged

DDL = """
create schema if not exists nlp;
create table if not exists nlp.appeal_text (
    app_no text not null,
    version_ts timestamp not null,
    data_date date not null,
    handle_time timestamp,
    tag text,
    accept_text text,
    opinion_text text,
    keywords_tfidf text[],
    keywords_textrank text[],
    entities jsonb,
    topics text[],
    sentiment_score numeric,
    sentiment_level text,
    sentiment_cues jsonb,
    pii_masked jsonb,
    agent_business_type text,
    agent_complaint_class text,
    model_business_type text,
    model_business_type_conf numeric,
    model_complaint_class text,
    model_complaint_class_conf numeric,
    model_second_level text,
    model_second_level_conf numeric,
    model_version text,
    review_flag boolean not null default false,
    review_reasons text[],
    primary key (app_no, version_ts)
);
create index if not exists appeal_text_data_date on nlp.appeal_text (data_date);
"""

COLUMNS = ("app_no", "version_ts", "data_date", "handle_time", "tag", "accept_text", "opinion_text",
           "keywords_tfidf", "keywords_textrank", "entities", "topics", "sentiment_score",
           "sentiment_level", "sentiment_cues", "pii_masked", "agent_business_type",
           "agent_complaint_class", "model_business_type", "model_business_type_conf",
           "model_complaint_class", "model_complaint_class_conf", "model_second_level",
           "model_second_level_conf", "model_version", "review_flag", "review_reasons")

SELECT_VERSIONS = """
select app_no, upd_time, handle_time, accept_content, handle_opinion, busi_type_code, cmpl_class_code
from raw_95598.arc_s_95598_wkst
where _data_date = %s
order by app_no
"""


def _review(agent_bt: str | None, agent_cc: str | None, pred: dict[str, Any]) -> list[str]:
    reasons = []
    for target, agent in (("business_type", agent_bt), ("complaint_class", agent_cc)):
        guess = pred.get(target)
        if agent and guess and guess["label"] != agent and guess["confidence"] >= REVIEW_THRESHOLD:
            reasons.append(f"{target}: agent {agent} vs model {guess['label']} ({guess['confidence']:.2f})")
    return reasons


def _row(raw: tuple, result: dict[str, Any], run_date: date) -> tuple:
    app_no, upd_time, handle_time, _, _, bt_code, cc_code = raw
    agent_bt = code_map("BUSI_TYPE_CODE").get(bt_code or "")
    agent_cc = code_map("CMPL_CLASS_CODE").get(cc_code or "") if agent_bt == "投诉" else None
    pred = result.get("predictions") or {}
    reasons = _review(agent_bt, agent_cc, pred)

    def p(target: str, key: str):
        return (pred.get(target) or {}).get(key)

    return (app_no, upd_time, run_date, handle_time, result["tag"], result["accept_text"],
            result["opinion_text"], result["keywords"]["tfidf"], result["keywords"]["textrank"],
            json.dumps(result["entities"], ensure_ascii=False), result["topics"],
            result["sentiment_score"], result["sentiment_level"],
            json.dumps(result["sentiment_cues"], ensure_ascii=False),
            json.dumps(result["pii_masked"], ensure_ascii=False), agent_bt, agent_cc,
            p("business_type", "label"), p("business_type", "confidence"),
            p("complaint_class", "label"), p("complaint_class", "confidence"),
            p("second_level", "label"), p("second_level", "confidence"),
            result.get("model_version"), bool(reasons), reasons)


def run_appeal_text(run_date: date, *, cfg: Settings | None = None, processes: int = 2,
                    model_path: Path | None = None, idf_path: Path | None = None) -> dict[str, Any]:
    """Text-mine the work-order versions loaded for ``run_date``; returns counts and timings."""
    from grid_appeals.text import classifier
    from grid_appeals.text.artifacts import current_idf_path, current_model_path
    from grid_appeals.text.keywords import IdfModel
    from grid_appeals.text.pipeline import process_parallel

    cfg = cfg or settings()
    t0 = time.perf_counter()
    model_path = model_path or current_model_path(cfg)
    idf_path = idf_path or current_idf_path(cfg)
    model = classifier.load(model_path) if model_path and Path(model_path).exists() else None
    idf = IdfModel.load(idf_path) if idf_path and Path(idf_path).exists() else None
    with psycopg.connect(warehouse_dsn(cfg)) as conn:
        conn.execute(DDL)
        raws = conn.execute(SELECT_VERSIONS, (run_date,)).fetchall()
        records = [{"app_no": r[0], "accept_content": r[3], "handle_opinion": r[4]} for r in raws]
        t1 = time.perf_counter()
        results = process_parallel(records, processes=processes, idf=idf, model=model) if records else []
        t2 = time.perf_counter()
        rows = [_row(raw, res, run_date) for raw, res in zip(raws, results, strict=True)]
        with conn.transaction():
            conn.execute("select pg_advisory_xact_lock(hashtext('nlp.appeal_text'), %s)",
                         (run_date.toordinal(),))
            conn.execute("create temp table _appeal_text (like nlp.appeal_text) on commit drop")
            with conn.cursor().copy(f"copy _appeal_text ({', '.join(COLUMNS)}) from stdin") as copy:
                for row in rows:
                    copy.write_row(row)
            conn.execute("delete from nlp.appeal_text t using _appeal_text n "
                         "where t.app_no = n.app_no and t.version_ts = n.version_ts")
            conn.execute(f"insert into nlp.appeal_text ({', '.join(COLUMNS)}) "
                         f"select {', '.join(COLUMNS)} from _appeal_text")
    t3 = time.perf_counter()
    out = {"run_date": run_date.isoformat(), "versions": len(rows),
           "flagged_for_review": sum(1 for r in rows if r[-2]),
           "model_version": model.version if model else None,
           "seconds": {"read": round(t1 - t0, 2), "text": round(t2 - t1, 2), "write": round(t3 - t2, 2)},
           "appeals_per_second": round(len(rows) / (t2 - t1), 1) if rows and t2 > t1 else None}
    log.info("nlp.appeal_text %s: %s", run_date, out)
    return out
