"""Planted topic surges: known bursts of appeals at one supply station about one hot-spot topic.

Why plant them: hot-spot detection is judged by precision/recall, which needs surges whose place,
topic and days are known exactly. Organic volume rarely concentrates enough on one station × topic
to be a fair target, so on a few days (deterministic from the seed, ~1 per 10 days by default) a
scenario starts at a station — a construction site cutting a cable, a billing error batch, an
overloaded transformer — and adds ``multiplier`` × a nominal busy-day count of extra appeals per day
for 1-3 days, from customers of 1-3 transformer areas of that station, phrased as the topic's
intents (the text grammar) with a scenario hint in part of the texts. Everything is a pure function
of (seed, start day), so regenerating a date never depends on other dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from grid_appeals.simulate.context import SimContext
from grid_appeals.simulate.rng import day_rng

MAX_DAYS = 3


@dataclass(frozen=True)
class Scenario:
    topic: str  # hot-spot topic (as in lexicon INTENTS[...]["topic"])
    cause: str  # ground-truth cause, as an analyst would write it
    intents: tuple[str, ...]  # intents the extra appeals use (all carry ``topic``)
    weights: tuple[float, ...]
    hints: tuple[str, ...]  # sentences appended to part of the texts


SCENARIOS: dict[str, Scenario] = {
    "construction_cable": Scenario("频繁停电", "附近工地施工反复挖断电缆", ("cmpl_reliability", "cmpl_plan_exec"), (0.8, 0.2),
                                   ("听说是旁边工地施工把电缆挖断了", "附近工地这几天一直在施工，老是停电", "据了解是市政施工损坏了线路")),
    "billing_batch": Scenario("电费争议", "批量电费差错（计费参数错误）", ("cmpl_bill", "cmpl_meter_read"), (0.7, 0.3),
                              ("邻居们这个月电费也都翻倍了", "整栋楼电费都不对", "小区很多户反映本月电费异常")),
    "meter_batch": Scenario("计量装置", "批量轮换电能表接线错误", ("cmpl_metering", "repair_meter_box", "apply_meter_check"),
                            (0.5, 0.3, 0.2), ("上周刚换的新电表", "换表以后电表走得特别快", "这批新换的表都有问题")),
    "transformer_overload": Scenario("电压低", "台区配变重载导致末端电压偏低", ("repair_low_voltage", "cmpl_voltage"), (0.6, 0.4),
                                     ("一到晚上整个台区电压都低", "附近几户都一样电压不够", "变压器带不动了")),
    "unnotified_plan": Scenario("停电未通知", "计划检修未提前公告", ("cmpl_notice",), (1.0,),
                                ("小区里没有看到任何停电通知", "事先没有接到任何短信通知", "物业也说没收到通知")),
    "repair_backlog": Scenario("抢修超时", "抢修力量不足，故障积压", ("cmpl_repair",), (1.0,),
                               ("打了好几次电话都说在排队", "抢修人员一直没到", "等了大半天也没人来修")),
    "hall_system": Scenario("营业服务", "营业厅系统升级导致排队过长", ("cmpl_channel", "cmpl_hours"), (0.8, 0.2),
                            ("营业厅系统一直在升级办不了业务", "排了两个小时队还没办成", "营业厅说系统故障让明天再来")),
    "expansion_backlog": Scenario("业扩超时", "新建园区批量报装积压", ("cmpl_expansion",), (1.0,),
                                  ("园区好几家企业都在等接电", "报装一个多月了还没接电", "同一批报装的都没动静")),
}
SCENARIO_KEYS = list(SCENARIOS)
NOMINAL = {"tiny": 1.5, "small": 1.5, "province": 3.0}  # busy-day station × topic count the multiplier scales


@dataclass(frozen=True)
class Surge:
    surge_id: str  # SG + start day + sequence: also the appeals' event_ref
    start: date
    days: int
    station_idx: int
    area_idx: tuple[int, ...]
    scenario: str
    multiplier: float
    per_day: int  # extra appeals per surge day

    @property
    def topic(self) -> str:
        return SCENARIOS[self.scenario].topic


def started(ctx: SimContext, s: date) -> list[Surge]:
    """Surges that start on day s (usually none)."""
    return ctx.cached(("surges_started", s), lambda: _started(ctx, s))


def _started(ctx: SimContext, s: date) -> list[Surge]:
    rng = day_rng(ctx.seed, s, "surges")
    n = int(rng.random() < ctx.surge_rate) + int(rng.random() < ctx.surge_rate ** 2)
    out = []
    a = ctx.world.areas
    st_cust = np.bincount(a["station_idx"].to_numpy(), weights=a["cust_n"].to_numpy(), minlength=len(ctx.world.stations))
    for j in range(n):
        st = int(rng.choice(len(st_cust), p=st_cust / st_cust.sum()))
        cand = np.flatnonzero(a["station_idx"].to_numpy() == st)
        k = int(min(len(cand), rng.integers(1, 4)))
        areas = tuple(int(x) for x in np.sort(rng.choice(cand, k, replace=False)))
        mult = float(np.round(rng.uniform(4, 8), 2))
        per_day = int(np.ceil(mult * NOMINAL.get(ctx.scale.name, 1.5)))
        out.append(Surge(f"SG{s:%Y%m%d}{j:02d}", s, int(rng.integers(1, MAX_DAYS + 1)), st, areas,
                         SCENARIO_KEYS[int(rng.integers(len(SCENARIO_KEYS)))], mult, per_day))
    return out


def active(ctx: SimContext, d: date) -> list[Surge]:
    """Surges in progress on day d."""
    out = []
    for k in range(MAX_DAYS):
        out += [s for s in started(ctx, d - timedelta(days=k)) if s.days > k]
    return out


def by_ref(ctx: SimContext, ref: str) -> Surge | None:
    """The surge whose id is ``ref`` (appeals carry it as event_ref)."""
    s = date(int(ref[2:6]), int(ref[6:8]), int(ref[8:10]))
    return next((x for x in started(ctx, s) if x.surge_id == ref), None)


def orders(ctx: SimContext, d: date) -> pd.DataFrame | None:
    """Chain-step rows (workorders.COLS) of the planted appeals created on d, or None."""
    act = active(ctx, d)
    if not act:
        return None
    from grid_appeals.simulate.workorders import KEY_BLOCK, KEY_DAY, SURGE_BLOCK, _channel, _frame, _times

    rng = day_rng(ctx.seed, d, "surges", 1)
    a = ctx.world.areas
    blocks = []
    for s in act:
        sc = SCENARIOS[s.scenario]
        lo = a["cust_lo"].to_numpy()[list(s.area_idx)]
        cn = a["cust_n"].to_numpy()[list(s.area_idx)]
        pick_area = rng.choice(len(lo), s.per_day, p=cn / cn.sum())
        cust = lo[pick_area] + (rng.random(s.per_day) * cn[pick_area]).astype(np.int64)
        intent = np.array(sc.intents, dtype=object)[rng.choice(len(sc.intents), s.per_day, p=np.array(sc.weights))]
        blocks.append(_frame(s.per_day, t=_times(rng, d, s.per_day), cust_idx=cust, intent=intent,
                             channel=_channel(rng, s.per_day, d, True), cause="planted_surge", event_ref=s.surge_id))
    cols = {k: np.concatenate([np.asarray(b[k]) for b in blocks]) for k in blocks[0] if k != "_n"}
    df = pd.DataFrame(cols)
    df.insert(0, "key", d.toordinal() * KEY_DAY + SURGE_BLOCK * KEY_BLOCK + np.arange(len(df), dtype=np.int64))
    df["t"] = pd.to_datetime(df["t"])
    df["restore"] = pd.to_datetime(df["restore"])
    return df
