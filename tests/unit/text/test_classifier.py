from __future__ import annotations

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
    assert len(rows) >= 300
    assert {r.business_type for r in rows} == set(classifier.BUSINESS_TYPES)
    assert {r.complaint_class for r in rows if r.complaint_class} == set(classifier.COMPLAINT_CLASSES)
    assert all((r.complaint_class is None) == (r.business_type != "投诉") for r in rows)


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
