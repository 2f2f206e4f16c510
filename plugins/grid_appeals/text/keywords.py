"""Keywords per appeal: TF-IDF with an IDF learned from the appeal corpus, and TextRank.

jieba's bundled IDF comes from general news text, where 停电 or 电表 are rare and therefore look
important in every appeal. Fitting the IDF on our own corpus makes the ubiquitous domain words
cheap and surfaces what is specific to one appeal (表后线, 呼吸机, 业扩). TextRank is implemented
on our own tokens (jieba.analyse.TextRank would re-segment with the global tokenizer).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from itertools import chain
from operator import itemgetter
from pathlib import Path

import numpy as np

MIN_KEYWORD_LEN = 2
_DIRECT_SOLVE_MAX = 400  # graphs up to this many nodes are solved exactly (dense n×n is cheap)


_PLACE_SUFFIX = re.compile(r"(省|市|区|县|镇|乡|路|街|巷)$")


@lru_cache(maxsize=1)
def _mask_words() -> frozenset[str]:
    """Labels of PII masks ("[手机号]" is segmented as [, 手机号, ]): placeholders, not keywords."""
    from grid_appeals.text.pii import MASKS

    return frozenset(label.strip("[]") for label in MASKS.values())


@lru_cache(maxsize=1)
def _business_words() -> frozenset[str]:
    from grid_appeals.text.lexicons import business_terms

    return frozenset(t.word for t in business_terms())


@lru_cache(maxsize=1 << 16)
def _candidate(token: str) -> bool:
    """Keyword candidates: no masks, masked names (张某), numbers or place names (they are entities).

    Memoised per token (the vocabulary of appeals is small): the regex test then runs once per
    distinct word instead of once per token, for both TF-IDF and TextRank.
    """
    if len(token) < MIN_KEYWORD_LEN or token.startswith("[") or token.endswith("某") or token.isdigit():
        return False
    if token in _mask_words():
        return False
    return not (_PLACE_SUFFIX.search(token) and token not in _business_words())


def candidates(tokens: Sequence[str]) -> list[str]:
    """The tokens that may be keywords, in text order (shared by TF-IDF and TextRank)."""
    return list(filter(_candidate, tokens))


@dataclass
class IdfModel:
    """Inverse document frequencies fitted on tokenised appeals; unknown words get ``default_idf``."""

    idf: dict[str, float] = field(default_factory=dict)
    n_docs: int = 0
    default_idf: float = 1.0

    @classmethod
    def fit(cls, documents: Iterable[Sequence[str]], min_df: int = 1) -> IdfModel:
        df: Counter[str] = Counter()
        n_docs = 0
        for tokens in documents:
            n_docs += 1
            df.update(set(tokens))
        idf = {w: math.log((n_docs + 1) / (c + 1)) + 1.0 for w, c in df.items() if c >= min_df}
        # unseen words are treated as rarer than anything seen: one document's worth of df
        default = math.log((n_docs + 1) / 1) + 1.0
        return cls(idf, n_docs, default)

    def save(self, path: str | Path) -> Path:
        """TSV ``word<TAB>idf`` (jieba's IDF file format, plus a comment header)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = [
            f"# n_docs={self.n_docs} default_idf={self.default_idf:.6f} "
            f"fitted_at={datetime.now(UTC).isoformat(timespec='seconds')}"
        ]
        lines += [f"{w}\t{v:.6f}" for w, v in sorted(self.idf.items(), key=lambda kv: (kv[1], kv[0]))]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> IdfModel:
        idf: dict[str, float] = {}
        n_docs, default = 0, None
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if line.startswith("#"):
                for part in line[1:].split():
                    key, _, value = part.partition("=")
                    if key == "n_docs":
                        n_docs = int(value)
                    elif key == "default_idf":
                        default = float(value)
                continue
            if line.strip():
                word, value = line.rsplit(maxsplit=1)
                idf[word] = float(value)
        if default is None:
            default = max(idf.values(), default=1.0)
        return cls(idf, n_docs, default)


def tfidf_keywords(
    tokens: Sequence[str], idf: IdfModel | None, top_k: int = 5, words: Sequence[str] | None = None
) -> list[tuple[str, float]]:
    """Top-k (word, weight) by term frequency × corpus IDF (plain frequency without an IDF).

    Ties are broken by first occurrence, so the result is deterministic. ``words`` are the
    tokens' ``candidates`` when the caller already has them.
    """
    return [(w, round(s, 4)) for w, s in _tfidf_ranked(tokens, idf, words)[:top_k]]


def tfidf_words(
    tokens: Sequence[str], idf: IdfModel | None, top_k: int = 5, words: Sequence[str] | None = None
) -> list[str]:
    """The words of ``tfidf_keywords`` (what the pipeline stores), without rounding the weights."""
    return [w for w, _ in _tfidf_ranked(tokens, idf, words)[:top_k]]


def _tfidf_ranked(
    tokens: Sequence[str], idf: IdfModel | None, words: Sequence[str] | None
) -> list[tuple[str, float]]:
    """Every candidate with its TF-IDF weight, highest first (equal weights by first occurrence)."""
    if words is None:
        words = candidates(tokens)
    if not words:
        return []
    counts: dict[str, int] = {}  # insertion order = first occurrence (a Counter, without its overhead)
    for word in words:
        counts[word] = counts.get(word, 0) + 1
    total = len(words)
    if idf:
        weight, default = idf.idf.get, idf.default_idf
        scored = [(w, c / total * weight(w, default)) for w, c in counts.items()]
    else:
        scored = [(w, c / total * 1.0) for w, c in counts.items()]
    scored.sort(key=itemgetter(1), reverse=True)  # stable: equal weights keep first-occurrence order
    return scored


def textrank_keywords(
    tokens: Sequence[str],
    top_k: int = 5,
    window: int = 5,
    damping: float = 0.85,
    iterations: int = 30,
    tol: float = 1e-4,
) -> list[tuple[str, float]]:
    """Top-k (word, score) by PageRank over the co-occurrence graph of candidate tokens.

    ``iterations``/``tol`` only apply to graphs too large to solve exactly (see ``textrank_many``).
    """
    return list(_textrank(tuple(tokens), top_k, window, damping, iterations, tol))


@lru_cache(maxsize=32768)
def _textrank(
    tokens: tuple[str, ...], top_k: int, window: int, damping: float, iterations: int, tol: float
) -> tuple[tuple[str, float], ...]:
    return textrank_many([candidates(tokens)], top_k, window, damping, iterations, tol)[0]


def _pairs(words: Sequence[str], window: int) -> tuple[list[str], list[int]]:
    """Node names (first-occurrence order) and each co-occurrence (a before b within the window,
    a ≠ b) as a flat index a·n+b into the n×n count matrix."""
    first: dict[str, int] = {}
    for word in words:
        first.setdefault(word, len(first))  # node id = order of first occurrence
    n = len(first)
    ids = [first[w] for w in words]
    flat = [
        a * n + b for offset in range(1, window) for a, b in zip(ids, ids[offset:], strict=False) if a != b
    ]
    return list(first), flat


class _Graphs:
    """Co-occurrence graphs of many appeals, built together with numpy (what ``_pairs`` gives for
    each, without a Python loop per word): per appeal its node count, its node names and its
    number of co-occurrences; ``counts`` stacks the count matrices of appeals of equal size."""

    def __init__(self, word_lists: Sequence[Sequence[str]], window: int) -> None:
        docs = len(word_lists)
        self.words = words = list(chain.from_iterable(word_lists))
        vocab = {word: i for i, word in enumerate(dict.fromkeys(words))}
        ids = np.fromiter(map(vocab.__getitem__, words), dtype=np.int64, count=len(words))
        doc = np.repeat(np.arange(docs, dtype=np.int64), [len(w) for w in word_lists])
        # one entry per (appeal, word); node id = rank of the word's first occurrence in its appeal
        _, first, inverse = np.unique(doc * max(len(vocab), 1) + ids, return_index=True, return_inverse=True)
        by_position = np.argsort(first, kind="stable")
        self.nodes = np.bincount(doc[first], minlength=docs)
        self.start = np.cumsum(self.nodes) - self.nodes  # the appeal's first node in ``first_words``
        local = np.empty(len(first), dtype=np.int64)
        local[by_position] = np.arange(len(first)) - self.start[doc[first[by_position]]]
        node = local[inverse.reshape(-1)]
        self.first_words = first[by_position].tolist()
        a, b, owner = [], [], []
        for offset in range(1, window):  # a before b within the window, a ≠ b (as ``_pairs``)
            same = doc[:-offset] == doc[offset:]
            pair_a, pair_b = node[:-offset][same], node[offset:][same]
            distinct = pair_a != pair_b
            a.append(pair_a[distinct])
            b.append(pair_b[distinct])
            owner.append(doc[:-offset][same][distinct])
        empty = np.zeros(0, dtype=np.int64)
        self.a, self.b, self.owner = (np.concatenate(x) if x else empty for x in (a, b, owner))
        self.pairs = np.bincount(self.owner, minlength=docs)

    def names(self, index: int, n: int) -> list[str]:
        start = int(self.start[index])
        return [self.words[i] for i in self.first_words[start : start + n]]

    def counts(self, groups: dict[int, list[int]]) -> dict[int, np.ndarray]:
        """Per node count n: the count matrices (rows × n × n) of its appeals, in the given order."""
        docs = len(self.nodes)
        base = np.zeros(docs, dtype=np.int64)  # where the appeal's n×n block starts
        size = np.zeros(docs, dtype=np.int64)  # its n, 0 for appeals not in a group
        offsets, total = {}, 0
        for n, members in groups.items():
            rows = np.asarray(members, dtype=np.int64)
            base[rows] = total + np.arange(len(members), dtype=np.int64) * (n * n)
            size[rows] = n
            offsets[n] = total
            total += len(members) * n * n
        n_of_pair = size[self.owner]
        grouped = n_of_pair > 0
        flat = base[self.owner][grouped] + self.a[grouped] * n_of_pair[grouped] + self.b[grouped]
        counts = np.bincount(flat, minlength=total)
        return {
            n: counts[offsets[n] : offsets[n] + len(members) * n * n].reshape(len(members), n, n)
            for n, members in groups.items()
        }


def textrank_many(
    word_lists: Sequence[Sequence[str]],
    top_k: int = 5,
    window: int = 5,
    damping: float = 0.85,
    iterations: int = 30,
    tol: float = 1e-4,
) -> list[tuple[tuple[str, float], ...]]:
    """TextRank of many appeals (each given as its ``candidates``), graphs of equal size stacked.

    Per appeal this is PageRank over the co-occurrence graph: the fixed point the power iteration
    converges to, score = base + d·T·score, solved directly. The graphs are small (≈10 nodes), so
    a dozen numpy calls per appeal cost far more than the arithmetic; here the graphs of all
    appeals are built together (``_Graphs``: node ids and co-occurrences for the whole batch in
    numpy, one ``bincount``) and all graphs with the same node count are solved together (one
    stacked ``np.linalg.solve``, which runs the same LAPACK routine on each matrix as separate
    calls would). Each element goes through the same IEEE operations as in ``_textrank_single``,
    so results are bit-identical; graphs it handles specially (isolated nodes, more than
    ``_DIRECT_SOLVE_MAX`` nodes) go there.
    """
    results: list[tuple[tuple[str, float], ...] | None] = [None] * len(word_lists)
    graphs = _Graphs(word_lists, window)
    groups: dict[int, list[int]] = {}
    for index, (words, n, pairs) in enumerate(
        zip(word_lists, graphs.nodes.tolist(), graphs.pairs.tolist(), strict=True)
    ):
        if not words:
            results[index] = ()
        elif not pairs:
            results[index] = ((words[0], 1.0),)
        elif n > _DIRECT_SOLVE_MAX:
            results[index] = _textrank_single(words, top_k, window, damping, iterations, tol)
        else:
            groups.setdefault(n, []).append(index)
    base = 1 - damping
    for n, counts in graphs.counts(groups).items():
        group = groups[n]
        weights = (counts + counts.transpose(0, 2, 1)).astype(float)
        degree = weights.sum(axis=2)
        complete = degree.all(axis=1)
        for row in np.flatnonzero(~complete).tolist():  # words whose only neighbour is themselves
            index = group[row]
            results[index] = _textrank_single(word_lists[index], top_k, window, damping, iterations, tol)
        if not complete.all():
            keep = np.flatnonzero(complete)
            group = [group[row] for row in keep.tolist()]
            weights, degree = weights[keep], degree[keep]
        if not group:
            continue
        transition = weights / degree[:, None, :]  # column m: m's weight spread over its edges
        scores = np.linalg.solve(np.eye(n) - damping * transition, np.full((len(group), n, 1), base))
        _rank_stacked(scores[:, :, 0], group, graphs, top_k, results)
    return results  # type: ignore[return-value]


def _rank_stacked(
    values: np.ndarray,
    group: list[int],
    graphs: _Graphs,
    top_k: int,
    results: list[tuple[tuple[str, float], ...] | None],
) -> None:
    """``_rank`` for every graph of a group at once (rows × n scores), into ``results``.

    ``round(q, 4)`` rounds the exact value of q·10⁴ to an integer m (half to even) and returns the
    double nearest to m/10⁴. ``np.rint(q * 1e4) / 1e4`` gives the same m and the same double
    unless q·10⁴ lies within 1e-6 of a half: the product's float error is below 1e-12 for q ≤ 1,
    and m/1e4 is a correctly rounded division. Rows with such a value go through ``_rank``.
    """
    rows, n = values.shape
    quotient = values / values.max(axis=1, keepdims=True)  # v / top, as in _rank
    scaled = quotient * 1e4
    rounded = np.rint(scaled)
    exact = (np.abs(scaled - np.floor(scaled) - 0.5) > 1e-6).all(axis=1)
    nodes = np.broadcast_to(np.arange(n), (rows, n))
    order = np.lexsort((nodes, -rounded), axis=-1)[:, :top_k]  # rounded score down, then node id
    top_scores = (np.take_along_axis(rounded, order, axis=1) / 1e4).tolist()
    node_list = list(range(n))
    for row, (index, picked, picked_scores, plain) in enumerate(
        zip(group, order.tolist(), top_scores, exact.tolist(), strict=True)
    ):
        names = graphs.names(index, n)
        if plain:
            results[index] = tuple(zip([names[i] for i in picked], picked_scores, strict=True))
        else:  # a score at a rounding half: Python's own round
            results[index] = _rank(names, node_list, values[row].tolist(), top_k)


def _rank(
    names: list[str], nodes: list[int], values: list[float], top_k: int
) -> tuple[tuple[str, float], ...]:
    """Highest score first; equal (rounded) scores in order of first occurrence (= node id).

    Rounding is monotone, so only the nodes down to the top_k-th score (and any that round to the
    same value) are rounded: walked by raw score, highest first.
    """
    top = max(values)
    ranked: list[tuple[float, int]] = []
    for i in sorted(range(len(values)), key=values.__getitem__, reverse=True):
        neg = -round(values[i] / top, 4)
        if len(ranked) >= top_k and neg != ranked[-1][0]:
            break
        ranked.append((neg, nodes[i]))
    ranked.sort()
    return tuple((names[node], -neg) for neg, node in ranked[:top_k])


def _textrank_single(
    words: Sequence[str], top_k: int, window: int, damping: float, iterations: int, tol: float
) -> tuple[tuple[str, float], ...]:
    """One appeal's TextRank with numpy (the original implementation; the reference for
    ``textrank_many`` and the path for graphs it does not stack)."""
    if not words:
        return ()
    names, flat = _pairs(words, window)
    n = len(names)
    if not flat:
        return ((words[0], 1.0),)
    counts = np.bincount(flat, minlength=n * n).reshape(n, n)
    weights = (counts + counts.T).astype(float)
    degree = weights.sum(axis=1)
    nodes = list(range(n))
    if not degree.all():  # words whose only neighbour is themselves are no nodes
        keep = np.flatnonzero(degree)
        nodes = keep.tolist()
        weights, degree = weights[np.ix_(keep, keep)], degree[keep]
    transition = weights / degree  # column m: m's weight spread over its edges
    size = len(nodes)
    base = 1 - damping
    if size <= _DIRECT_SOLVE_MAX:
        score = np.linalg.solve(np.eye(size) - damping * transition, np.full(size, base))
    else:
        score = np.ones(size)
        for _ in range(iterations):
            new = base + damping * (transition @ score)
            delta = float(np.abs(new - score).max())
            score = new
            if delta < tol:
                break
    return _rank(names, nodes, score.tolist(), top_k)
