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
from collections.abc import Iterable
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


# value of a dictionary prefix that is not itself a word: above every log-probability (all ≤ 0)
_PREFIX = 1.0


class _Dictionary:
    """The tokenizer's prefix dictionary as one table: word → log-probability term, prefix → _PREFIX.

    jieba keeps ``FREQ`` (word → count, every prefix of a word → 0) and computes
    ``log(FREQ[w] or 1) - log(total)`` for every DAG edge of every sentence. This table holds that
    same float for every word, computed once per tokenizer (≈0.3 s, shared by forked workers), so the
    DAG scan is one dict lookup per prefix. It depends only on the dictionary, never on any text.
    """

    def __init__(self, tokenizer: jieba.Tokenizer) -> None:
        self.freq: dict[str, int] = tokenizer.FREQ
        self.size = len(tokenizer.FREQ)
        self.total = tokenizer.total
        self.logtotal = logtotal = _ln(tokenizer.total)
        # a character that is no word is scored as jieba scores it: log(1) - logtotal
        self.unknown = _ln(1) - logtotal
        # one float object per distinct frequency (a few thousand, not 350 000): lookups then
        # touch, and forked workers copy on write, a few pages of reference counts instead of 8 MB
        terms: dict[int, float] = {0: _PREFIX}
        table: dict[str, float] = {}
        for word, freq in tokenizer.FREQ.items():
            term = terms.get(freq)
            if term is None:
                term = terms[freq] = _ln(freq) - logtotal
            table[word] = term
        self.logp = table

    def stale(self, tokenizer: jieba.Tokenizer) -> bool:
        return (
            self.freq is not tokenizer.FREQ
            or self.total != tokenizer.total
            or self.size != len(tokenizer.FREQ)
        )


_dictionary: _Dictionary | None = None


def _get_dictionary() -> _Dictionary:
    global _dictionary
    tokenizer = get_tokenizer()
    if _dictionary is None or _dictionary.stale(tokenizer):
        _dictionary = _Dictionary(tokenizer)
    return _dictionary


def cut_block(block: str) -> list[str]:
    """``Tokenizer.lcut(block, HMM=True)`` for one CJK/alnum block, computed the same way, faster.

    jieba builds a DAG dict of word ends, then takes a max over a generator of tuples per
    position with a fresh ``log`` of each word's frequency; on appeal clauses that Python overhead
    is most of the segmentation cost. This fuses the DAG scan into the right-to-left dynamic
    programme, reads each word's ``log(freq) - logtotal`` (the same float jieba computes) from the
    dictionary table (``_Dictionary``) in the same lookup that tells a prefix from a word, and
    keeps jieba's tie rule (the longer word wins an exact tie, as ``max`` over ``(score, end)``
    tuples does); the walk over the route and the HMM on runs of single characters are jieba's
    own (``finalseg.cut``). Equality with jieba is tested on the seed corpus and generated texts.
    """
    dictionary = _get_dictionary()
    table_get = dictionary.logp.get
    unknown = dictionary.unknown
    n = len(block)
    score = [0.0] * (n + 1)
    end = list(range(n + 1))  # route[idx] = (score[idx], end[idx])
    for k in range(n - 1, -1, -1):
        best_score = 0.0
        best_end = -1
        i = k
        term = table_get(block[k])
        while term is not None:  # the DAG scan: every prefix in the dictionary
            if term <= 0.0:  # a word (a bare prefix is _PREFIX)
                candidate = term + score[i + 1]
                if best_end < 0 or candidate >= best_score:
                    best_score, best_end = candidate, i
            i += 1
            if i >= n:
                break
            term = table_get(block[k : i + 1])
        if best_end < 0:  # no word starts here: the character alone, with frequency "or 1"
            best_score, best_end = unknown + score[k + 1], k
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
                _flush(buf, table_get, out)
                buf = ""
            out.append(block[x:y])
        x = y
    if buf:
        _flush(buf, table_get, out)
    return out


@lru_cache(maxsize=CLAUSE_CACHE_SIZE)
def _hmm_cut(buf: str) -> tuple[str, ...]:
    """``finalseg.cut(buf)``: jieba's HMM segmentation of a run of single characters, memoised (the
    same runs — unknown names, typos, dialect — recur across otherwise different clauses)."""
    if finalseg.Force_Split_Words:  # pragma: no cover - nobody sets it; jieba's own path then
        return tuple(finalseg.cut(buf))
    out: list[str] = []
    for part in finalseg.re_han.split(buf):
        if not part:
            continue
        if finalseg.re_han.match(part):
            out.extend(_hmm_words(part))
        else:
            out.extend(x for x in finalseg.re_skip.split(part) if x)
    return tuple(out)


def _hmm_words(sentence: str) -> list[str]:
    """``finalseg.__cut``: jieba's Viterbi over the B/M/E/S states, unrolled.

    Each state has two possible predecessors (``finalseg.PrevStatus``), so each step is two sums
    per state (added in jieba's order: previous + transition + emission) and one comparison; an
    exact tie goes to the alphabetically larger predecessor, as ``max`` over ``(prob, state)``
    tuples does. Back-pointers replace the copied path lists. Tested equal to ``finalseg.cut``.
    """
    start, trans, emit, low = finalseg.start_P, finalseg.trans_P, finalseg.emit_P, finalseg.MIN_FLOAT
    em_b, em_m, em_e, em_s = emit["B"].get, emit["M"].get, emit["E"].get, emit["S"].get
    t_eb, t_sb = trans["E"].get("B", low), trans["S"].get("B", low)
    t_mm, t_bm = trans["M"].get("M", low), trans["B"].get("M", low)
    t_ss, t_es = trans["S"].get("S", low), trans["E"].get("S", low)
    t_be, t_me = trans["B"].get("E", low), trans["M"].get("E", low)
    char = sentence[0]
    v_b = start["B"] + em_b(char, low)
    v_m = start["M"] + em_m(char, low)
    v_e = start["E"] + em_e(char, low)
    v_s = start["S"] + em_s(char, low)
    back: list[tuple[str, str, str, str]] = []  # predecessor of B, M, E, S at each later step
    for char in sentence[1:]:
        em = em_b(char, low)
        a, b = v_e + t_eb + em, v_s + t_sb + em
        n_b, p_b = (a, "E") if a > b else (b, "S")
        em = em_m(char, low)
        a, b = v_m + t_mm + em, v_b + t_bm + em
        n_m, p_m = (a, "M") if a >= b else (b, "B")
        em = em_e(char, low)
        a, b = v_b + t_be + em, v_m + t_me + em
        n_e, p_e = (a, "B") if a > b else (b, "M")
        em = em_s(char, low)
        a, b = v_s + t_ss + em, v_e + t_es + em
        n_s, p_s = (a, "S") if a >= b else (b, "E")
        back.append((p_b, p_m, p_e, p_s))
        v_b, v_m, v_e, v_s = n_b, n_m, n_e, n_s
    state = "E" if v_e > v_s else "S"
    states = [state]
    for step in reversed(back):
        state = step["BMES".index(state)]
        states.append(state)
    states.reverse()
    words: list[str] = []
    begin = next_i = 0
    for i, pos in enumerate(states):
        if pos == "B":
            begin = i
        elif pos == "E":
            words.append(sentence[begin : i + 1])
            next_i = i + 1
        elif pos == "S":
            words.append(sentence[i])
            next_i = i + 1
    if next_i < len(sentence):
        words.append(sentence[next_i:])
    return words


def _flush(buf: str, table_get: Any, out: list[str]) -> None:
    """jieba's handling of a run of single characters: HMM unless the run is itself a word."""
    if len(buf) == 1:
        out.append(buf)
        return
    term = table_get(buf)
    if term is None or term > 0.0:  # not a word (absent, or only a prefix)
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


def _clean_token(token: str) -> str | None:
    """``clean_tokens`` for one token: its cleaned form, or None if it is dropped."""
    token = token.strip()
    if not token or not _HAS_WORD_CHAR.search(token) or _NUMERIC.match(token):
        return None
    token = synonyms().get(token, token)
    return None if token in stopwords() else token


class _CleanedTokens(dict[str, "str | None"]):
    """token → ``_clean_token(token)``, filled on first sight (cleared with the clause caches): a
    C-level dict lookup per token instead of two regex tests and two lexicon lookups."""

    def __missing__(self, token: str) -> str | None:
        value = self[token] = _clean_token(token)
        return value


_CLEANED = _CleanedTokens()


def _clean(raw_tokens: Iterable[str]) -> tuple[str, ...]:
    """``tuple(clean_tokens(list(raw_tokens)))`` through the per-token memo."""
    return tuple(filter(None, map(_CLEANED.__getitem__, raw_tokens)))


@lru_cache(maxsize=CLAUSE_CACHE_SIZE)
def _tokenize_piece(piece: str, hmm: bool) -> tuple[str, ...]:
    """Cleaned tokens of one piece: cleaning is per token, so it distributes over pieces."""
    return _clean(_segment_piece_uncached(piece, hmm))


@lru_cache(maxsize=CLAUSE_CACHE_SIZE)
def _tokenize_piece_hmm(piece: str) -> tuple[str, ...]:
    """``_tokenize_piece(piece, True)``, keyed by the piece alone."""
    return _clean(_segment_piece_uncached(piece, True))


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
    _CLEANED.clear()


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
    return [token for token in map(_clean_token, raw_tokens) if token is not None]


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
