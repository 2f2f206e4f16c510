from __future__ import annotations

from grid_appeals.text.address import extract_address, match_org
from grid_appeals.text.entities import extract_entities
from grid_appeals.text.preprocess import prepare_text

TEXT = prepare_text(
    "客户第三次来电反映：西安市雁塔区长安南路3号院，5月12号晚上八点半开始停电，停了三个多小时，"
    "又停了。电表号0000123456789012345678，电费二百五十元，用了300度电。"
).text


def by_kind(kind: str) -> list[dict]:
    return [e.as_dict() for e in extract_entities(TEXT) if e.kind == kind]


def test_spans_point_into_the_prepared_text() -> None:
    for entity in extract_entities(TEXT):
        assert TEXT[entity.start : entity.end] == entity.text


def test_values() -> None:
    assert by_kind("duration")[0]["value"] == {"minutes": 180, "approx": True}
    repeats = by_kind("repeat")
    assert repeats[0]["value"]["count"] == 3 and any(r["text"] == "又" for r in repeats)
    assert len([r for r in repeats if r["value"]["count"] == 3]) == 1
    assert by_kind("date")[0]["value"] == {"year": None, "month": 5, "day": 12}
    assert by_kind("time")[0]["value"] == {"hour": 20, "minute": 30}
    assert by_kind("money")[0]["value"] == {"yuan": 250}
    assert by_kind("energy")[0]["value"] == {"kwh": 300}
    assert by_kind("meter_no")[0]["text"] == "0000123456789012345678"
    address = by_kind("address")[0]
    assert address["value"]["district"] == "雁塔区" and address["text"].startswith("西安市雁塔区长安南路")


def test_dates_are_not_durations() -> None:
    assert not [e for e in extract_entities("5月3日停电") if e.kind == "duration"]


def test_address_only_with_cue_and_org_hook() -> None:
    assert extract_address("家里没电了") is None
    address = extract_address("咸阳三原县大程镇王家村3组没电")
    assert address is not None and address.city == "咸阳市" and address.district == "三原县"
    assert match_org(address, {"三原": "61040301"}) == "61040301"
    assert match_org(address, {"三原县": "X"}) == "X"
    assert match_org(None, {"三原县": "X"}) is None
