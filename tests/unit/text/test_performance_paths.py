"""The fast paths added for throughput (issue 5) must return exactly what the slow paths return."""

from __future__ import annotations

import re

import pytest

from grid_appeals.text import rx
from grid_appeals.text.preprocess import prepare_text
from grid_appeals.text.seed_corpus import load_seed_corpus
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


# ---- literal prefilters, fused segmentation, stacked TextRank, one-pass normalisation ----------
def _generated_texts(n: int = 1500) -> list[str]:
    """Appeals from the benchmark's generator (seed corpus variants and, if importable, the
    simulator's grammar), raw and prepared: the shapes the fast paths are tuned on."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[3] / "bench" / "bench_text.py"
    spec = importlib.util.spec_from_file_location("bench_text_for_tests", path)
    bench = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(bench)  # type: ignore[union-attr]
    records = bench.make_records(n, seed=3, source="mix")
    raw = [r["accept_content"] for r in records] + [r["handle_opinion"] for r in records]
    return raw + [prepare_text(t).text for t in raw]


@pytest.fixture(scope="module")
def generated_texts(corpus_texts: list[str]) -> list[str]:
    return corpus_texts + _generated_texts()


def test_required_literals() -> None:
    assert rx.required_literals("态度(恶劣|差)") == frozenset({"态度"})
    assert rx.required_literals("频繁停电|经常停电") == frozenset({"频繁停电", "经常停电"})
    assert rx.required_literals(r"\d+次(来电|反映)") == frozenset({"来电", "反映"})
    # either required group will do ([没未] is a character set after parsing)
    assert rx.required_literals(r"\d+个?(小时|天)(没|未)") in ({"小时", "天"}, {"没", "未"})
    assert rx.required_literals(r"\d+(没|未)") == frozenset({"没", "未"})
    for unbounded in (r"\d+", "a|.", "(?i)ab", "x?", r"[^a]+"):
        assert rx.required_literals(unbounded) is None, unbounded
    prefilter = rx.literal_prefilter("态度(恶劣|差)")
    assert rx.may_contain(prefilter, "服务态度差") and not rx.may_contain(prefilter, "停电")


def test_literal_prefilters_never_hide_a_match(generated_texts: list[str]) -> None:
    from grid_appeals.text import entities, numerals, pii
    from grid_appeals.text.normalise import _boilerplate
    from grid_appeals.text.sentiment import escalation_cues
    from grid_appeals.text.topics import topic_rules

    checks = [(p, rule.literals) for rule in topic_rules().rules for p in rule.cues]
    checks += [(cue.pattern, cue.literals) for cue in escalation_cues()]
    checks += list(_boilerplate())
    checks += [
        (entities.DURATION, entities._HAS_DURATION_UNIT),
        (entities.MONEY, entities._HAS_MONEY_UNIT),
        (entities.ENERGY, entities._HAS_ENERGY_UNIT),
        (entities.METER_NO, entities._HAS_METER_CUE),
        (entities.REPEAT_TIMES, entities._HAS_REPEAT_TIMES),
        (entities.DATE, entities._HAS_DATE_CUE),
        (entities.TIME, entities._HAS_TIME_CUE),
    ]
    checks += [
        (pii._NAME_BEFORE_TITLE, pii._HAS_TITLE),
        (pii._HOUSE_AFTER_HEAD, pii._HAS_ALNUM),
        (pii._HOUSE_CHAIN, pii._HAS_ALNUM),
        (pii._CN_DIGIT_RUN, pii._HAS_DIGIT_RUN),
        (pii._MIXED_DIGIT_RUN, pii._HAS_DIGIT_RUN),
        (numerals.DECIMAL, re.compile("点")),
        (numerals.HALF_HOUR, re.compile("半")),
    ]
    numeric = (entities.DURATION, entities.REPEAT_TIMES, entities.TIME, entities.MONEY, entities.ENERGY)
    checks += [(pattern, entities._DIGIT) for pattern in numeric]  # all need a digit
    assert sum(f is not None for _, f in checks) >= len(checks) - 2  # the filters do apply
    skipped = 0
    for text in generated_texts:
        for pattern, prefilter in checks:
            if pattern.search(text):
                assert rx.may_contain(prefilter, text), (pattern.pattern, text)
            elif not rx.may_contain(prefilter, text):
                skipped += 1
    assert skipped > len(generated_texts)  # and they do skip work


def test_fused_segmentation_equals_jieba(generated_texts: list[str]) -> None:
    from grid_appeals.text.segmenter import _RE_HAN, cut_block, get_tokenizer

    tokenizer = get_tokenizer()
    blocks = {piece for text in generated_texts for piece in _RE_HAN.split(text) if _RE_HAN.match(piece)}
    blocks |= {"", "a", "1", "停", "12.5%", "AB停电3号", "的的的的", "长安南路123号楼"}
    for block in blocks:
        assert cut_block(block) == tokenizer.lcut(block, HMM=True), block


def test_unrolled_hmm_equals_jieba_finalseg(generated_texts: list[str]) -> None:
    import random

    from jieba import finalseg

    from grid_appeals.text.segmenter import _hmm_cut

    rng = random.Random(5)
    chars = sorted(set("".join(generated_texts)))
    runs = {"", "a", "1", "停", "的的的的", "ab12.5%停电", "王建国来电", "㐀㐁停电"}
    for text in generated_texts[:2000]:
        start = rng.randrange(len(text) or 1)
        runs.add(text[start : start + rng.randint(1, 12)])
    runs |= {"".join(rng.choice(chars) for _ in range(rng.randint(1, 15))) for _ in range(5000)}
    _hmm_cut.cache_clear()
    for run in runs:
        assert _hmm_cut(run) == tuple(finalseg.cut(run)), run


def test_segmenter_table_matches_jieba_frequencies() -> None:
    """The dictionary table holds jieba's own log-probability for every word, and marks prefixes."""
    import math

    from grid_appeals.text.segmenter import _PREFIX, _get_dictionary, get_tokenizer

    tokenizer = get_tokenizer()
    table = _get_dictionary().logp
    assert len(table) == len(tokenizer.FREQ)
    logtotal = math.log(tokenizer.total)
    for word in ("停电", "表后线", "客户", "的", "电"):
        assert table[word] == math.log(tokenizer.FREQ[word]) - logtotal
    prefixes = [word for word, freq in tokenizer.FREQ.items() if not freq][:50]
    assert prefixes and all(table[word] == _PREFIX for word in prefixes)


def test_stacked_textrank_equals_single(generated_texts: list[str]) -> None:
    from grid_appeals.text.keywords import _textrank_single, candidates, textrank_many

    word_lists = [candidates(tokenize(text)) for text in generated_texts[:3000]]
    word_lists += [
        [],
        ["停电"],
        ["停电", "停电"],
        ["停电"] * 6 + ["电表"],
        [f"词{i % 450}" for i in range(2000)],
    ]
    assert textrank_many(word_lists) == [_textrank_single(w, 5, 5, 0.85, 30, 1e-4) for w in word_lists]
    assert textrank_many(word_lists, top_k=2, window=3) == [
        _textrank_single(w, 2, 3, 0.85, 30, 1e-4) for w in word_lists
    ]
    for top_k, window in ((1, 1), (1, 2), (8, 8)):
        assert textrank_many(word_lists[-300:], top_k=top_k, window=window) == [
            _textrank_single(w, top_k, window, 0.85, 30, 1e-4) for w in word_lists[-300:]
        ]
    assert textrank_many([]) == [] and textrank_many([[], []]) == [(), ()]


def _normalise_chars_reference(text: str) -> str:
    """``normalise_chars`` as it was before the one-pass character map (two translate passes,
    every ，：！？； through ASCII and back)."""
    from grid_appeals.text import normalise as n

    text = text.translate(n._FULL_TO_HALF).translate(n._PUNCT_MAP)
    text = n._t2s().convert(text) if not n._traditional_chars().isdisjoint(text) else text
    if "," in text:
        text = n._COMMA.sub("，", text)
    if ":" in text:
        text = n._COLON.sub("：", text)
    text = text.translate(n._SIMPLE_PUNCT)
    if "." in text or "…" in text or "。。" in text:
        text = n._ELLIPSIS.sub("…", text)
        if "." in text:
            text = n._PERIOD.sub("。", text)
    text = n._REPEATED_PUNCT.sub(r"\1", text)
    if not n._ANY_SPACE.search(text):
        return text
    text = n._SPACES.sub(" ", text).strip()
    return n._SPACE_NEAR_CJK.sub("", text) if " " in text else text


def test_one_pass_normalisation_equals_reference(generated_texts: list[str]) -> None:
    import random

    from grid_appeals.text.normalise import normalise_chars

    rng = random.Random(5)
    alphabet = "12３４,，:：!！?？;；。.…  　电停費電（）()“”—-a"
    fuzz = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(3000)]
    for text in [*generated_texts, *fuzz, "1，000元，12：30", "1,000，2：3", "電費１，２３４元！！"]:
        assert normalise_chars(text) == _normalise_chars_reference(text), repr(text)


def test_address_dicts_equal_dataclasses_asdict() -> None:
    import dataclasses

    from grid_appeals.text.address import Address, extract_address

    address = extract_address("客户反映西安市雁塔区长安南路*号停电")
    assert address is not None
    for value in (address, Address(None, "西安市", None, None, 0, 3)):
        assert list(value.as_dict().items()) == list(dataclasses.asdict(value).items())
        assert value.region() == {k: v for k, v in value.as_dict().items() if k not in ("start", "end")}


def test_fullwidth_guard_covers_the_translation_table() -> None:
    from grid_appeals.text import pii

    for code in pii._FULLWIDTH_DIGITS:
        assert pii._HAS_FULLWIDTH.search(f"电话{chr(code)}"), hex(code)
    assert pii.mask_pii("电话１３８１２３４５６７８").text == pii.mask_pii("电话13812345678").text


def test_rule_gates_never_hide_a_match(generated_texts: list[str]) -> None:
    from grid_appeals.text.sentiment import escalation_cues
    from grid_appeals.text.topics import topic_rules

    gated = [(p, rule.gate) for rule in topic_rules().rules for p in rule.cues]
    gated += [(cue.pattern, cue.gate) for cue in escalation_cues()]
    assert all(g is not None for _, g in gated)
    for text in generated_texts:
        for pattern, gate in gated:
            if pattern.search(text):
                assert gate(text) is not None, (pattern.pattern, text)
    first_only = rx.gate(None, frozenset("停断"))
    assert first_only("已断电") and first_only("电表") is None and rx.gate(None, None) is None


def test_tfidf_words_are_the_keywords_words(generated_texts: list[str]) -> None:
    from grid_appeals.text.keywords import IdfModel, tfidf_keywords, tfidf_words

    token_lists = [tokenize(text) for text in generated_texts[:2000]]
    idf = IdfModel.fit(token_lists[:500])
    for tokens in token_lists:
        for model in (idf, None):
            assert tfidf_words(tokens, model, 5) == [w for w, _ in tfidf_keywords(tokens, model, 5)]


def test_address_extraction_equals_cpca(generated_texts: list[str]) -> None:
    """cpca's extraction over the suffix index finds what it finds over its own automaton."""
    import random

    from grid_appeals.text.address import _extract_addrs, _SuffixIndex, cpca_module

    cpca = cpca_module()
    index = _SuffixIndex(cpca.matcher.ac)
    names = "".join(index.values)
    rng = random.Random(11)
    texts = [*generated_texts, "", "市", "西安", "陕西省西安市雁塔区", "吉林省吉林市", "朝阳区朝阳路"]
    texts += ["".join(rng.choice(names) for _ in range(rng.randint(1, 30))) for _ in range(3000)]
    fast = _extract_addrs()
    for text in texts:
        assert list(index.iter(text)) == list(cpca.matcher.ac.iter(text)), text
        assert next(fast(text, True, {})) == next(cpca._extract_addrs(text, True, {})), text
    assert cpca.matcher.ac is not index and type(cpca.matcher.ac).__name__ == "Automaton"


def test_candidate_finditer_equals_finditer(generated_texts: list[str]) -> None:
    from grid_appeals.text.sentiment import escalation_cues
    from grid_appeals.text.topics import topic_rules

    pairs = [(p, rule.starts) for rule in topic_rules().rules for p in rule.cues]
    pairs += [(cue.pattern, cue.starts) for cue in escalation_cues()]
    assert sum(starts is not None for _, starts in pairs) >= 5  # it does apply
    pairs += [(re.compile(p), rx.starts_search(re.compile(p))) for p in ("(?<!不)停电", "(a|b)c", "(ab)+")]
    for text in [*generated_texts, "abcbcabab", "不停电停电"]:
        for pattern, starts in pairs:
            got = [m.span() for m in rx.finditer(pattern, starts, text)]
            assert got == [m.span() for m in pattern.finditer(text)], (pattern.pattern, text)
    assert rx.starts_search(re.compile("停电|断电")) is None  # re skips by itself there


def test_stacked_rounding_equals_python_round() -> None:
    """The vectorised ranking equals ``_rank`` (Python's round), also at rounding halves."""
    import random

    import numpy as np

    from grid_appeals.text.keywords import _Graphs, _rank, _rank_stacked

    rng = random.Random(4)
    words = [["甲", "乙", "丙", "丁"]] * 6
    graphs = _Graphs(words, 5)
    rows = [
        [1.0, 0.12345, 0.5, 0.123449],  # 1234.5 (and below it): a half, Python's round decides
        [2.0, 1.0, 1.0, 0.5],  # exact ties keep first occurrence
        [0.3, 0.3000000001, 0.2999999, 0.1],
        *([rng.random() for _ in range(4)] for _ in range(3)),
    ]
    values = np.array(rows)
    for top_k in (1, 2, 4):
        results: list = [None] * len(rows)
        _rank_stacked(values, list(range(len(rows))), graphs, top_k, results)
        assert results == [_rank(["甲", "乙", "丙", "丁"], [0, 1, 2, 3], row, top_k) for row in rows]
