"""The fast paths added for throughput (issue 5) must return exactly what the slow paths return."""

from __future__ import annotations

import re

import numpy as np
import pytest

from grid_appeals.text import rx
from grid_appeals.text.preprocess import prepare_text
from grid_appeals.text.seed_corpus import load_seed_corpus, seed_labels
from grid_appeals.text.segmenter import clause_cache_info, clear_clause_cache, segment, tokenize

TRICKY = [
    "",
    "   ",
    "停电\t了\r\n又停",
    "客户[手机号]来电，电表号12345678A反映 AB-12 跳闸!!",
    "😀来电😀",
    "㐀㐁停电",
    "3.5度电，1,000元，12:30到13:00",
    "a+b#c&d_e%f-g",
    "﻿零 〇 一二〇",
]


@pytest.fixture(scope="module")
def corpus_texts() -> list[str]:
    raw = [row.text for row in load_seed_corpus()]
    return raw + [prepare_text(t).text for t in raw] + TRICKY


def test_clause_cache_gives_the_same_segmentation_as_whole_text_jieba(corpus_texts: list[str]) -> None:
    clear_clause_cache()
    for text in corpus_texts:
        assert segment(text) == segment(text, cache=False), text
        assert tokenize(text) == tokenize(text, cache=False), text
    for text in corpus_texts:  # second pass: served from the cache, still identical
        assert tokenize(text) == tokenize(text, cache=False), text
        assert tokenize(text, hmm=False) == tokenize(text, hmm=False, cache=False), text


def test_clause_cache_hits_on_repeated_clauses() -> None:
    clear_clause_cache()
    tokenize("客户来电反映家中停电，要求尽快处理。")
    first = clause_cache_info()
    tokenize("客户来电反映电费太高，要求尽快处理。")
    second = clause_cache_info()
    assert second.hits - first.hits >= 2  # "要求尽快处理" and the punctuation
    assert second.misses - first.misses == 1  # only the new clause is segmented by jieba
    assert 0 < second.hit_rate < 1


def test_lexicon_reload_empties_the_clause_cache() -> None:
    from grid_appeals.text import lexicons

    tokenize("表后线老化")
    assert clause_cache_info().size > 0
    lexicons.reload_lexicons()
    assert clause_cache_info().size == 0


def test_first_chars_of_patterns() -> None:
    assert rx.first_chars(re.compile("停电|断电")) == frozenset("停断")
    assert rx.first_chars("(没有|未)?通知") == frozenset("没未通")
    assert rx.first_chars(r"[a-c]x") == frozenset("abc")
    assert rx.first_chars(r"(?<!不)停电") == frozenset("停")
    for unbounded in (r"\d+次", r".{0,3}停电", "a*", r"[^x]y", "(?i)ab"):
        assert rx.first_chars(unbounded) is None, unbounded


def test_prefilters_never_hide_a_match(corpus_texts: list[str]) -> None:
    from grid_appeals.text.sentiment import escalation_cues
    from grid_appeals.text.topics import topic_rules

    patterns = [(p, rule.prefilter) for rule in topic_rules().rules for p in rule.cues]
    patterns += [(cue.pattern, cue.prefilter) for cue in escalation_cues()]
    assert sum(f is not None for _, f in patterns) >= len(patterns) // 2  # the filter does apply
    for text in corpus_texts:
        chars = set(text)
        for pattern, prefilter in patterns:
            if pattern.search(text):
                assert rx.may_match(prefilter, chars), (pattern.pattern, text)


def test_fast_classifier_path_equals_sklearn() -> None:
    from grid_appeals.text import classifier
    from grid_appeals.text.features import make_doc

    rows = load_seed_corpus()
    model = classifier.train([r.text for r in rows], seed_labels(rows), cv_folds=0)
    docs = [make_doc(r.text) for r in rows] + [make_doc("电表 走得 快  "), make_doc("")]
    fast = model._probabilities(docs)
    assert isinstance(model._fast, classifier._FastPredictor)
    for target, pipeline in model.models.items():
        np.testing.assert_allclose(fast[target], pipeline.predict_proba(docs), atol=1e-9)
    # duplicates in a batch are scored once and get the same answer
    doubled = model.predict_docs(docs[:5] + docs[:5])
    assert doubled[:5] == doubled[5:] == model.predict_docs(docs[:5])


def test_char_wb_ngrams_match_sklearn() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    from grid_appeals.text.classifier import _char_wb_ngrams

    analyzer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), lowercase=False).build_analyzer()
    for text in ["客户来电反映停电", "a", "ab  c\td", "", "电表 走得快 ", "x y"]:
        assert sorted(_char_wb_ngrams(text, 1, 3)) == sorted(analyzer(text)), text
