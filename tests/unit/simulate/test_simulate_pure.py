"""Pure-logic tests of the simulator: determinism of generators, grammar breadth, calendar shapes."""

from __future__ import annotations

import random
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from grid_appeals.simulate.calendar_weather import repair_factor, spring_festival_offset, weather
from grid_appeals.simulate.context import SimContext
from grid_appeals.simulate.defects import DefectRates
from grid_appeals.simulate.scales import get_scale
from grid_appeals.simulate.text.grammar import Speaker, generate
from grid_appeals.simulate.text.lexicon import INTENTS
from grid_appeals.simulate.workorders import day_orders
from grid_appeals.simulate.world import build_world, shaanxi_divisions

SP = Speaker(
    "王建国", "王", "13912345678", "6100001234", "陕西省咸阳市秦都区人民路8号阳光小区2号楼1单元301室"
)


def test_shaanxi_divisions_are_real():
    cities, counties = shaanxi_divisions()
    names = {n for _, n in cities}
    assert {"西安市", "宝鸡市", "榆林市", "商洛市"} <= names
    assert len(counties) > 100


def test_world_deterministic_and_org_code_levels():
    w1 = build_world(7, get_scale("tiny"))
    build_world.cache_clear()
    w2 = build_world(7, get_scale("tiny"))
    assert np.array_equal(w1.cust_area, w2.cust_area)
    assert set(w1.orgs["org_no"].str.len()) == {5, 7, 9, 11}


def test_day_orders_pure_function_of_seed_and_date():
    d = date(2024, 7, 20)
    a = day_orders(SimContext(3, get_scale("tiny"), DefectRates()), d)
    b = day_orders(SimContext(3, get_scale("tiny"), DefectRates()), d)
    assert a[["app_no", "key", "intent", "cust_idx"]].equals(b[["app_no", "key", "intent", "cust_idx"]])


def test_weather_heat_and_spring_festival():
    hot = np.mean([weather(1, date(2024, 7, d)).tmax[0] for d in range(1, 31)])
    cold = np.mean([weather(1, date(2024, 1, d)).tmax[0] for d in range(1, 31)])
    assert hot > cold + 15
    assert repair_factor(np.array([37.0]))[0] > 2 * repair_factor(np.array([24.0]))[0]
    assert spring_festival_offset(date(2024, 2, 9)) == 0


def test_grammar_breadth_per_intent():
    r = random.Random(5)
    for intent in INTENTS:
        texts = {generate(intent, SP, r).text for _ in range(60)}
        assert len(texts) >= 20, intent
    busi = {v["busi"] for v in INTENTS.values()}
    assert busi == {"故障报修", "业务咨询", "服务申请", "投诉", "举报", "意见", "建议", "表扬"}
    subs = {v.get("sub") for v in INTENTS.values() if v["busi"] == "投诉"}
    assert len(subs) >= 15


def test_text_contains_pii_and_noise_sometimes():
    r = random.Random(9)
    gs = [generate("repair_area_outage", SP, r) for _ in range(400)]
    assert any("13912345678" in g.text for g in gs)
    assert any("homophone" in g.noise for g in gs)
    assert any(g.text.startswith("【") for g in gs)
    assert len({g.family for g in gs}) >= 6


def _day_output(ctx: SimContext, d: date, tmp_path) -> tuple[list, dict[str, bytes]]:
    from grid_appeals.config import Settings
    from grid_appeals.simulate.runner import _simulate_day

    cfg = Settings(warehouse_url=None, db_prefix="gridunit", var_dir=tmp_path)
    ledger = frozenset(date(2024, 7, 1) + timedelta(days=i) for i in range(20))
    ops, _ = _simulate_day(ctx, d, cfg, ledger)
    files = {
        str(f.relative_to(cfg.landing_dir)): f.read_bytes()
        for f in sorted(cfg.landing_dir.rglob("*"))
        if f.is_file() and d.isoformat() in str(f)
    }
    return ops.items, files


def test_day_output_independent_of_generation_history(tmp_path):
    """What a worker process generates for a day does not depend on which days it did before (the
    parallel runner relies on it): a fresh context and one that generated the previous days give
    byte-identical database writes and files."""
    d = date(2024, 7, 10)
    fresh = _day_output(SimContext(5, get_scale("tiny"), DefectRates()), d, tmp_path / "a")
    warm_ctx = SimContext(5, get_scale("tiny"), DefectRates())
    for k in (2, 1):
        _day_output(warm_ctx, d - timedelta(days=k), tmp_path / "b")
    warm = _day_output(warm_ctx, d, tmp_path / "b")
    assert fresh[0] == warm[0]
    assert fresh[1] == warm[1] and len(fresh[1]) >= 3


def test_time_limits_in_working_days():
    from grid_appeals.simulate.timelimits import time_limit_hours

    t = pd.DatetimeIndex(
        [
            "2024-09-27 10:00",
            "2024-07-01 10:00",
            "2024-07-05 10:00",
            "2019-07-05 10:00",
            "2024-07-05 10:00",
            "2024-07-05 10:00",
            "2024-07-05 10:00",
        ]
    )
    busi = np.array(["投诉", "投诉", "投诉", "投诉", "故障报修", "举报", "投诉"], dtype=object)
    chan = np.array(["95598电话"] * 6 + ["12345转办"], dtype=object)
    got = time_limit_hours(
        busi, np.array(["x"] * 7, dtype=object), chan, np.array([1, 1, 1, 1, 0, 1, 1], bool), t
    )
    # 国庆 2024: Sunday 9-29 is a make-up workday, 10-1..7 off → 4th working day is 10-9
    assert got.tolist() == [288, 96, 144, 264, 4, 312, 168]


def test_planted_surges_deterministic_and_rare():
    from grid_appeals.simulate import surges

    ctx = SimContext(42, get_scale("small"), DefectRates())
    days = [date(2024, 1, 1) + timedelta(days=i) for i in range(365)]
    got = [s for d in days for s in surges.started(ctx, d)]
    assert 20 <= len(got) <= 60  # ~1 per 10 days
    again = [s for d in days for s in surges.started(SimContext(42, get_scale("small"), DefectRates()), d)]
    assert got == again
    d = got[0].start
    o = day_orders(ctx, d)
    mine = o[o["event_ref"] == got[0].surge_id]
    assert len(mine) == got[0].per_day
    assert set(ctx.world.cust_area[mine["cust_idx"].to_numpy()]) <= set(got[0].area_idx)
    assert {INTENTS[i]["topic"] for i in mine["intent"]} == {got[0].topic}


@pytest.mark.parametrize(
    "rates",
    [
        DefectRates(),
        DefectRates(broken_encoding_day=0.3, truncated_gzip_day=0.3, schema_drift_day=0.3, duplicate=0.03),
    ],
)
def test_defect_draws_hit_their_configured_rates(rates):
    """The draws behind every defect kind select their configured share (±20 %): row kinds per entity over
    200k keys, file-level kinds over 20 years of days."""
    from grid_appeals.simulate.defects import ENTITY_SALT, SALT, day_has, pick

    keys = np.arange(1, 200_001, dtype=np.int64) * 7919
    for kind in SALT:
        rate = getattr(rates, kind)
        if kind.endswith("_day"):
            days = [date(2000, 1, 1) + timedelta(days=i) for i in range(20 * 365)]
            share = sum(day_has(d, 42, kind, rate) for d in days) / len(days)
            assert abs(share / rate - 1) <= 0.2, (kind, share, rate)
            continue
        for entity in ENTITY_SALT:
            share = pick(keys, 42, kind, entity, rate).mean()
            assert abs(share / rate - 1) <= 0.2, (kind, entity, share, rate)
