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
from itertools import chain
from math import log as _ln
from pathlib import Path
from typing import Any, NamedTuple

import jieba
from jieba import finalseg

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
    global _tokenizer, _dictionary
    with _lock:
        _tokenizer = None
        _dictionary = None
        clear_clause_cache()


def _pieces(text: str) -> list[str]:
    """``text`` cut where jieba itself cuts: CJK/alnum blocks and the runs between them."""
    return [piece for piece in _RE_HAN.split(text) if piece]


class _Dictionary:
    """The tokenizer's prefix dictionary plus a memo of each word's log-probability term."""

    def __init__(self, tokenizer: jieba.Tokenizer) -> None:
        self.freq: dict[str, int] = tokenizer.FREQ
        self.total = tokenizer.total
        self.logtotal = _ln(tokenizer.total)
        self.logp: dict[str, float] = {}


_dictionary: _Dictionary | None = None


def _get_dictionary() -> _Dictionary:
    global _dictionary
    tokenizer = get_tokenizer()
    if _dictionary is None or _dictionary.freq is not tokenizer.FREQ or _dictionary.total != tokenizer.total:
        _dictionary = _Dictionary(tokenizer)
    return _dictionary


def cut_block(block: str) -> list[str]:
    """``Tokenizer.lcut(block, HMM=True)`` for one CJK/alnum block, computed the same way, faster.

    jieba builds a DAG dict of word ends, then takes a max over a generator of tuples per
    position with a fresh ``log`` of each word's frequency; on appeal clauses that Python overhead
    is most of the segmentation cost. This fuses the DAG scan into the right-to-left dynamic
    programme, memoises ``log(freq or 1) - logtotal`` per word (the same float jieba computes) and
    keeps jieba's tie rule (the longer word wins an exact tie, as ``max`` over ``(score, end)``
    tuples does); the walk over the route and the HMM on runs of single characters are jieba's
    own (``finalseg.cut``). Equality with jieba is tested on the seed corpus and generated texts.
    """
    dictionary = _get_dictionary()
    freq_get = dictionary.freq.get
    logp = dictionary.logp
    logtotal = dictionary.logtotal
    n = len(block)
    score = [0.0] * (n + 1)
    end = list(range(n + 1))  # route[idx] = (score[idx], end[idx])
    for k in range(n - 1, -1, -1):
        best_score = 0.0
        best_end = -1
        i = k
        frag = block[k]
        f = freq_get(frag)
        while f is not None:  # the DAG scan: every prefix in the dictionary, words have freq > 0
            if f:
                term = logp.get(frag)
                if term is None:
                    term = logp[frag] = _ln(f) - logtotal
                candidate = term + score[i + 1]
                if best_end < 0 or candidate >= best_score:
                    best_score, best_end = candidate, i
            i += 1
            if i >= n:
                break
            frag = block[k : i + 1]
            f = freq_get(frag)
        if best_end < 0:  # no word starts here: the character alone, with frequency "or 1"
            char = block[k]
            term = logp.get(char)
            if term is None:
                term = logp[char] = _ln(freq_get(char) or 1) - logtotal
            best_score, best_end = term + score[k + 1], k
        score[k] = best_score
        end[k] = best_end
    out: list[str] = []
    buf = ""
    x = 0
    while x < n:
        y = end[x] + 1
        if y - x == 1:
            buf += block[x]
        else:
            if buf:
                _flush(buf, freq_get, out)
                buf = ""
            out.append(block[x:y])
        x = y
    if buf:
        _flush(buf, freq_get, out)
    return out


@lru_cache(maxsize=CLAUSE_CACHE_SIZE)
def _hmm_cut(buf: str) -> tuple[str, ...]:
    """jieba's HMM (Viterbi) segmentation of a run of single characters, memoised: the same runs
    (unknown names, typos, dialect) recur across otherwise different clauses."""
    return tuple(finalseg.cut(buf))


def _flush(buf: str, freq_get: Any, out: list[str]) -> None:
    """jieba's handling of a run of single characters: HMM unless the run is itself a word."""
    if len(buf) == 1:
        out.append(buf)
    elif not freq_get(buf):
        out.extend(_hmm_cut(buf))
    else:
        out.extend(buf)


def _segment_piece_uncached(piece: str, hmm: bool) -> tuple[str, ...]:
    """What ``Tokenizer.cut`` yields for one piece (a block, or the run between two blocks)."""
    if _RE_HAN.match(piece):
        return tuple(cut_block(piece) if hmm else get_tokenizer().lcut(piece, HMM=hmm))
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


@lru_cache(maxsize=CLAUSE_CACHE_SIZE)
def _tokenize_piece_hmm(piece: str) -> tuple[str, ...]:
    """``_tokenize_piece(piece, True)``, keyed by the piece alone."""
    return tuple(clean_tokens(list(_segment_piece_uncached(piece, True))))


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
    infos = [_tokenize_piece.cache_info(), _tokenize_piece_hmm.cache_info()]
    return CacheInfo(sum(i.hits for i in infos), sum(i.misses for i in infos), sum(i.currsize for i in infos))


def clear_clause_cache() -> None:
    """Forget cached clause segmentations (lexicon reload, or a cold-cache benchmark run)."""
    _segment_piece.cache_clear()
    _tokenize_piece.cache_clear()
    _tokenize_piece_hmm.cache_clear()
    _hmm_cut.cache_clear()
    if _dictionary is not None:
        _dictionary.logp.clear()


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
    pieces = filter(None, _RE_HAN.split(text))
    if hmm:  # the common case, through a one-argument cache (cheaper key than (piece, hmm))
        return list(chain.from_iterable(map(_tokenize_piece_hmm, pieces)))
    out: list[str] = []
    for piece in pieces:
        out.extend(_tokenize_piece(piece, hmm))
    return out
