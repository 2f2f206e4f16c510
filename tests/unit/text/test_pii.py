from __future__ import annotations

import pytest

from grid_appeals.text.pii import mask_pii
from grid_appeals.text.preprocess import prepare_text


@pytest.mark.parametrize(
    ("raw", "kind", "secret"),
    [
        ("客户电话13812345678", "mobile", "13812345678"),
        ("联系电话：138 1234 5678", "mobile", "1234"),
        ("手机+86 139-1234-5678", "mobile", "139"),
        ("86 13812345678", "mobile", "13812345678"),
        ("１３８１２３４５６７８", "mobile", "5678"),
        ("客户13812345678来电", "mobile", "13812345678"),
        ("手机号幺三八一二三四五六七八", "mobile", "幺三八"),
        ("座机029-88886666", "landline", "88886666"),
        ("座机(029)88886666", "landline", "88886666"),
        ("电话12345678", "landline", "12345678"),
        ("身份证610102199001011234", "id_card", "19900101"),
        ("身份证号61010219900101123X", "id_card", "123X"),
        ("银行卡6222 0212 3456 7890 123", "bank_card", "6222"),
        ("户号6100123456", "account", "6100123456"),
        ("户号：0012345678", "account", "0012345678"),
    ],
)
def test_personal_numbers_are_masked(raw: str, kind: str, secret: str) -> None:
    result = mask_pii(raw)
    assert result.counts[kind] == 1, result
    assert secret not in result.text


@pytest.mark.parametrize(
    "raw",
    [
        "电费50元，停了3小时",
        "用电量1234567度",
        "表码123456.78",
        "2024-05-01停电",
        "2024年5月1日12:30",
        "5月12号停电",
        "电价0.54元",
        "金额1,000元",
        "电表号0000123456789012345678",
        "工单号2024050112345678",
        "王家村3组",
        "客户多次来电",
        "客户高度不满",
        "客户王某反映",
    ],
)
def test_no_false_positives(raw: str) -> None:
    result = mask_pii(raw)
    assert result.text == raw and not result.counts


def test_date_glued_to_phone_keeps_the_date() -> None:
    assert mask_pii("2024-05-01 13812345678").text == "2024-05-01 [手机号]"


def test_names_keep_surname_only() -> None:
    assert mask_pii("客户张建国来电反映").text == "客户张某来电反映"
    assert mask_pii("李建华先生").text == "李某先生"
    assert mask_pii("户主杨建军家").text == "户主杨某家"
    assert mask_pii("王女士反映").text == "王女士反映"  # a surname alone identifies nobody


def test_house_numbers_keep_street() -> None:
    assert mask_pii("西安市雁塔区长安南路123号3栋2单元502室").text == "西安市雁塔区长安南路*号*栋*单元*室"
    assert mask_pii("住在5栋2单元301").text == "住在*栋*单元*"


def test_prepare_masks_before_anything_else() -> None:
    prepared = prepare_text("【停电报修】客戶李建國來電，電話１３８ １２３４ ５６７８，停電三個多小時")
    assert prepared.tag == "停电报修"
    assert "1234" not in prepared.text and "建国" not in prepared.text
    assert prepared.text.endswith("停电3个多小时")


def test_mobile_masked_even_with_misspelt_cue_and_glued_unit() -> None:
    """Found by the marts' GX gate: 联系店话 (typo of 电话) + a number glued to 户号 leaked."""
    from grid_appeals.text.preprocess import prepare_text

    out = prepare_text("电表职示灯常亮。联系店话：13826687718户号：6100000001。").text
    assert "13826687718" not in out and "6100000001" not in out
    assert prepare_text("停电影响3户").text == "停电影响3户"
