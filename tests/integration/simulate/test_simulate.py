"""Acceptance tests of the source simulator on real Postgres (tiny scale, a hot July + 春节 window).

One module-scoped simulation is shared: determinism is checked by re-simulating one date and by an
independent second run into fresh databases would double the runtime, so we compare checksums of
the whole output before/after re-simulating a date, and generator outputs across fresh contexts.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from grid_appeals.simulate.defects import DefectRates
from grid_appeals.simulate.runner import simulate
from grid_appeals.warehouse.connection import connect, drop_database

RATES = DefectRates(duplicate=0.03, missing_required=0.03, invalid_code=0.02, malformed_phone=0.04,
                    bad_timestamp=0.02, bad_reading=0.01, late_row=0.03, broken_encoding_day=0.3,
                    truncated_gzip_day=0.3, schema_drift_day=0.3)
JULY = (date(2024, 7, 8), date(2024, 7, 21))
SF = (date(2024, 2, 5), date(2024, 2, 11))  # 除夕 = 2024-02-09
SEED = 11

TABLES = {"src_95598": ["arc_s_95598_wkst", "s_comm_rec", "s_region_outrage"],
          "src_marketing": ["a_pay_flow", "s_app", "c_cons"]}


def _checksums(cfg) -> dict[str, str]:
    out = {}
    for db, tables in TABLES.items():
        with connect(db, cfg=cfg) as conn:
            for t in tables:
                out[t] = conn.execute(f"select md5(coalesce(string_agg(x, '|' order by x), '')) from "
                                      f"(select t::text x from {t} t) s").fetchone()[0]
    for f in sorted(Path(cfg.landing_dir).rglob("*")):
        if f.is_file():
            out[str(f.relative_to(cfg.landing_dir))] = hashlib.md5(f.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def sim(cfg):
    for db in ("src_95598", "src_marketing", "sim_truth"):
        drop_database(cfg.db_name(db), cfg=cfg)
    import shutil
    shutil.rmtree(cfg.landing_dir, ignore_errors=True)
    simulate(*SF, scale="tiny", seed=SEED, cfg=cfg, defects=RATES)
    simulate(*JULY, scale="tiny", seed=SEED, cfg=cfg, defects=RATES)
    return cfg


def _q(cfg, db, sql, *args):
    with connect(db, cfg=cfg) as conn:
        return pd.DataFrame(conn.execute(sql, args).fetchall(),
                            columns=[c.name for c in conn.execute(sql, args).description])


def test_regenerating_one_date_changes_nothing(sim):
    before = _checksums(sim)
    simulate(date(2024, 7, 14), date(2024, 7, 14), scale="tiny", seed=SEED, cfg=sim, defects=RATES)
    after = _checksums(sim)
    assert before == after


def test_hot_days_over_twice_mild_repairs(sim):
    wx = _q(sim, "sim_truth", "select wx_date, avg(tmax) t from weather_truth group by 1")
    rep = _q(sim, "sim_truth", "select created_date, count(*) n from appeal_truth where busi_type = '故障报修' group by 1")
    df = rep.merge(wx, left_on="created_date", right_on="wx_date")
    df["t"] = df["t"].astype(float)
    hot = df[df["t"] >= 33]["n"].mean()
    mild = df[(df["t"] < 22) & (df["created_date"] != date(2024, 2, 9))
              & (df["created_date"] != date(2024, 2, 10)) & (df["created_date"] != date(2024, 2, 8))]["n"].mean()
    assert hot > 2 * mild, (hot, mild)


def test_spring_festival_eve_spike(sim):
    rep = _q(sim, "sim_truth", "select created_date d, count(*) n from appeal_truth where busi_type='故障报修' "
                               "and created_date between '2024-02-05' and '2024-02-11' group by 1").set_index("d")["n"]
    assert rep[date(2024, 2, 9)] > 1.5 * rep[[date(2024, 2, 5), date(2024, 2, 6)]].mean()


def test_complaint_share_and_classes_and_precedence(sim):
    t = _q(sim, "sim_truth", "select busi_type, cmpl_class, parent_app_no, cause from appeal_truth")
    share = (t["busi_type"] == "投诉").mean()
    assert 0.01 < share < 0.08, share
    assert set(t.loc[t["busi_type"] == "投诉", "cmpl_class"]) == {"服务投诉", "营业投诉", "停送电投诉", "供电质量投诉",
                                                                "电网建设投诉"}
    c = t[t["busi_type"] == "投诉"]
    preceded = c["parent_app_no"].notna() | c["cause"].isin(["hall_queue", "expansion_complaint", "meter_fault_complaint"])
    assert preceded.mean() > 0.5, preceded.mean()


def test_status_updates_arrive_on_later_days(sim):
    df = _q(sim, "src_95598", "select count(*) n from arc_s_95598_wkst where upd_time::date > handle_time::date "
                              "and wkst_status_code >= '04'")
    assert df["n"][0] > 100
    df = _q(sim, "src_marketing", "select count(*) n from s_app where upd_time::date > app_date::date")
    assert df["n"][0] > 0


def test_defect_rates(sim):
    d = _q(sim, "sim_truth", "select entity, kind, count(*) n from defect_truth group by 1, 2")
    rc = _q(sim, "sim_truth", "select entity, sum(n) n from row_counts group by 1").set_index("entity")["n"]
    n_wkst = rc["arc_s_95598_wkst.insert"]
    got = d.set_index(["entity", "kind"])["n"]
    for kind, rate in (("missing_required", RATES.missing_required), ("malformed_phone", RATES.malformed_phone),
                       ("invalid_code", RATES.invalid_code), ("late_row", RATES.late_row)):
        measured = got[("wkst", kind)] / n_wkst
        assert abs(measured / rate - 1) < 0.25, (kind, measured)
    n_read = rc["e_mp_day_read"]
    for kind, rate in (("bad_reading", RATES.bad_reading), ("duplicate", RATES.duplicate)):
        measured = got[("e_mp_day_read", kind)] / n_read
        assert abs(measured / rate - 1) < 0.2, (kind, measured)
    kinds = set(d["kind"])
    assert {"duplicate", "missing_required", "invalid_code", "malformed_phone", "bad_timestamp", "bad_reading",
            "late_row", "broken_encoding", "truncated_gzip", "schema_drift"} <= kinds


def test_truth_complete_and_files_exist(sim):
    n_src = _q(sim, "src_95598", "select count(distinct app_no) n from arc_s_95598_wkst")["n"][0]
    n_truth = _q(sim, "sim_truth", "select count(*) n from appeal_truth")["n"][0]
    assert n_src == n_truth
    fam = _q(sim, "sim_truth", "select count(distinct phrasing_family) n from appeal_truth")["n"][0]
    assert fam >= 8
    d = JULY[0] + timedelta(days=2)
    base = Path(sim.landing_dir)
    assert (base / "metering" / d.isoformat() / f"e_mp_day_read_{d:%Y%m%d}.csv.gz").exists()
    assert (base / "hall" / d.isoformat() / f"hall_ops_{d:%Y%m%d}.xlsx").exists()
    assert list((base / "hall" / d.isoformat()).glob("hall_*_*.csv"))


def test_pipeline_never_references_truth_db():
    root = Path(__file__).resolve().parents[3]
    offenders = []
    for folder in (root / "plugins" / "grid_appeals", root / "dags", root / "dbt_project"):
        if not folder.exists():
            continue
        for f in folder.rglob("*"):
            if not f.is_file() or f.suffix not in (".py", ".sql", ".yml", ".yaml"):
                continue
            rel = f.relative_to(root / "plugins" / "grid_appeals") if folder.name == "grid_appeals" else None
            if rel is not None and rel.parts[0] in ("simulate", "evaluate"):
                continue
            if f.name == "bootstrap.py" or f.name == "config.py":
                continue  # creates/names the deployment's databases; never reads them
            if "sim_truth" in f.read_text(encoding="utf-8", errors="ignore"):
                offenders.append(str(f))
    assert not offenders, offenders
