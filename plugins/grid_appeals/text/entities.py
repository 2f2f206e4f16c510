"""Entities in prepared (normalised + masked) appeal text, each with its character span.

Why spans: reviewers highlight them in the UI and downstream checks compare them with the
structured fields (the stated outage duration vs. the metering outage event), so every entity
carries ``start``/``end`` offsets into ``PreparedText.text`` and a JSON-able ``value``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from grid_appeals.text.address import extract_address
from grid_appeals.text.rx import literal_prefilter, may_contain

_MINUTES = {
    "分钟": 1,
    "分": 1,
    "小时": 60,
    "钟头": 60,
    "天": 1440,
    "日": 1440,
    "周": 10080,
    "星期": 10080,
    "礼拜": 10080,
    "个月": 43200,
    "月": 43200,
    "年": 525600,
}
DURATION = re.compile(
    r"(?<![\d.])(?P<low>\d+(?:\.\d+)?)(?:\s*[-~到至]\s*(?P<high>\d+(?:\.\d+)?))?"
    r"(?P<ge>个)?(?P<approx>多|余|来)?(?P<unit>分钟|小时|钟头|天|日|周|星期|礼拜|个月|年)"
)
_NOT_DURATION_BEFORE = re.compile(r"(\d月|\d年|第)$")  # 5月3日 is a date, 第3天 an ordinal
REPEAT_ORDINAL = re.compile(r"第(?P<n>\d+)次")
REPEAT_TIMES = re.compile(r"(?P<n>\d+)次(?:来电|反映|投诉|报修|打电话|致电|拨打|联系|上门|催办|催促|停电)")
REPEAT_WORD = re.compile(
    r"(再次|多次|屡次|反复|一再|三番五次|三番两次|又一次|重复|仍然|仍未|依然|依旧|还是没|又(?=[\u4e00-\u9fff]))"
)
DATE = re.compile(
    r"(?:(?P<year>\d{4})年)?(?P<month>\d{1,2})月(?P<day>\d{1,2})(?:日|号)"
    r"|(?P<iso>\d{4}[-/.]\d{1,2}[-/.]\d{1,2})"
    r"|(?P<rel>今天|昨天|前天|大前天|今早|今晚|昨晚|昨夜|前几天|上周|本周|上个月|这个月|本月|上月|去年|今年|当天)"
)
TIME = re.compile(
    r"(?P<period>上午|下午|晚上|早上|凌晨|中午|傍晚|夜里|半夜)?(?P<hour>\d{1,2})(?:点|时)(?:(?P<minute>\d{1,2})分?|(?P<half>半))?"
    r"|(?P<hh>\d{1,2}):(?P<mm>\d{2})"
)
MONEY = re.compile(r"(?<![\d.])(?P<value>\d+(?:,\d{3})*(?:\.\d+)?)(?P<unit>万元|元|块钱|块|毛)(?!钱表)")
ENERGY = re.compile(r"(?<![\d.])(?P<value>\d+(?:,\d{3})*(?:\.\d+)?)(?P<unit>度|千瓦时|kWh|kwh|KWH)")
METER_NO = re.compile(
    r"(?:表号|电表号|表计号|表计编号|电能表号|电能表编号|资产号|资产编号|条码号?|条形码)[是为:：]?\s*(?P<no>[0-9A-Za-z]{8,24})"
)


# literal prefilters (``rx.literal_prefilter``): a text without any unit / cue word skips the scan
_HAS_DURATION_UNIT = literal_prefilter(DURATION)
_HAS_REPEAT_TIMES = literal_prefilter(REPEAT_TIMES)
_HAS_MONEY_UNIT = literal_prefilter(MONEY)
_HAS_ENERGY_UNIT = literal_prefilter(ENERGY)
_HAS_METER_CUE = literal_prefilter(METER_NO)
_HAS_DATE_CUE = literal_prefilter(DATE)  # 月, -/. or a relative day word
_HAS_TIME_CUE = literal_prefilter(TIME)  # 点/时 or ":", and a digit (both forms need one)
_DIGIT = re.compile(r"\d")


def _numbered(prefilter: re.Pattern[str] | None, text: str) -> bool:
    """False only if a pattern that needs a digit and one of ``prefilter``'s strings cannot match:
    most appeals have no digit at all (a C scan), which rules out every numeric entity at once."""
    return _DIGIT.search(text) is not None and may_contain(prefilter, text)


@dataclass(frozen=True)
class Entity:
    kind: str
    text: str
    start: int
    end: int
    value: Any

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "value": self.value,
        }


def _number(text: str) -> float:
    value = float(text.replace(",", ""))
    return int(value) if value.is_integer() else value


def durations(text: str) -> list[Entity]:
    """Durations in minutes: 停了3个多小时 → 180 (approx), 2-3天 → 4320 (upper bound)."""
    found: list[Entity] = []
    if not _numbered(_HAS_DURATION_UNIT, text):
        return found
    for m in DURATION.finditer(text):
        unit = m["unit"]
        if _NOT_DURATION_BEFORE.search(text[max(0, m.start() - 2) : m.start()]):
            continue
        if unit == "日" and not m["ge"]:
            continue  # 3日 is almost always a date in agent text
        amount = float(m["high"] or m["low"])
        minutes = amount * _MINUTES[unit]
        found.append(
            Entity(
                "duration",
                m.group(0),
                m.start(),
                m.end(),
                {"minutes": round(minutes), "approx": bool(m["approx"] or m["high"])},
            )
        )
    return found


def repeats(text: str) -> list[Entity]:
    """Repeat-contact cues: explicit counts (第3次, 3次来电) and words (又, 再次, 多次)."""
    found = [
        Entity("repeat", m.group(0), m.start(), m.end(), {"count": int(m["n"]), "ordinal": True})
        for m in REPEAT_ORDINAL.finditer(text)
    ]
    ordinals = [(e.start, e.end) for e in found]
    if _numbered(_HAS_REPEAT_TIMES, text):
        found += [
            Entity("repeat", m.group(0), m.start(), m.end(), {"count": int(m["n"]), "ordinal": False})
            for m in REPEAT_TIMES.finditer(text)
            if not any(s <= m.start() < e for s, e in ordinals)
        ]
    taken = [(e.start, e.end) for e in found]
    for m in REPEAT_WORD.finditer(text):
        if not any(s <= m.start() < e for s, e in taken):
            found.append(
                Entity("repeat", m.group(0), m.start(), m.end(), {"count": None, "word": m.group(0)})
            )
    return found


def dates_and_times(text: str) -> list[Entity]:
    found: list[Entity] = []
    for m in DATE.finditer(text) if may_contain(_HAS_DATE_CUE, text) else ():
        if m["iso"]:
            value: dict[str, Any] = {"iso": re.sub(r"[/.]", "-", m["iso"])}
        elif m["rel"]:
            value = {"relative": m["rel"]}
        else:
            value = {
                "year": int(m["year"]) if m["year"] else None,
                "month": int(m["month"]),
                "day": int(m["day"]),
            }
            if not (1 <= value["month"] <= 12 and 1 <= value["day"] <= 31):
                continue
        found.append(Entity("date", m.group(0), m.start(), m.end(), value))
    for m in TIME.finditer(text) if _numbered(_HAS_TIME_CUE, text) else ():
        if m["hh"]:
            hour, minute = int(m["hh"]), int(m["mm"])
        else:
            hour = int(m["hour"])
            minute = 30 if m["half"] else int(m["minute"] or 0)
            if m["period"] in ("下午", "晚上", "傍晚", "夜里") and hour < 12:
                hour += 12
        if hour > 24 or minute > 59:
            continue
        if not m["hh"] and not m["period"] and not re.match(r"\d{1,2}(点|时)", text[m.start() :]):
            continue
        found.append(Entity("time", m.group(0), m.start(), m.end(), {"hour": hour, "minute": minute}))
    return found


def money(text: str) -> list[Entity]:
    found: list[Entity] = []
    if not _numbered(_HAS_MONEY_UNIT, text):
        return found
    for m in MONEY.finditer(text):
        value = _number(m["value"])
        if m["unit"] == "万元":
            value *= 10000
        elif m["unit"] == "毛":
            value /= 10
        found.append(Entity("money", m.group(0), m.start(), m.end(), {"yuan": value}))
    return found


def energy(text: str) -> list[Entity]:
    if not _numbered(_HAS_ENERGY_UNIT, text):
        return []
    return [
        Entity("energy", m.group(0), m.start(), m.end(), {"kwh": _number(m["value"])})
        for m in ENERGY.finditer(text)
    ]


def meter_numbers(text: str) -> list[Entity]:
    if not may_contain(_HAS_METER_CUE, text):
        return []
    return [
        Entity("meter_no", m["no"], m.start("no"), m.end("no"), {"meter_no": m["no"]})
        for m in METER_NO.finditer(text)
    ]


def addresses(text: str) -> list[Entity]:
    address = extract_address(text)
    if address is None:
        return []
    start, end = address.start, address.end
    return [Entity("address", text[start:end], start, end, address.region())]


def extract_entities(text: str, with_address: bool = True) -> list[Entity]:
    """Every entity kind, sorted by position."""
    found = durations(text) + repeats(text) + dates_and_times(text) + money(text) + energy(text)
    found += meter_numbers(text)
    if with_address:
        found += addresses(text)
    return sorted(found, key=lambda e: (e.start, e.end))
