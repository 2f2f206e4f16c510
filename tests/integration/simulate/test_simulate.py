"""Acceptance tests of the source simulator on real Postgres (tiny scale, a hot July + 春节 window).

One module-scoped simulation is shared. Determinism is checked three ways: a second, independent run
of the same ranges into fresh databases and a fresh landing folder gives the same checksums; the
whole output is unchanged after re-simulating one date; generator outputs agree across fresh
contexts (unit tests).
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import shutil
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from grid_appeals.simulate.defects import DefectRates
from grid_appeals.simulate.runner import simulate
from grid_appeals.warehouse.connection import connect, drop_database

RATES = DefectRates(
    duplicate=0.03,
    missing_required=0.03,
    invalid_code=0.02,
    malformed_phone=0.04,
    bad_timestamp=0.02,
    bad_reading=0.01,
    late_row=0.03,
    broken_encoding_day=0.3,
    truncated_gzip_day=0.3,
    schema_drift_day=0.3,
)
JULY = (date(2024, 7, 8), date(2024, 7, 21))
SF = (date(2024, 2, 5), date(2024, 2, 11))  # 除夕 = 2024-02-09
SEED = 11
SURGE_RATE = 0.3  # more planted surges than the default so a short window surely has some

TABLES = {
    "src_95598": ["arc_s_95598_wkst", "s_comm_rec", "s_region_outrage"],
    "src_marketing": ["a_pay_flow", "s_app", "c_cons", "c_mp"],
}


def _checksums(cfg) -> dict[str, str]:
    out = {}
    for db, tables in TABLES.items():
        with connect(db, cfg=cfg) as conn:
            for t in tables:
                out[t] = conn.execute(
                    f"select md5(coalesce(string_agg(x, '|' order by x), '')) from "
                    f"(select t::text x from {t} t) s"
                ).fetchone()[0]
    for f in sorted(Path(cfg.landing_dir).rglob("*")):
        if f.is_file():
            out[str(f.relative_to(cfg.landing_dir))] = hashlib.md5(f.read_bytes()).hexdigest()
    return out


def _simulate_fresh(cfg, july_workers: int) -> None:
    for db in ("src_95598", "src_marketing", "sim_truth"):
        drop_database(cfg.db_name(db), cfg=cfg)
    shutil.rmtree(cfg.landing_dir, ignore_errors=True)
    simulate(*SF, scale="tiny", seed=SEED, cfg=cfg, defects=RATES, surge_rate=SURGE_RATE)
    simulate(*JULY, scale="tiny", seed=SEED, cfg=cfg, defects=RATES, surge_rate=SURGE_RATE, workers=july_workers)


@pytest.fixture(scope="module")
def sim(cfg):
    _simulate_fresh(cfg, july_workers=2)
    return cfg


def test_two_independent_runs_are_identical(sim):
    """Same seed and dates, fresh databases and landing folder, one process instead of two: every
    source table and every file is byte-identical."""
    other = dataclasses.replace(sim, db_prefix=sim.db_prefix + "_twin")
    try:
        _simulate_fresh(other, july_workers=1)
        mine, theirs = _checksums(sim), _checksums(other)
        assert len(mine) > 20 and mine == theirs
    finally:
        for db in ("src_95598", "src_marketing", "sim_truth"):
            drop_database(other.db_name(db), cfg=other)
        shutil.rmtree(other.deploy_dir, ignore_errors=True)


def _q(cfg, db, sql, *args):
    with connect(db, cfg=cfg) as conn:
        return pd.DataFrame(
            conn.execute(sql, args).fetchall(), columns=[c.name for c in conn.execute(sql, args).description]
        )


def test_regenerating_one_date_changes_nothing(sim):
    before = _checksums(sim)
    # generated in-process, while the fixture's July run used two worker processes
    simulate(
        date(2024, 7, 14),
        date(2024, 7, 14),
        scale="tiny",
        seed=SEED,
        cfg=sim,
        defects=RATES,
        surge_rate=SURGE_RATE,
        workers=1,
    )
    after = _checksums(sim)
    assert before == after


def test_hot_days_over_twice_mild_repairs(sim):
    wx = _q(sim, "sim_truth", "select wx_date, avg(tmax) t from weather_truth group by 1")
    rep = _q(
        sim,
        "sim_truth",
        "select created_date, count(*) n from appeal_truth where busi_type = '故障报修' group by 1",
    )
    df = rep.merge(wx, left_on="created_date", right_on="wx_date")
    df["t"] = df["t"].astype(float)
    hot = df[df["t"] >= 33]["n"].mean()
    mild = df[
        (df["t"] < 22)
        & (df["created_date"] != date(2024, 2, 9))
        & (df["created_date"] != date(2024, 2, 10))
        & (df["created_date"] != date(2024, 2, 8))
    ]["n"].mean()
    assert hot > 2 * mild, (hot, mild)


def test_spring_festival_eve_spike(sim):
    rep = _q(
        sim,
        "sim_truth",
        "select created_date d, count(*) n from appeal_truth where busi_type='故障报修' "
        "and created_date between '2024-02-05' and '2024-02-11' group by 1",
    ).set_index("d")["n"]
    assert rep[date(2024, 2, 9)] > 1.5 * rep[[date(2024, 2, 5), date(2024, 2, 6)]].mean()


def test_complaint_share_and_classes_and_precedence(sim):
    t = _q(sim, "sim_truth", "select busi_type, cmpl_class, parent_app_no, cause from appeal_truth")
    share = (t["busi_type"] == "投诉").mean()
    assert 0.01 < share < 0.08, share
    assert set(t.loc[t["busi_type"] == "投诉", "cmpl_class"]) == {
        "服务投诉",
        "营业投诉",
        "停送电投诉",
        "供电质量投诉",
        "电网建设投诉",
    }
    c = t[t["busi_type"] == "投诉"]
    preceded = c["parent_app_no"].notna() | c["cause"].isin(
        ["hall_queue", "expansion_complaint", "meter_fault_complaint"]
    )
    assert preceded.mean() > 0.5, preceded.mean()


def test_status_updates_arrive_on_later_days(sim):
    df = _q(
        sim,
        "src_95598",
        "select count(*) n from arc_s_95598_wkst where upd_time::date > handle_time::date "
        "and wkst_status_code >= '04'",
    )
    assert df["n"][0] > 100
    df = _q(sim, "src_marketing", "select count(*) n from s_app where upd_time::date > app_date::date")
    assert df["n"][0] > 0


# every row-level defect the generator injects, by the truth's entity name, with the rate it is drawn at
ROW_DEFECTS = {
    "wkst": ("missing_required", "malformed_phone", "invalid_code", "bad_timestamp", "duplicate", "late_row"),
    "a_pay_flow": ("missing_required", "invalid_code", "duplicate", "late_row"),
    "e_mp_day_read": ("bad_reading", "duplicate", "late_row"),
    "hall_ticket": ("missing_required", "bad_timestamp", "duplicate"),
    "s_comm_rec": ("duplicate",),
}
ROW_COUNT_ENTITY = {"wkst": "arc_s_95598_wkst.insert"}  # row_counts' name where it differs
DAY_DEFECTS = {
    "broken_encoding": "broken_encoding_day",
    "truncated_gzip": "truncated_gzip_day",
    "schema_drift": "schema_drift_day",
}


def test_defect_rates(sim):
    """Each row-level defect kind appears in the written rows at its configured rate (±20 %)."""
    d = _q(sim, "sim_truth", "select entity, kind, count(*) n from defect_truth group by 1, 2")
    rc = _q(sim, "sim_truth", "select entity, sum(n) n from row_counts group by 1").set_index("entity")["n"]
    got = d.set_index(["entity", "kind"])["n"]
    checked = 0
    for entity, kinds in ROW_DEFECTS.items():
        written = int(rc[ROW_COUNT_ENTITY.get(entity, entity)])
        rows = written - int(got.get((entity, "duplicate"), 0))  # written counts the duplicate copies too
        assert rows > 2000, (entity, rows)  # enough rows for a ±20 % check to mean something
        for kind in kinds:
            rate = getattr(RATES, kind)
            measured = int(got.get((entity, kind), 0)) / rows
            assert abs(measured / rate - 1) <= 0.2, f"{entity}/{kind}: {measured:.4f} vs configured {rate}"
            checked += 1
    assert checked == sum(len(k) for k in ROW_DEFECTS.values())
    assert set(d["kind"]) == {k for ks in ROW_DEFECTS.values() for k in ks} | set(DAY_DEFECTS)


def test_day_level_defects_follow_the_configured_draw(sim):
    """File-level defects fall on exactly the days the configured draw picks (the rate of that draw
    is checked over 20 years in the unit tests: a 3-week window is too short for ±20 %)."""
    from grid_appeals.simulate.defects import day_has

    d = _q(
        sim,
        "sim_truth",
        "select distinct kind, sim_date from defect_truth where kind = any(%s)",
        list(DAY_DEFECTS),
    )
    days = [JULY[0] + timedelta(days=i) for i in range((JULY[1] - JULY[0]).days + 1)]
    for kind, rate_field in DAY_DEFECTS.items():
        truth_days = set(d.loc[d["kind"] == kind, "sim_date"]) & set(days)
        drawn = {x for x in days if day_has(x, SEED, rate_field, getattr(RATES, rate_field))}
        assert truth_days == drawn, kind
        assert drawn, f"no {kind} day in the window: the check above proved nothing"


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


def test_planted_surges_stand_out_at_their_station(sim):
    planted = _q(sim, "sim_truth", "select * from topic_surge where planted")
    assert len(planted) >= 2, "expected planted surges in the window"
    assert not _q(
        sim, "sim_truth", "select 1 from topic_surge where not planted and surge_id is not null"
    ).shape[0]
    t = _q(sim, "sim_truth", "select app_no, created_date, topic, intent, cause, event_ref from appeal_truth")
    src = _q(
        sim,
        "src_95598",
        "select distinct on (app_no) app_no, org_no, tg_no, accept_content from arc_s_95598_wkst "
        "where org_no is not null order by app_no",
    )
    m = t.merge(src, on="app_no")
    for r in planted.itertuples():
        cell = m[
            (m["created_date"] == r.surge_date) & (m["org_no"] == r.station_org_no) & (m["topic"] == r.topic)
        ]
        mine = m[m["event_ref"] == r.surge_id]
        mine = mine[mine["created_date"] == r.surge_date]
        # the surge's appeals carry the station's org_no, one of its 台区 and the topic's phrasing
        assert len(mine) >= 0.75 * r.n_planted, (r.surge_id, len(mine))  # a few rows lose org_no (defect)
        assert (mine["org_no"] == r.station_org_no).all()
        assert mine["tg_no"].isin(r.tg_nos.split(",")).all()
        assert (mine["topic"] == r.topic).all() and (mine["cause"] == "planted_surge").all()
        # well above the station × topic baseline (at least 4x, and at least 6 appeals)
        assert len(cell) >= max(6, 4 * float(r.baseline)), (r.surge_id, len(cell), r.baseline)
    # scenario hints make part of the texts mention the cause
    hints = m[m["cause"] == "planted_surge"]["accept_content"].str.contains("客户称").mean()
    assert 0.3 < hints < 0.9, hints


def test_escalation_truth_and_complaint_chains(sim):
    esc = _q(sim, "sim_truth", "select * from escalation_truth")
    t = _q(sim, "sim_truth", "select app_no, busi_type, parent_app_no, handle_time from appeal_truth")
    assert len(esc) == (t["busi_type"] != "投诉").sum()
    assert 0.005 < esc["escalated"].mean() < 0.2, esc["escalated"].mean()
    e = esc[esc["escalated"]]
    assert (e["escalated_at"] >= e["handle_time"]).all()
    # every direct parent of a complaint that is not itself a complaint is marked escalated
    c = t[(t["busi_type"] == "投诉") & t["parent_app_no"].notna()]
    # (parents created on days that were never simulated are not in appeal_truth)
    parents = (set(c["parent_app_no"]) & set(t["app_no"])) - set(t.loc[t["busi_type"] == "投诉", "app_no"])
    assert parents <= set(e["app_no"])
    chains = _q(
        sim, "sim_truth", "select complaint_app_no, chain from complaint_chain where n_prior_contacts >= 1"
    )
    assert len(chains) > 10
    first = chains.iloc[0]
    assert first["chain"][-1] == first["complaint_app_no"]


def test_time_limits_follow_working_days(sim):
    df = _q(
        sim,
        "src_95598",
        "select busi_type_code, source_code, handle_time, time_limit_hours from arc_s_95598_wkst "
        "where busi_type_code = '004' and source_code <> '03' and handle_time::date "
        "between '2024-07-08' and '2024-07-21' and to_char(handle_time, 'YYYYMMDD') = left(app_no, 8)",
    )
    df["dow"] = pd.DatetimeIndex(df["handle_time"]).day_of_week
    # 投诉: 4 working days: Monday → Friday (96 h), Friday → Thursday (144 h)
    assert set(df.loc[df["dow"] == 0, "time_limit_hours"]) == {96}
    assert set(df.loc[df["dow"] == 4, "time_limit_hours"]) == {144}


def _mp_days(cfg, first: date, last: date) -> pd.DataFrame:
    """(mp_no, data_date) of every frozen reading in the metering files of [first, last]."""
    parts = []
    d = first
    while d <= last:
        f = Path(cfg.landing_dir) / "metering" / d.isoformat() / f"e_mp_day_read_{d:%Y%m%d}.csv.gz"
        with gzip.open(f) as fh:
            parts.append(pd.read_csv(fh, usecols=["mp_no", "data_date"], dtype=str))
        d += timedelta(days=1)
    return pd.concat(parts, ignore_index=True).drop_duplicates()


def test_new_customers_appear_on_their_connection_day_with_meter_and_readings(sim):
    """A completed new connection (装表接电 on D) is a c_cons row built and powered on D, with its
    metering point installed on D, its application pointing at it, and frozen readings from D+1."""
    new = _q(
        sim,
        "sim_truth",
        "select change_date, cons_no, event_ref from customer_change_truth where kind = 'new_connection' "
        "and change_date between %s and %s",
        *JULY,
    )
    assert len(new) >= 20
    cons = _q(sim, "src_marketing", "select * from c_cons where cons_no = any(%s)", list(new["cons_no"]))
    m = new.merge(cons, on="cons_no")
    assert len(m) == len(new)
    assert (m["build_date"] == m["change_date"]).all() and (m["ps_date"] == m["change_date"]).all()
    assert (m["status_code"] == "1").all() and (pd.DatetimeIndex(m["upd_time"]).date == m["change_date"]).all()
    mp = _q(sim, "src_marketing", "select * from c_mp where cons_no = any(%s)", list(new["cons_no"]))
    m = m.merge(mp, on="cons_no")
    assert len(m) == len(new) and (m["inst_date"] == m["change_date"]).all()
    apps = _q(sim, "src_marketing", "select app_no, cons_no, status_code from s_app where app_no = any(%s)",
              list(new["event_ref"]))
    a = new.merge(apps, left_on="event_ref", right_on="app_no", suffixes=("", "_app"))
    assert len(a) == len(new) and (a["cons_no"] == a["cons_no_app"]).all() and (a["status_code"] >= "05").all()
    # read from the day after 装表接电 (never before), allowing for collection failures and late rows
    reads = _mp_days(sim, *JULY)
    reads = reads[reads["mp_no"].isin(set(m["mp_no"]))].merge(m[["mp_no", "change_date"]], on="mp_no")
    assert (pd.to_datetime(reads["data_date"]).dt.date > reads["change_date"]).all()
    due = m[m["change_date"] < JULY[1] - timedelta(days=3)]
    assert set(reads["mp_no"]) >= set(due["mp_no"])
    # and they pay like everyone else
    paid = _q(sim, "src_marketing", "select count(distinct cons_no) n from a_pay_flow where cons_no = any(%s)",
              list(new["cons_no"]))["n"][0]
    assert paid >= 1


def test_customer_changes_land_in_c_cons_on_their_day_and_in_truth(sim):
    """Every change since the epoch is in the truth; c_cons holds each column's last new value and
    the last change's time as upd_time; a cancelled customer's meter is no longer read."""
    t = _q(
        sim,
        "sim_truth",
        "select * from customer_change_truth where kind <> 'new_connection' order by change_time",
    )
    assert {"cancel", "prepaid", "mobile", "address", "capacity"} <= set(t["kind"])
    assert t["change_date"].min() < JULY[0]  # days between runs changed the base too
    cons = _q(sim, "src_marketing", "select * from c_cons where cons_no = any(%s)", list(t["cons_no"].unique()))
    cons = cons.set_index("cons_no")
    last = t.groupby(["cons_no", "column_name"])["new_value"].last()
    for (cons_no, col), v in last.items():
        cell = cons.at[cons_no, col]
        assert (float(cell) == float(v)) if col == "contract_cap" else str(cell) == v, (cons_no, col, cell, v)
    upd = t.groupby("cons_no")["change_time"].max()
    assert (pd.DatetimeIndex(cons.loc[upd.index, "upd_time"]) == pd.DatetimeIndex(upd)).all()
    assert len(_q(sim, "src_marketing", "select 1 from c_cons where status_code = '9' and cancel_date is null")) == 0
    # no frozen reading of a cancelled customer's meter after the cancel day
    canc = t[(t["kind"] == "cancel") & (t["column_name"] == "status_code")]
    mps = _q(sim, "src_marketing", "select mp_no, cons_no from c_mp where cons_no = any(%s)", list(canc["cons_no"]))
    reads = _mp_days(sim, *JULY).merge(mps, on="mp_no").merge(canc[["cons_no", "change_date"]], on="cons_no")
    assert len(canc) and not (pd.to_datetime(reads["data_date"]).dt.date > reads["change_date"]).any()
