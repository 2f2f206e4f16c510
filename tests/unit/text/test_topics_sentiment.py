from __future__ import annotations

import pytest

from grid_appeals.text.sentiment import score_text
from grid_appeals.text.topics import match_topics


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("客户反映最近经常停电", {"频繁停电"}),
        ("客户家里没有停电，咨询电费", set()),
        ("停电没有提前通知", {"停电未通知"}),
        ("客户第3次来电反映抢修人员一直没来", {"抢修超时", "重复诉求"}),
        ("电表走快，电费偏高", {"计量装置", "电费争议"}),
        ("工作人员态度恶劣还挂电话", {"服务态度"}),
        ("工作人员态度不差", set()),
        ("灯泡发暗，空调带不动", {"电压低"}),
        ("报装2个月了还没装表", {"业扩超时"}),
        ("营业厅排队等了1个多小时", {"营业服务"}),
        ("上门人员未着工装", {"服务规范"}),
    ],
)
def test_topics(text: str, expected: set[str]) -> None:
    assert {hit["topic"] for hit in match_topics(text)} == expected


def test_urgency_is_explainable() -> None:
    result = score_text("家里有老人用呼吸机，第3次来电，再不来就打12398")
    cues = {c["cue"]: c["weight"] for c in result["cues"]}
    assert {"medical", "vulnerable", "repeat", "regulator_12398"} <= set(cues)
    assert result["points"] == pytest.approx(sum(cues.values()))
    assert result["level"] == "high"
    calm = score_text("客户咨询电费怎么交")
    assert calm["score"] == 0 and calm["cues"] == []


def test_negated_threat_does_not_fire() -> None:
    assert score_text("我不会投诉的，只是问问")["cues"] == []
    assert score_text("再不修好就去投诉")["cues"]
