"""Appeal-text generator: frames (phrasing families) × intent phrasings × slot fillers × noise.

Why a grammar and not templates: downstream classifiers are judged on real texts written by other
people, so breadth of phrasing matters more than volume. Every text records the frame (``family``)
and the phrasing it used, so an evaluation can hold out whole families.
"""

from __future__ import annotations

import contextlib
import random
import re
from dataclasses import dataclass
from functools import lru_cache

from grid_appeals.simulate.text import lexicon as L

FRAMES = ("std", "addr_first", "quote", "terse", "note", "dialect", "narrative", "online", "transfer", "repeat")
_FRAME_W = {"std": 30, "addr_first": 14, "quote": 11, "terse": 12, "note": 8, "dialect": 6, "narrative": 9}


@dataclass(frozen=True)
class Speaker:
    """The personal data a text may mention (later stages must mask it)."""

    name: str
    surname: str
    phone: str
    cons_no: str
    addr: str


@dataclass(frozen=True)
class Generated:
    text: str
    family: str
    phrasing: str  # intent:part-index, finer than family
    noise: str  # comma-separated noise kinds applied


def _fill(s: str, r: random.Random, sp: Speaker) -> str:
    def rep(m: re.Match) -> str:
        k = m.group(1)
        if k == "cons_no":
            return sp.cons_no
        if k == "surname":
            return sp.surname
        if k == "name":
            return sp.name
        return r.choice(L.SLOTS[k])
    return re.sub(r"\{(\w+)\}", rep, s)


def _short_addr(addr: str) -> str:
    return re.sub(r"^陕西省", "", addr)


@lru_cache(maxsize=1)
def _homophones() -> dict[str, list[str]]:
    """Char → common chars with the same toneless pinyin (GB2312 level-1 set), for IME-style typos."""
    from pypinyin import Style, lazy_pinyin
    common = []
    for hi in range(0xB0, 0xD8):
        for lo in range(0xA1, 0xFF):
            with contextlib.suppress(UnicodeDecodeError):
                common.append(bytes([hi, lo]).decode("gb2312"))
    by_py: dict[str, list[str]] = {}
    for ch in common:
        by_py.setdefault(lazy_pinyin(ch, style=Style.NORMAL)[0], []).append(ch)
    out = {}
    for group in by_py.values():
        if len(group) > 1:
            for ch in group:
                out[ch] = [c for c in group if c != ch][:12]
    return out


@lru_cache(maxsize=1)
def _s2t():
    import opencc
    return opencc.OpenCC("s2t")


def _dialect(s: str, r: random.Random, p: float = 0.7) -> str:
    for std, dia in L.DIALECT:
        if std in s and r.random() < p:
            s = s.replace(std, dia)
    return s


def _noise(text: str, r: random.Random, kinds: list[str], typo_rate: float) -> str:
    if r.random() < typo_rate:
        hp = _homophones()
        chars = list(text)
        cand = [i for i, c in enumerate(chars) if c in hp and not c.isdigit()]
        for i in r.sample(cand, min(len(cand), r.choice((1, 1, 2, 3)))):
            chars[i] = r.choice(hp[chars[i]])
        text = "".join(chars)
        kinds.append("homophone")
    u = r.random()
    if u < 0.025:
        text = _s2t().convert(text)
        kinds.append("traditional")
    elif u < 0.06:
        a = r.randrange(max(1, len(text) - 6))
        k = r.randint(3, 8)  # a stretch of 3-8 characters turns traditional; nothing is dropped
        text = text[:a] + _s2t().convert(text[a:a + k]) + text[a + k:] if len(text) > 10 else text
        kinds.append("traditional_part")
    if r.random() < 0.15:
        text = text.replace("，", r.choice([",", " ", "，，", "、"]))
        kinds.append("punct")
    if r.random() < 0.1:
        text = text.rstrip("。")
    if r.random() < 0.05:
        text = text.replace("。", "。。", 1) + r.choice(["", "？", "!!", "……"])
    return text


def generate(intent: str, sp: Speaker, r: random.Random, *, channel: str = "95598", repeat: bool = False,
             typo_rate: float = 0.18) -> Generated:
    """One appeal text (受理内容) for ``intent`` said by ``sp`` through ``channel``."""
    it = L.INTENTS[intent]
    ci = r.randrange(len(it["core"]))
    oi = r.randrange(len(it["oral"]))
    ai = r.randrange(len(it["ask"]))
    core = _fill(it["core"][ci], r, sp)
    oral = _fill(it["oral"][oi], r, sp)
    ask = _fill(it["ask"][ai], r, sp)
    tag = r.choice(it["tags"])
    who = _fill(r.choice(L.WHO), r, sp)
    lead = r.choice(L.LEADS) if it["busi"] != "投诉" or r.random() < 0.5 else r.choice(["来电投诉称", "投诉"])
    emo = r.choice(L.EMOTIONS)
    addr = _short_addr(sp.addr)
    part = "core"
    if repeat:
        frame = "repeat"
    elif channel == "12345":
        frame = "transfer"
    elif channel in ("网上国网", "微信"):
        frame = "online"
    else:
        frame = r.choices(list(_FRAME_W), weights=list(_FRAME_W.values()))[0]
    kinds: list[str] = []
    if frame == "std":
        head = L.CHANNEL_HEADS.get(channel, "")
        text = f"{head}【{tag}】客户{who}{lead}{core}{'，' + emo if emo and r.random() < 0.5 else ''}，{ask}。"
        if r.random() < 0.3:
            text += f"联系电话{sp.phone}。"
    elif frame == "addr_first":
        text = f"【{tag}】{addr}客户{who}来电，{core}，{ask}。联系电话：{sp.phone}"
    elif frame == "quote":
        part = "oral"
        text = f"【{tag}】客户原话：“{oral}{r.choice(L.PARTICLES)}！”{emo + '，' if emo else ''}{ask}。"
    elif frame == "terse":
        text = f"{addr[r.randrange(3, 8):] if r.random() < 0.6 else ''}{core}，{ask.replace('要求', '')}"
    elif frame == "note":
        text = (f"诉求人：{who or sp.surname + '先生'}；电话：{sp.phone}；地址：{addr}；诉求内容：{core}；"
                f"诉求：{ask}；备注：{r.choice(L.REMARKS)}")
    elif frame == "dialect":
        part = "oral"
        text = f"【{tag}】客户说方言，原话：“{_dialect(oral, r, 0.9)}{r.choice(L.PARTICLES)}”，{ask}。"
        kinds.append("dialect")
    elif frame == "narrative":
        part = "oral"
        text = (f"{_fill(r.choice(L.SLOTS['when']), r, sp)}，住在{addr}的{who or '一位客户'}打进电话，说"
                f"{_dialect(oral, r, 0.3)}，{emo or '希望尽快解决'}，{ask}。")
    elif frame == "online":
        part = "oral"
        text = f"{L.CHANNEL_HEADS.get(channel, '')}{oral}{r.choice(L.PARTICLES)}，{ask}。户号{sp.cons_no}"
    elif frame == "transfer":
        text = (f"【12345转办】市民{who or sp.surname + '女士'}（电话{sp.phone}）反映：{addr}{core}。{ask}。"
                f"请供电公司核实处理，并于{r.choice(['3', '5', '7'])}个工作日内回复市民。")
    else:  # repeat contact about an earlier order
        part = "repeat"
        rc = _fill(r.choice(L.REPEAT_CORE), r, sp)
        ro = _fill(r.choice(L.REPEAT_ORAL), r, sp)
        text = (f"【{r.choice(['催办', '重复来电', tag])}】{rc}。" + (f"客户称：“{ro}”。" if r.random() < 0.6 else "")
                + f"原诉求：{core}，{ask}。")
    if frame not in ("dialect",) and r.random() < 0.08:
        text = _dialect(text, r, 0.5)
        kinds.append("dialect")
    if r.random() < 0.12:
        text += f"户号：{sp.cons_no}。"
    text = _noise(text, r, kinds, typo_rate)
    return Generated(text, frame, f"{intent}:{part}{ci if part != 'oral' else oi}", ",".join(kinds))


def opinion(kind: str, r: random.Random, *, hm: str = "", satisfied: bool = True) -> str:
    """处理意见 written by the back office when the order is closed."""
    sat = r.choice(["满意", "认可", "理解", "基本满意"]) if satisfied else r.choice(["不满意", "不认可", "仍有异议"])
    t = r.choice(L.OPINION[kind])
    return t.format(team=r.choice(L.TEAMS), cause=r.choice(L.CAUSES), hm=hm or "当日", sat=sat,
                    finding=r.choice(L.FINDINGS))
