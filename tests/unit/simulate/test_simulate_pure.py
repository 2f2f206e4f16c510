"""Pure-logic tests of the simulator: determinism of generators, grammar breadth, calendar shapes."""

from __future__ import annotations

import random
from datetime import date

import numpy as np

from grid_appeals.simulate.calendar_weather import repair_factor, spring_festival_offset, weather
from grid_appeals.simulate.context import SimContext
from grid_appeals.simulate.defects import DefectRates
from grid_appeals.simulate.scales import get_scale
from grid_appeals.simulate.text.grammar import Speaker, generate
from grid_appeals.simulate.text.lexicon import INTENTS
from grid_appeals.simulate.workorders import day_orders
from grid_appeals.simulate.world import build_world, shaanxi_divisions

SP = Speaker("王建国", "王", "13912345678", "6100001234", "陕西省咸阳市秦都区人民路8号阳光小区2号楼1单元301室")


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
