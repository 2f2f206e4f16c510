from __future__ import annotations

from pathlib import Path

import pytest

from grid_appeals.text import lexicons
from grid_appeals.text.segmenter import segment, tokenize


def test_lexicon_sizes() -> None:
    assert len(lexicons.business_terms()) >= 500
    assert len(lexicons.synonyms()) >= 150
    assert len(lexicons.stopwords()) >= 100
    assert all(t.freq and t.pos for t in lexicons.business_terms())


def test_business_terms_and_synonyms_shape_tokens() -> None:
    assert "表后线" in segment("表后线老化")
    tokens = tokenize("客户反映电彪跑快，三天两头跳闸")
    assert "电表" in tokens and "停电" in tokens and "电彪" not in tokens
    assert "客户" not in tokens  # stopword
    for variant in ("断电", "没电", "掉电", "跳闸"):
        assert lexicons.synonyms()[variant] == "停电"


def test_a_new_user_term_changes_segmentation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = "客户家的吉祥如意光伏板坏了"
    assert "吉祥如意光伏板" not in segment(text)
    (tmp_path / "extra.txt").write_text("# test term\n吉祥如意光伏板 3000 nz\n", encoding="utf-8")
    monkeypatch.setattr(lexicons, "USER_TERMS_DIR", tmp_path)
    lexicons.reload_lexicons()
    try:
        assert "吉祥如意光伏板" in segment(text)
    finally:
        monkeypatch.undo()
        lexicons.reload_lexicons()
    assert "吉祥如意光伏板" not in segment(text)
