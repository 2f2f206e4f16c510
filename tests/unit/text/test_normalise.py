from __future__ import annotations

import pytest

from grid_appeals.text.normalise import normalise, normalise_chars, split_tags
from grid_appeals.text.numerals import convert_numerals


def test_full_width_traditional_and_punctuation() -> None:
    assert normalise_chars("客戶來電，電話１２３ＡＢＣ！！！") == "客户来电，电话123ABC！"
    assert normalise_chars("客户 来电 反映 , 停电了!") == "客户来电反映，停电了！"
    # digit separators and clock times are not sentence punctuation
    assert normalise_chars("电费1,000元 12:30停电") == "电费1,000元12:30停电"


def test_tags_are_split_off() -> None:
    tags, body = split_tags("【停电报修】【敏感】客户来电")
    assert tags == ["停电报修", "敏感"] and body == "客户来电"
    result = normalise("【电费咨询】客户咨询电费。请相关单位及时核实处理并回复客户。")
    assert result.tag == "电费咨询"
    assert result.text == "客户咨询电费。"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("停了三个小时", "停了3小时"),
        ("两天没电", "2天没电"),
        ("第三次来电", "第3次来电"),
        ("三个多小时", "3个多小时"),
        ("一个半小时", "1.5小时"),
        ("半个小时", "0.5小时"),
        ("三个月", "3个月"),
        ("五月三号晚上八点半", "5月3号晚上8点半"),
        ("电费二百五十元", "电费250元"),
        ("用了三百度电", "用了300度电"),
        # words, not quantities
        ("三天两头停电", "三天两头停电"),
        ("一户一表改造", "一户一表改造"),
        ("一点电都没有", "一点电都没有"),
        ("一直没人来", "一直没人来"),
        ("两三天", "两三天"),
    ],
)
def test_numerals_only_where_they_are_quantities(raw: str, expected: str) -> None:
    assert convert_numerals(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("网上国网APP渠道：想问一下昨晚停电咋回事", "想问一下昨晚停电咋回事"),
        ("微信公众号留言：表扬抢修师傅", "表扬抢修师傅"),
        ("掌上电力渠道: 电费咋这么高", "电费咋这么高"),
        # only a head at the start is boilerplate; the app as a subject of the appeal stays
        ("客户反映网上国网APP渠道：无法缴费", "客户反映网上国网APP渠道：无法缴费"),
        ("网上国网：绑定户号失败", "网上国网：绑定户号失败"),
    ],
)
def test_channel_heads_are_boilerplate(raw: str, expected: str) -> None:
    assert normalise(raw).text == expected
