"""Mart correctness evaluation end to end on a small real window (tiny scale, 10 days).

Why: the evaluation joins warehouse marts to the simulator's truth across two databases by keys
(app_no, station org_no, tg_no); this checks those joins really line up and every metric is
computed over real truth items — not that the headline goals hold (10 tiny days are too few for
that; the issue report runs on months of ``small`` data). Planted surges are made frequent
(``surge_rate=0.5``) so the hot-spot recall has items to rest on; the propensity horizon is cut to
3 days and its refit period to 2 days so a 10-day window has training history, judged run dates
and more than one model.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

import psycopg
import pytest

from grid_appeals.config import Settings
from grid_appeals.evaluate import marts_eval
from grid_appeals.pipeline.backfill import backfill
from grid_appeals.pipeline.mart_tasks import build_marts, build_propensity_mart, mine_text
from grid_appeals.simulate.defects import DefectRates
from grid_appeals.simulate.runner import simulate
from grid_appeals.text.training import train_models
from grid_appeals.warehouse.bootstrap import bootstrap

FIRST, LAST = date(2024, 7, 1), date(2024, 7, 10)
PREFIX = os.environ["GRID_DB_PREFIX"] + "_marteval"  # follows GRID_TEST_DB_PREFIX
HORIZON = 3
REFIT = 2
SCORED = (LAST - timedelta(days=HORIZON + 1), LAST - timedelta(days=HORIZON))  # run dates scored


@contextmanager
def short_propensity_horizon() -> Iterator[None]:
    """The propensity constants cut to the 10-day window (restored afterwards)."""
    from grid_appeals.analytics import propensity

    mp = pytest.MonkeyPatch()
    mp.setattr(propensity, "HORIZON_DAYS", HORIZON)
    mp.setattr(propensity, "REFIT_DAYS", REFIT)
    try:
        yield
    finally:
        mp.undo()


@pytest.fixture(scope="module")
def window(warehouse: Settings) -> Settings:
    from grid_appeals.analytics import propensity

    cfg = dataclasses.replace(warehouse, db_prefix=PREFIX)
    bootstrap(cfg)
    rates = dataclasses.replace(
        DefectRates(), broken_encoding_day=0.0, truncated_gzip_day=0.0, schema_drift_day=0.0
    )
    simulate(FIRST, LAST, scale="tiny", seed=11, cfg=cfg, defects=rates, surge_rate=0.5)
    # hall tickets feed no mart model: skip them to keep the test short
    backfill(FIRST, LAST, sources=("95598", "marketing", "metering"), cfg=cfg, progress=False, mart=False)
    train_models(FIRST + timedelta(days=5), cfg=cfg)
    mine_text(FIRST, LAST, cfg=cfg)
    build_marts(FIRST, LAST, cfg=cfg)
    with short_propensity_horizon():
        out = propensity.score_range(*SCORED, cfg=cfg)  # the backfill path: both dates in one pass
    # one model per refit period, each knowing only labels observable by its anchor day
    assert {o["run_date"] for o in out} == {d.isoformat() for d in SCORED}
    assert all(o["model_anchor"] <= o["run_date"] for o in out if o["scored"])
    build_propensity_mart(FIRST, LAST, cfg=cfg)
    return cfg


def propensity_rows(cfg: Settings, run_date: date) -> list[tuple]:
    with psycopg.connect(cfg.url()) as conn:
        return conn.execute(
            "select work_order_id, score, score_rank, model_version, trained_examples "
            "from ml.complaint_propensity where run_date = %s order by work_order_id",
            (run_date,),
        ).fetchall()


def test_daily_propensity_equals_backfill(window: Settings) -> None:
    # the daily DAG scores one date with its refit period's model: the same scores the range
    # (backfill) pass wrote for that date, and a different model for a different period
    from grid_appeals.analytics import propensity

    day = SCORED[1]
    from_range = propensity_rows(window, day)
    assert from_range
    with short_propensity_horizon():
        out = propensity.score_run_date(day, cfg=window)
    assert out["scored"] == len(from_range)
    assert propensity_rows(window, day) == from_range
    other = {r[3] for r in propensity_rows(window, SCORED[0])}
    if propensity.model_anchor(SCORED[0], REFIT) != propensity.model_anchor(day, REFIT) and other:
        assert other != {from_range[0][3]}


def test_hotspots_scored_against_planted_surges(window: Settings) -> None:
    h = marts_eval.hotspot_eval(FIRST, LAST, cfg=window, warmup_days=3)
    assert h["planted_surges"] >= 1
    assert 0.0 <= h["recall"] <= 1.0
    assert h["flags"] == h["flags_planted"] + h["flags_organic"] + h["flags_false"]
    if h["flags"]:
        assert 0.0 <= h["precision_strict"] <= h["precision_lenient"] <= 1.0


def test_frequent_outage_pairs_line_up(window: Settings) -> None:
    # the 10-day window is shorter than the 60-day definition: judged from day 1 the mart can only
    # under-count, so every flagged area-day must be a true one when the tg_no keys line up
    f = marts_eval.frequent_outage_eval(FIRST, LAST, cfg=window, lookback_days=0)
    assert f["truth_area_days"] >= 1
    assert f["recall"] is not None and 0.0 <= f["recall"] <= 1.0
    if f["flagged_area_days"]:
        assert f["precision"] >= 0.9


def test_chains_recover_complaint_parents(window: Settings) -> None:
    c = marts_eval.chain_eval(FIRST, LAST, cfg=window)
    assert c["complaints_with_prior_contact"] >= 5
    assert 0.5 <= c["recall"] <= 1.0  # customer chains must find most parents even on tiny data
    assert c["converted_chains_judged"] >= 1 and 0.0 <= c["converted_precision"] <= 1.0


def test_propensity_auc_and_report(window: Settings) -> None:
    p = marts_eval.propensity_eval(FIRST, LAST, cfg=window, score_from=FIRST, horizon_days=HORIZON)
    assert p["run_dates"] >= 1 and p["scored"] > 0
    assert p["positives"] >= 1
    assert 0.0 <= p["auc"] <= 1.0
    assert 0.0 <= p["precision_at_top_5pct"] <= 1.0
    report = marts_eval.MartsReport(
        FIRST,
        LAST,
        PREFIX,
        hotspots=marts_eval.hotspot_eval(FIRST, LAST, cfg=window),
        frequent_outage=marts_eval.frequent_outage_eval(FIRST, LAST, cfg=window),
        chains=marts_eval.chain_eval(FIRST, LAST, cfg=window),
        propensity=p,
    )
    md = report.render()
    assert "| propensity: AUC (pooled)" in md
    doc = json.loads(report.to_json())
    assert {m["metric"] for m in doc["headline"]} >= {"repeat→complaint chains: recall"}


def test_auc_matches_definition() -> None:
    assert marts_eval.auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
    assert marts_eval.auc([1, 1], [0.2, 0.3]) is None
