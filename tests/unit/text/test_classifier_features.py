"""The classifier's vectorised features and single-matmul model equal their plain definitions.

Why these tests: prediction never builds n-gram strings or a feature matrix (issue 5's throughput
goal), so each shortcut is checked against the straightforward computation it replaces.
"""

from __future__ import annotations

import pickle
from collections import Counter
from itertools import pairwise

import numpy as np
import pytest

from grid_appeals.text import classifier
from grid_appeals.text.features import (
    CHAR1,
    NO_TAG,
    PINYIN1,
    PINYIN2,
    TAG,
    TAG2,
    WORD1,
    WORD2,
    Doc,
    KeyIndex,
    _id30,
    _syllable,
    doc_pinyin,
    hashed_keys,
    make_doc,
    syllable_table,
)
from grid_appeals.text.seed_corpus import load_seed_corpus, seed_labels

TRICKY_DOCS = [
    Doc("", ()),
    Doc("a", ("a",)),
    Doc("停电 了\t又停", ("停电", "又", "停")),
    Doc("\x00\x01\x02电", ("电",)),
    Doc("😀来电😀𠀀", ("来电",)),
    Doc(
        "客户来电反映家中停电，邻居家有电，要求尽快派人抢修。",
        ("来电", "反映", "停电", "邻居", "有电", "抢修"),
    ),
    Doc("客户来电反映家中停电", ("来电", "反映", "停电"), "停电报修"),
    Doc("电表坏", ("电表", "坏"), "x"),
]


def _reference_keys(doc: Doc) -> Counter[int]:
    """The feature keys of one document, built from strings the slow, obvious way."""
    keys: Counter[int] = Counter()
    codes = [max(ord(c) & 0xFFFFF, 3) for c in doc.text]
    framed = [1, *codes, 2]
    keys.update((CHAR1 << 60) | c for c in codes)
    for order in (2, 3):
        for i in range(len(framed) - order + 1):
            payload = 0
            for c in framed[i : i + order]:
                payload = (payload << 20) | c
            keys[((CHAR1 + order - 1) << 60) | payload] += 1
    ids = [_id30(t) for t in doc.tokens]
    keys.update((WORD1 << 60) | i for i in ids)
    keys.update((WORD2 << 60) | (a << 30) | b for a, b in pairwise(ids))
    syllables = [s for s in doc_pinyin(doc) if "_" not in s]
    sids = [_id30(s) for s in syllables]
    keys.update((PINYIN1 << 60) | i for i in sids)
    keys.update((PINYIN2 << 60) | (a << 30) | b for a, b in pairwise(sids))
    keys[(TAG << 60) | _id30(doc.tag or NO_TAG)] += 1
    keys.update((TAG2 << 60) | _id30(a + b) for a, b in pairwise(doc.tag))
    return keys


def test_hashed_keys_equal_the_string_definition() -> None:
    docs = TRICKY_DOCS + [make_doc(r.text) for r in load_seed_corpus()[:300]]
    got: list[Counter[int]] = [Counter() for _ in docs]
    for group in hashed_keys(docs):
        assert (np.diff(group.rows) >= 0).all(), "rows must come in document order"
        assert ((group.keys >> np.uint64(60)) == group.kind).all()
        for row, key in zip(group.rows.tolist(), group.keys.tolist(), strict=True):
            got[row][key] += 1
    for doc, counter in zip(docs, got, strict=True):
        assert counter == _reference_keys(doc), doc.text


def test_syllable_table_equals_pypinyin_on_every_cjk_character() -> None:
    table = syllable_table()
    for code in range(0x4E00, 0xA000):
        syllable = _syllable(chr(code))
        assert table[code] == (_id30(syllable) if syllable else 0), chr(code)
    assert not table[:0x4E00].any() and not table[0xA000:].any()


def test_key_index_is_exact_and_pickles() -> None:
    rng = np.random.default_rng(0)
    keys = rng.integers(1, 2**63, 50_000, dtype=np.uint64)
    index = KeyIndex(keys)
    assert len(index._levels) > 1, "the test should exercise collisions"
    columns = index.lookup(index.keys)
    np.testing.assert_array_equal(columns, np.arange(len(index)))
    unseen = rng.integers(1, 2**63, 20_000, dtype=np.uint64)
    unseen = unseen[~np.isin(unseen, index.keys)]
    assert (index.lookup(unseen) == -1).all()
    assert (index.lookup(np.zeros(3, dtype=np.uint64)) == -1).all(), "the sentinel key is never found"
    again = pickle.loads(pickle.dumps(index))
    np.testing.assert_array_equal(again.lookup(keys), index.lookup(keys))


@pytest.fixture(scope="module")
def model() -> classifier.TextClassifier:
    rows = load_seed_corpus()
    return classifier.train([r.text for r in rows], seed_labels(rows), cv_folds=0)


def test_scores_equal_the_weighted_matrix_product(model: classifier.TextClassifier) -> None:
    docs = TRICKY_DOCS + [make_doc(r.text) for r in load_seed_corpus()[::7]]
    plain = model.space.matrix(docs) @ (model.weights.astype(np.float64) / model.space.idf[:, None])
    np.testing.assert_allclose(model.space.scores(docs, model.weights), plain, atol=1e-4)
    # each view has the length of its weight when no feature repeats, longer when one does (raw counts)
    plain_docs = [Doc("停电了", ("停电", "了")), Doc("电表坏", ("电表", "坏"))]
    squares = np.asarray(model.space.matrix(plain_docs + docs[len(TRICKY_DOCS) :]).power(2).sum(axis=1)).ravel()
    unit = float(np.square(model.space.view_weights).sum())
    assert unit < 3.0  # the word view is down-weighted (classifier.VIEW_WEIGHTS); the tag view is modest
    np.testing.assert_allclose(squares[:2], unit)
    assert (squares[2:] >= unit - 1e-9).all()


def test_predictions_do_not_depend_on_the_batch(model: classifier.TextClassifier) -> None:
    docs = [make_doc(r.text) for r in load_seed_corpus()[:40]] + TRICKY_DOCS
    together = model.predict_docs(docs)
    alone = [model.predict_docs([d])[0] for d in docs]
    assert together == alone
    doubled = model.predict_docs(docs[:5] + docs[:5])
    assert doubled[:5] == doubled[5:] == together[:5]
    for target, probabilities in model.probabilities(docs).items():
        assert probabilities.shape == (len(docs), len(model.classes(target)))
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)


def test_platt_sigmoid_recovers_a_known_calibration() -> None:
    rng = np.random.default_rng(1)
    scores = rng.normal(0, 2, 40_000)
    positive = rng.random(40_000) < 1 / (1 + np.exp(-1.5 * scores + 0.4))
    a, b = classifier._platt(scores, positive)
    assert a == pytest.approx(-1.5, abs=0.08) and b == pytest.approx(0.4, abs=0.08)
