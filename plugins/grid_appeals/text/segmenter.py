"""Word segmentation with a dedicated jieba tokenizer that knows the business lexicon.

Why a dedicated ``jieba.Tokenizer`` instead of the module-level one: other code in the same
process (Airflow, notebooks) may load different user words into the global tokenizer; ours must
segment the same way everywhere so that keywords and models stay comparable. The dictionary
cache is written under the deployment's ``var`` folder (jieba defaults to the system temp dir,
which may be shared or read-only).

Why a clause cache: jieba already segments every run of CJK/alnum characters (a "block", split
at punctuation and whitespace by ``jieba.re_han_default``) independently of its neighbours, so
splitting a text into those same blocks and memoising block → tokens returns exactly what
``lcut`` on the whole text returns. Agents' texts share most clauses (客户来电反映, 要求尽快处理,
请核实处理), so on realistic batches most blocks are cache hits and jieba's DAG/HMM only runs on
the novel ones. ``clause_cache_info()`` reports the hit rate.
"""

from __future__ import annotations

import logging
import re
import tempfile
import threading
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import jieba

from grid_appeals.text.lexicons import business_terms, stopwords, synonyms

jieba.setLogLevel(logging.WARNING)
log = logging.getLogger(__name__)

_tokenizer: jieba.Tokenizer | None = None
_lock = threading.Lock()
_HAS_WORD_CHAR = re.compile(r"\w")
_NUMERIC = re.compile(r"^[\d.,%]+$")
# jieba's own block pattern: splitting with it cannot change the segmentation (see module doc)
_RE_HAN: re.Pattern[str] = jieba.re_han_default
_RE_SKIP: re.Pattern[str] = jieba.re_skip_default
CLAUSE_CACHE_SIZE = 1 << 16  # ≈ 30 MB per process at worst; clauses are short


def cache_dir() -> Path:
    """Writable folder for jieba's prefix-dictionary cache (``<var>/cache/jieba``)."""
    try:
        from grid_appeals.config import settings

        path = settings().var_dir / "cache" / "jieba"
        path.mkdir(parents=True, exist_ok=True)
        return path
    except OSError:
        path = Path(tempfile.gettempdir()) / "grid_appeals_jieba"
        path.mkdir(parents=True, exist_ok=True)
        return path


def build_tokenizer() -> jieba.Tokenizer:
    """A fresh tokenizer: main dictionary (from cache after the first run) + business terms."""
    tokenizer = jieba.Tokenizer()
    tokenizer.tmp_dir = str(cache_dir())
    tokenizer.cache_file = "jieba_main_dict.cache"
    tokenizer.initialize()
    for term in business_terms():
        tokenizer.add_word(term.word, term.freq, term.pos)
    return tokenizer


def get_tokenizer() -> jieba.Tokenizer:
    """The process-wide tokenizer, built once (each worker process builds its own)."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                _tokenizer = build_tokenizer()
    return _tokenizer


def reset_tokenizer() -> None:
    """Drop the tokenizer and the clause caches built with it (next call rebuilds from the files)."""
    global _tokenizer
    with _lock:
        _tokenizer = None
        clear_clause_cache()


def _pieces(text: str) -> list[str]:
    """``text`` cut where jieba itself cuts: CJK/alnum blocks and the runs between them."""
    return [piece for piece in _RE_HAN.split(text) if piece]


def _segment_piece_uncached(piece: str, hmm: bool) -> tuple[str, ...]:
    """What ``Tokenizer.cut`` yields for one piece (a block, or the run between two blocks)."""
    if _RE_HAN.match(piece):
        return tuple(get_tokenizer().lcut(piece, HMM=hmm))
    out: list[str] = []
    for part in _RE_SKIP.split(piece):  # same as jieba: whitespace as-is, other chars one by one
        if not part:
            continue
        if _RE_SKIP.match(part):
            out.append(part)
        else:
            out.extend(part)
    return tuple(out)


@lru_cache(maxsize=CLAUSE_CACHE_SIZE)
def _segment_piece(piece: str, hmm: bool) -> tuple[str, ...]:
    return _segment_piece_uncached(piece, hmm)


@lru_cache(maxsize=CLAUSE_CACHE_SIZE)
def _tokenize_piece(piece: str, hmm: bool) -> tuple[str, ...]:
    """Cleaned tokens of one piece: cleaning is per token, so it distributes over pieces."""
    return tuple(clean_tokens(list(_segment_piece_uncached(piece, hmm))))


class CacheInfo(NamedTuple):
    hits: int
    misses: int
    size: int

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0


def clause_cache_info() -> CacheInfo:
    """Hits/misses of the clause → tokens cache behind ``tokenize`` (this process only)."""
    info = _tokenize_piece.cache_info()
    return CacheInfo(info.hits, info.misses, info.currsize)


def clear_clause_cache() -> None:
    """Forget cached clause segmentations (lexicon reload, or a cold-cache benchmark run)."""
    _segment_piece.cache_clear()
    _tokenize_piece.cache_clear()


def segment(text: str, hmm: bool = True, cache: bool = True) -> list[str]:
    """Raw jieba segmentation (every token, punctuation included); equal to ``lcut(text)``."""
    if not cache:
        return get_tokenizer().lcut(text, HMM=hmm)
    out: list[str] = []
    for piece in _pieces(text):
        out.extend(_segment_piece(piece, hmm))
    return out


def clean_tokens(raw_tokens: list[str]) -> list[str]:
    """Drop punctuation, bare numbers and stopwords; map variants to their canonical term."""
    stop = stopwords()
    syn = synonyms()
    out: list[str] = []
    for token in raw_tokens:
        token = token.strip()
        if not token or not _HAS_WORD_CHAR.search(token) or _NUMERIC.match(token):
            continue
        token = syn.get(token, token)
        if token in stop:
            continue
        out.append(token)
    return out


def tokenize(text: str, hmm: bool = True, cache: bool = True) -> list[str]:
    """Segmentation as every later stage sees it: cleaned and synonym-normalised tokens.

    With ``cache`` (the default) each clause is segmented and cleaned once per process; the
    result is identical to ``clean_tokens(segment(text, cache=False))`` (tested on the corpus).
    """
    if not cache:
        return clean_tokens(segment(text, hmm=hmm, cache=False))
    out: list[str] = []
    for piece in _pieces(text):
        out.extend(_tokenize_piece(piece, hmm))
    return out
