from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from grid_appeals.text import classifier
from grid_appeals.text.seed_corpus import load_seed_corpus, seed_labels


@pytest.fixture(scope="module")
def model() -> classifier.TextClassifier:
    rows = load_seed_corpus()
    return classifier.train([r.text for r in rows], seed_labels(rows), cv_folds=0)


def test_seed_corpus_covers_taxonomy() -> None:
    rows = load_seed_corpus()
    assert len(rows) >= 2000
    assert {r.business_type for r in rows} == set(classifier.BUSINESS_TYPES)
    assert {r.complaint_class for r in rows if r.complaint_class} == set(classifier.COMPLAINT_CLASSES)
    assert {r.second_level for r in rows if r.second_level} == set(classifier.SECOND_LEVELS)
    assert all((r.complaint_class is None) == (r.business_type != "投诉") for r in rows)
    assert all(
        r.second_level is None or classifier.SECOND_LEVELS[r.second_level] == r.complaint_class for r in rows
    )


def test_seed_corpus_families_are_single_intent_and_numerous() -> None:
    """Grouped CV needs families that never mix labels and enough of them per class to stratify."""
    rows = load_seed_corpus()
    labels_of: dict[str, set[tuple[str, str | None]]] = {}
    for r in rows:
        labels_of.setdefault(r.family, set()).add((r.business_type, r.second_level))
    assert all(len(v) == 1 for v in labels_of.values())
    families_per_label = Counter(next(iter(v)) for v in labels_of.values())
    assert min(families_per_label.values()) >= 10, families_per_label.most_common()[-3:]


def test_seed_corpus_holds_the_hard_styles() -> None:
    """Misleading tags, very short texts, dialect and hotline transfers are all represented."""
    rows = load_seed_corpus()
    tag_names = {
        "投诉": "投诉",
        "咨询": "业务咨询",
        "建议": "建议",
        "意见": "意见",
        "表扬": "表扬",
        "报修": "故障报修",
    }
    misleading = [
        r
        for r in rows
        if (m := re.match(r"【([^】]*)】", r.text))
        and any(k in m.group(1) and v != r.business_type for k, v in tag_names.items())
    ]
    assert len(misleading) >= 80
    assert sum(len(r.text) <= 10 for r in rows) >= 100
    assert sum(any(w in r.text for w in ("咋", "啥", "咧", "额", "俺")) for r in rows) >= 150
    assert sum(("12345" in r.text or "12398" in r.text) for r in rows) >= 30


def test_misleading_tag_does_not_decide(model: classifier.TextClassifier) -> None:
    """The 【tag】 is a weak feature of its own: a tag contradicting the body does not decide."""
    texts = [
        "【业务咨询】营业厅那个工作人员对我大吼大叫，态度太恶劣了，我要投诉她",
        "【投诉】家里突然没电了，邻居家有电，麻烦派个师傅来修一下",
    ]
    predictions = model.predict(texts)
    assert [p["business_type"]["label"] for p in predictions] == ["投诉", "故障报修"]
    assert predictions[0]["complaint_class"]["label"] == "服务投诉"
    plain = model.predict([re.sub(r"^【[^】]*】", "", t) for t in texts])
    labels = [p["business_type"]["label"] for p in plain]
    assert labels == [p["business_type"]["label"] for p in predictions]


def test_predicts_with_confidence_and_resists_homophones(model: classifier.TextClassifier) -> None:
    predictions = model.predict(
        ["家里停店了，快派人来抢秀", "营业厅的人态度太差了，我要投诉", "建议停电前发短信通知每一户"]
    )
    assert [p["business_type"]["label"] for p in predictions] == ["故障报修", "投诉", "建议"]
    assert predictions[1]["complaint_class"]["label"] == "服务投诉"
    assert all(0 < p["business_type"]["confidence"] <= 1 for p in predictions)


def test_save_load_roundtrip_keeps_metadata(model: classifier.TextClassifier, tmp_path: Path) -> None:
    loaded = classifier.load(model.save(tmp_path / "m.joblib"))
    assert loaded.version == model.version and loaded.version.startswith("appeal-text-")
    assert len(loaded.metadata["training_data_sha256"]) == 64
    assert loaded.metadata["lexicon_fingerprint"]
    text = ["电表走得太快了，这个月电费翻倍"]
    assert loaded.predict(text) == model.predict(text)


def test_flag_disagreements(model: classifier.TextClassifier) -> None:
    predictions = model.predict(["家里停电了，快派人来修", "建议多设几个缴费点"])
    flagged = classifier.flag_disagreements(["表扬", "建议"], predictions, threshold=0.3)
    assert [f["index"] for f in flagged] == [0]
    assert flagged[0]["model_label"] == "故障报修"
    assert classifier.flag_disagreements(["表扬", "建议"], predictions, threshold=1.01) == []


def test_metrics_recorded_with_cv() -> None:
    rows = load_seed_corpus()[:120]
    fitted = classifier.train([r.text for r in rows], [r.business_type for r in rows], cv_folds=2)
    assert 0 <= fitted.metadata["metrics"]["business_type"]["accuracy"] <= 1
