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


def _candidate(token: str) -> bool:
    """Keyword candidates: no masks, masked names (张某), numbers or place names (they are entities)."""
    if len(token) < MIN_KEYWORD_LEN or token.startswith("[") or token.endswith("某") or token.isdigit():
        return False
    if token in _mask_words():
        return False
    return not (_PLACE_SUFFIX.search(token) and token not in _business_words())


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
        lines = [f"# n_docs={self.n_docs} default_idf={self.default_idf:.6f} "
                 f"fitted_at={datetime.now(UTC).isoformat(timespec='seconds')}"]
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


def tfidf_keywords(tokens: Sequence[str], idf: IdfModel | None, top_k: int = 5) -> list[tuple[str, float]]:
    """Top-k (word, weight) by term frequency × corpus IDF (plain frequency without an IDF).

    Ties are broken by first occurrence, so the result is deterministic.
    """
    counts: dict[str, int] = {}
    for token in tokens:
        if token in counts:
            counts[token] += 1
        elif _candidate(token):
            counts[token] = 1  # dicts keep insertion order = first occurrence
    if not counts:
        return []
    total = sum(counts.values())
    table, default = (idf.idf, idf.default_idf) if idf else ({}, 1.0)
    scored = [(w, c / total * (table.get(w, default) if idf else 1.0)) for w, c in counts.items()]
    scored.sort(key=lambda kv: -kv[1])  # stable: equal weights stay in first-occurrence order
    return [(w, round(s, 4)) for w, s in scored[:top_k]]


def textrank_keywords(tokens: Sequence[str], top_k: int = 5, window: int = 5,
                      damping: float = 0.85, iterations: int = 30, tol: float = 1e-4) -> list[tuple[str, float]]:
    """Top-k (word, score) by PageRank over the co-occurrence graph of candidate tokens.

    ``iterations``/``tol`` only apply to graphs too large to solve exactly (see ``_textrank``).
    """
    return list(_textrank(tuple(tokens), top_k, window, damping, iterations, tol))


@lru_cache(maxsize=32768)
def _textrank(tokens: tuple[str, ...], top_k: int, window: int, damping: float, iterations: int,
              tol: float) -> tuple[tuple[str, float], ...]:
    """PageRank with numpy: the co-occurrence matrix is built from shifted index arrays and
    iterated as a matrix-vector product (the former dict-of-Counters graph and per-node Python
    sums were the most expensive step of the whole pipeline on long appeals)."""
    words = [t for t in tokens if _candidate(t)]
    if not words:
        return ()
    first: dict[str, int] = {}
    for word in words:
        first.setdefault(word, len(first))  # node id = order of first occurrence
    n = len(first)
    ids = [first[w] for w in words]
    # each co-occurrence (a before b within the window, a ≠ b) as a flat index a·n+b
    flat = [a * n + b for offset in range(1, window) for a, b in zip(ids, ids[offset:], strict=False) if a != b]
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
        # the fixed point the power iteration converges to, score = base + d·T·score, solved
        # directly: one LAPACK call instead of ~30 rounds of small numpy operations
        score = np.linalg.solve(np.eye(size) - damping * transition, np.full(size, base))
    else:
        score = np.ones(size)
        for _ in range(iterations):
            new = base + damping * (transition @ score)
            delta = float(np.abs(new - score).max())
            score = new
            if delta < tol:
                break
    values = score.tolist()
    top = max(values)
    names = list(first)
    # highest score first; equal (rounded) scores in order of first occurrence (= node id)
    ranked = sorted((-round(v / top, 4), node) for v, node in zip(values, nodes, strict=True))
    return tuple((names[node], -neg) for neg, node in ranked[:top_k])
