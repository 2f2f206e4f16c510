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
    counts = Counter(candidates(tokens) if words is None else words)  # insertion order = first occurrence
    if not counts:
        return []
    total = sum(counts.values())
    if idf:
        table, default = idf.idf, idf.default_idf
        scored = [(w, c / total * table.get(w, default)) for w, c in counts.items()]
    else:
        scored = [(w, c / total * 1.0) for w, c in counts.items()]
    scored.sort(key=lambda kv: -kv[1])  # stable: equal weights stay in first-occurrence order
    return [(w, round(s, 4)) for w, s in scored[:top_k]]


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
    a dozen numpy calls per appeal cost far more than the arithmetic; here all graphs with the same
    node count are built and solved together (one ``bincount``, one stacked ``np.linalg.solve``,
    which runs the same LAPACK routine on each matrix as separate calls would). Each element goes
    through the same IEEE operations as in ``_textrank_single``, so results are bit-identical;
    graphs it handles specially (isolated nodes, more than ``_DIRECT_SOLVE_MAX`` nodes) go there.
    """
    results: list[tuple[tuple[str, float], ...] | None] = [None] * len(word_lists)
    groups: dict[int, list[tuple[int, list[str], list[int]]]] = {}
    for index, words in enumerate(word_lists):
        if not words:
            results[index] = ()
            continue
        names, flat = _pairs(words, window)
        if not flat:
            results[index] = ((words[0], 1.0),)
        elif len(names) > _DIRECT_SOLVE_MAX:
            results[index] = _textrank_single(words, top_k, window, damping, iterations, tol)
        else:
            groups.setdefault(len(names), []).append((index, names, flat))
    base = 1 - damping
    for n, group in groups.items():
        lengths = [len(flat) for _, _, flat in group]
        offsets = np.repeat(np.arange(len(group)) * (n * n), lengths)
        flat_all = np.fromiter(
            chain.from_iterable(flat for _, _, flat in group), dtype=np.int64, count=sum(lengths)
        )
        counts = np.bincount(flat_all + offsets, minlength=len(group) * n * n).reshape(len(group), n, n)
        weights = (counts + counts.transpose(0, 2, 1)).astype(float)
        degree = weights.sum(axis=2)
        complete = degree.all(axis=1)
        for row in np.flatnonzero(~complete).tolist():  # words whose only neighbour is themselves
            index = group[row][0]
            results[index] = _textrank_single(word_lists[index], top_k, window, damping, iterations, tol)
        if not complete.all():
            keep = np.flatnonzero(complete)
            group = [group[row] for row in keep.tolist()]
            weights, degree = weights[keep], degree[keep]
        if not group:
            continue
        transition = weights / degree[:, None, :]  # column m: m's weight spread over its edges
        scores = np.linalg.solve(np.eye(n) - damping * transition, np.full((len(group), n, 1), base))
        nodes = list(range(n))
        for (index, names, _), values in zip(group, scores[:, :, 0].tolist(), strict=True):
            results[index] = _rank(names, nodes, values, top_k)
    return results  # type: ignore[return-value]


def _rank(
    names: list[str], nodes: list[int], values: list[float], top_k: int
) -> tuple[tuple[str, float], ...]:
    """Highest score first; equal (rounded) scores in order of first occurrence (= node id)."""
    top = max(values)
    ranked = sorted((-round(v / top, 4), node) for v, node in zip(values, nodes, strict=True))
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
