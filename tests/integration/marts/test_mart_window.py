"""The mart end to end on a simulated window: sources → raw → nlp → dbt marts → gate → publish.

Own database prefix (``gridtest_mart``), default (realistic) defect rates except the day-level
file defects, so every day's required loads succeed and the mart runs for the whole window.
Asserts the marts are complete (reconcile with raw), idempotent by date (re-running a day gives
identical tables), that the incremental daily builds equal a full rebuild, and that nothing
unmasked reaches BI.
"""

from __future__ import annotations

import dataclasses
import os
import re
from datetime import date

import psycopg
import pytest

from grid_appeals.config import Settings
from grid_appeals.pipeline.backfill import backfill
from grid_appeals.pipeline.mart_tasks import run_mart_window
from grid_appeals.simulate.defects import DefectRates
from grid_appeals.simulate.runner import simulate
from grid_appeals.text.training import train_models
from grid_appeals.transform.run_dbt import run_dbt
from grid_appeals.warehouse.bootstrap import bootstrap

FIRST, LAST = date(2024, 7, 1), date(2024, 7, 6)
PREFIX = os.environ["GRID_DB_PREFIX"] + "_mart"  # follows GRID_TEST_DB_PREFIX
# table -> key ordering its checksum
MART_TABLES = {
    "marts.fct_appeals": "work_order_id",
    "marts.fct_appeal_counts_daily": "count_cell_id",
    "marts.fct_hotspot_daily": "hotspot_day_id",
    "marts.fct_frequent_outage_areas": "area_day_id",
    "marts.fct_appeal_chains": "chain_id",
    "marts.fct_satisfaction_monthly": "satisfaction_cell_id",
}


def checksums(cfg: Settings) -> dict[str, tuple[int, str]]:
    with psycopg.connect(cfg.url()) as conn:
        return {
            t: conn.execute(
                f"select count(*), md5(coalesce(string_agg(x::text, '|' order by x.{k}), '')) from {t} as x"
            ).fetchone()
            for t, k in MART_TABLES.items()
        }


@pytest.fixture(scope="module")
def mart_window(warehouse: Settings) -> Settings:
    cfg = dataclasses.replace(warehouse, db_prefix=PREFIX)
    bootstrap(cfg)
    rates = dataclasses.replace(
        DefectRates(), broken_encoding_day=0.0, truncated_gzip_day=0.0, schema_drift_day=0.0
    )
    simulate(FIRST, LAST, scale="tiny", seed=5, cfg=cfg, defects=rates)
    report = backfill(FIRST, LAST, cfg=cfg, progress=False, mart=False)
    assert not report.failed, report.summary()
    train_models(LAST, cfg=cfg)  # the classifier the nlp step uses, from the window's own history
    run_mart_window(FIRST, LAST, cfg=cfg)
    return cfg


def test_marts_complete_and_tested(mart_window: Settings) -> None:
    with psycopg.connect(mart_window.url()) as conn:
        raw = conn.execute("select count(*) from raw_95598.arc_s_95598_wkst").fetchone()[0]
        fct = conn.execute(
            "select count(*), count(model_business_type), count(accept_text_masked) from marts.fct_appeals"
        ).fetchone()
        assert raw > 1000 and fct == (raw, raw, raw)
        published = conn.execute(
            "select fct_appeals_rows from ops.publish_log where date_from = %s and date_to = %s",
            (FIRST, LAST),
        ).fetchone()
        assert published == (raw,)
        gate = conn.execute("select success from ops.mart_gate_log where date_from = %s", (FIRST,)).fetchone()
        assert gate == (True,)
        # every hot-spot topic series and business type appears; complaints are a few percent
        share = conn.execute("select avg(is_complaint::int) from marts.fct_appeals").fetchone()[0]
        assert 0.005 < float(share) < 0.15


def test_rerunning_a_day_is_idempotent(mart_window: Settings) -> None:
    before = checksums(mart_window)
    run_mart_window(LAST, LAST, cfg=mart_window)
    assert checksums(mart_window) == before


# Columns computed from OTHER rows that may arrive later (late orders, next-day restore events):
# a windowed build sees the context known on its day, a full rebuild sees the final context. This
# drift is known and tracked in issue 6; everything intrinsic to an appeal must match exactly.
CONTEXT_COLUMNS = {
    "prior_contacts_30d",
    "prior_same_area_30d",
    "prior_complaints_365d",
    "is_repeat_appeal",
    "linked_outage_count",
    "first_linked_outage_id",
    "linked_outage_max_minutes",
}


def intrinsic_appeals_checksum(cfg: Settings) -> tuple[int, str]:
    with psycopg.connect(cfg.url()) as conn:
        cols = [
            r[0]
            for r in conn.execute(
                "select column_name from information_schema.columns where table_schema = 'marts' "
                "and table_name = 'fct_appeals' order by ordinal_position"
            )
        ]
        keep = ", ".join(c for c in cols if c not in CONTEXT_COLUMNS)
        return conn.execute(
            f"select count(*), md5(string_agg(x::text, '|' order by x.work_order_id)) "
            f"from (select {keep} from marts.fct_appeals) as x"
        ).fetchone()


def test_incremental_builds_equal_full_rebuild(mart_window: Settings) -> None:
    exact = (
        "marts.fct_appeal_counts_daily",
        "marts.fct_hotspot_daily",
        "marts.fct_appeal_chains",
        "marts.fct_satisfaction_monthly",
    )
    before = checksums(mart_window)
    before_appeals = intrinsic_appeals_checksum(mart_window)
    run_dbt(["build", "--full-refresh", "--exclude", "stg_ml__complaint_propensity+"], cfg=mart_window)
    after = checksums(mart_window)
    assert {t: after[t] for t in exact} == {t: before[t] for t in exact}
    assert intrinsic_appeals_checksum(mart_window) == before_appeals
    # same rows everywhere, even where late context changes values
    assert {t: v[0] for t, v in after.items()} == {t: v[0] for t, v in before.items()}


def test_no_personal_data_reaches_bi(mart_window: Settings) -> None:
    phone = re.compile(r"1[3-9]\d{9}")
    with psycopg.connect(mart_window.url()) as conn:
        conn.execute("set role bi_reader")
        texts = conn.execute(
            "select accept_text_masked || ' ' || coalesce(opinion_text_masked, '') from marts.fct_appeals"
        ).fetchall()
        assert texts and not [t for (t,) in texts if phone.search(t)]
        names = conn.execute("select customer_name_masked from marts.dim_customer limit 50").fetchall()
        assert all("*" in n for (n,) in names)
