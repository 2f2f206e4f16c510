"""Label-noise cleaning of agent-labelled history and the escalation-threat marker (issue 5).

Cleaning: an out-of-fold model (trained on the other untrusted rows + every trusted row) judges each
untrusted row; a label it contradicts with p ≥ threshold is dropped before the final fit. Planted
mislabels must go, consistent labels must stay, and trusted rows are never judged.
"""

from __future__ import annotations

import numpy as np
import pytest

from grid_appeals.text import classifier
from grid_appeals.text.features import THREAT_MARKER, make_doc, mark_threats
from grid_appeals.text.seed_corpus import load_seed_corpus, seed_labels
from grid_appeals.text.training import fit_with_seed_corpus

# untrusted "history": agent-style repair orders, written here (not in the seed corpus)
REPAIRS = [
    "客户来电反映家中突然没电，邻居家也没电，要求派人抢修。",
    "客户反映小区三号楼全楼停电已一个多小时，要求尽快恢复供电。",
    "客户来电称家里总闸跳了合不上，要求电工上门检修。",
    "客户反映门口电线杆上的线断了掉在地上，要求马上处理。",
    "客户称表箱冒烟有焦糊味，已断开开关，要求抢修。",
    "客户来电反映村里变压器响了一声后全村停电，要求抢修。",
    "客户反映家里灯一闪一闪的，电压不稳，要求派人检查线路。",
    "客户称屋里一半有电一半没电，怀疑缺相，要求检修。",
    "客户来电反映楼道配电箱跳闸，整层无电，要求处理。",
    "客户反映大风刮断了进户线，家中停电，要求尽快修复。",
    "客户来电称商铺停电，冰柜里的货要坏了，要求抢修。",
    "客户反映雷雨后家里没电了，其他户有电，要求派人查看。",
]
PRAISES = [
    "客户来电表扬抢修师傅半夜赶来修好了线路，服务很好。",
    "客户表扬营业厅工作人员耐心帮忙办理业务，态度热情。",
    "客户来电感谢台区经理上门帮忙检查线路，特此表扬。",
    "客户表扬客服人员解答耐心细致，问题很快解决。",
]
PLANTED = 3  # index into REPAIRS of the repair whose agent label is planted as 表扬


@pytest.fixture(scope="module")
def seed():
    return load_seed_corpus()


def _history() -> tuple[list[str], dict[str, list[str | None]]]:
    texts = REPAIRS + PRAISES
    business = ["故障报修"] * len(REPAIRS) + ["表扬"] * len(PRAISES)
    business[PLANTED] = "表扬"
    return texts, {"business_type": business, "complaint_class": [None] * len(texts),
                   "second_level": [None] * len(texts)}


@pytest.fixture(scope="module")
def contradicted(seed):
    texts, labels = _history()
    all_texts = texts + [r.text for r in seed]
    seed_lab = seed_labels(seed)
    all_labels = {t: labels[t] + seed_lab[t] for t in labels}
    # a trusted row that the model will disagree with: trusted rows must never be judged
    all_texts.append(REPAIRS[0] + "再说一遍。")
    for t in all_labels:
        all_labels[t].append({"business_type": "表扬"}.get(t))
    trusted = [False] * len(texts) + [True] * (len(all_texts) - len(texts))
    docs = [make_doc(t) for t in all_texts]
    return classifier.contradicted_labels(docs, all_labels, trusted), len(texts), len(all_texts)


def test_planted_mislabel_is_flagged_and_consistent_labels_are_kept(contradicted) -> None:
    masks, n_history, _ = contradicted
    business = masks["business_type"]
    assert business[PLANTED], "a repair order labelled 表扬 must be contradicted"
    kept = [i for i in range(n_history) if i != PLANTED]
    assert not business[kept].any(), [i for i in kept if business[i]]


def test_trusted_rows_are_never_judged(contradicted) -> None:
    masks, n_history, n_all = contradicted
    for mask in masks.values():
        assert not mask[n_history:n_all].any()


def test_clean_labels_cascades_down_the_hierarchy() -> None:
    labels = {
        "business_type": ["投诉", "投诉", "投诉", "故障报修"],
        "complaint_class": ["服务投诉", "服务投诉", "营业投诉", None],
        "second_level": ["服务态度", "服务态度", "电费电价", None],
    }
    masks = {
        "business_type": np.array([True, False, False, False]),
        "complaint_class": np.array([False, True, False, False]),
        "second_level": np.array([False, False, False, False]),
    }
    cleaned, dropped = classifier.clean_labels(labels, masks)
    assert cleaned["business_type"] == [None, "投诉", "投诉", "故障报修"]
    assert cleaned["complaint_class"] == [None, None, "营业投诉", None]
    assert cleaned["second_level"] == [None, None, "电费电价", None]
    assert dropped == {"business_type": 1, "complaint_class": 2, "second_level": 2}


def test_production_training_cleans_history_but_not_the_seed_corpus(seed) -> None:
    texts, labels = _history()
    model = fit_with_seed_corpus(texts, labels, seed, version="t")
    cleaning = model.metadata["label_cleaning"]
    assert cleaning["untrusted_rows"] == len(texts)
    assert 1 <= cleaning["dropped"]["business_type"] <= 2
    raw = fit_with_seed_corpus(texts, labels, seed, version="t", clean=False)
    assert raw.metadata["label_cleaning"] is None
    assert model.predict([REPAIRS[PLANTED]])[0]["business_type"]["label"] == "故障报修"


# ---- threat marker --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "客户称如不解决将向12398投诉",
        "客户称将向媒体反映",
        "再不来电我就找记者",
        "出了事额就起诉你们",
        "你们再不管额就向媒体曝光",
        "抢修太慢了，额要投诉！",
    ],
)
def test_threat_clauses_become_one_marker(text: str) -> None:
    doc = mark_threats(make_doc(text))
    assert THREAT_MARKER in doc.text and THREAT_MARKER in doc.tokens
    assert "12398" not in doc.text and "媒体" not in doc.text and "记者" not in doc.text
    assert doc.text.count(THREAT_MARKER) == 1


@pytest.mark.parametrize(
    "text",
    ["客户投诉抢修人员态度差", "客户再次来电反映停电", "也不是投诉，就是提个建议", "不是要投诉，就是问问",
     "如何在网上国网交电费"],
)
def test_complaint_wording_and_repeats_are_not_threats(text: str) -> None:
    doc = make_doc(text)
    assert mark_threats(doc) is doc


def test_threat_does_not_turn_a_repair_into_a_complaint(seed) -> None:
    model = classifier.train([r.text for r in seed], seed_labels(seed), cv_folds=0)
    base = "客户来电反映全村停电三个多小时，要求尽快派人抢修"
    for threat in ("，否则要向12398投诉", "，再不来就找媒体曝光"):
        p = model.predict([base + threat])[0]["business_type"]
        assert p["label"] == "故障报修", (threat, p)
