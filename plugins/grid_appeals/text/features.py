"""Feature views for the supervised classifier: words, characters, pinyin and the 【tag】.

Why three views: jieba tokens (after synonym normalisation) carry the business vocabulary;
character n-grams survive segmentation errors and typos; pinyin syllables make homophone typos
(停店/停电, 电彪/电表, 抢秀/抢修) produce the same features, which agents' fast typing needs. The
agent's leading 【tag】 is a small view of its own (``classifier.TAG_WEIGHT``): usually right,
sometimes contradicting the body, so the model weighs it rather than obeying it.
Everything is a module-level function so fitted models pickle by reference.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from functools import lru_cache
from itertools import chain, pairwise
from typing import NamedTuple

import numpy as np
from pypinyin import Style, lazy_pinyin


class Doc(NamedTuple):
    """A prepared appeal: the normalised masked text, its cleaned tokens and its leading 【tag】
    ("" when it has none)."""

    text: str
    tokens: tuple[str, ...]
    tag: str = ""


def make_doc(raw: str) -> Doc:
    from grid_appeals.text.preprocess import prepare_text
    from grid_appeals.text.segmenter import tokenize

    prepared = prepare_text(raw)
    return Doc(prepared.text, tuple(tokenize(prepared.text)), prepared.tag or "")


# ---- escalation threats -----------------------------------------------------------------------------
# "如不解决将向12398投诉", "再不来我就找记者", "要去法院起诉" say how angry the customer is, not what
# the appeal is about: a repair, a query or even a praise can carry one. Their 投诉 / 曝光 characters
# pulled the business type toward 投诉, so for the classifier each such clause becomes one marker
# token: the model still knows a threat was made (the marker is a feature of its own) but cannot
# confuse it with a complaint's own wording ("客户投诉抢修人员态度差" keeps its 投诉).
THREAT_MARKER = "ESCALATE"
_CLAUSE = r"[^，。！？；…\n]"
_THREAT_TARGET = (
    r"(?:12398|12345|能源监管\w{0,3}|能监办|能源局|监管部门|市长热线|政府热线|市长信箱|省长信箱|信访\w{0,2}"
    r"|媒体|记者|电视台|报社|报纸|网络|抖音|快手|微博|朋友圈|法院|律师|上级(?:部门|单位)?|你们领导)"
)
_THREAT_CLAUSE = re.compile(
    "|".join(
        (
            # conditional: 如不解决将向12398投诉 / 再不来我就投诉 / 否则曝光 (再次 is a repeat, not a condition)
            rf"(?:如果?|若|要是|假如|再(?!次)|否则|不然){_CLAUSE}{{0,14}}?"
            r"(?:投诉|曝光|起诉|上访|打官司|告(?:你们|他们|到))",
            # a channel of escalation: 向12398反映 / 找媒体曝光 / 打12345 / 去法院起诉 / 找律师
            rf"(?:要|就|会|将|去|还要|准备|打算|只能|只好|已经?)?(?:向|找|到|打|拨打|去|给|上|告到){_THREAT_TARGET}"
            rf"(?:{_CLAUSE}{{0,6}}?(?:投诉|反映|曝光|举报|起诉|讨说法|要说法|说理))?",
            r"(?:发到?|传到?)(?:网上|朋友圈|抖音|快手|微博)(?:曝光)?|(?:网上|媒体)曝光",
            # a threatened complaint: 就投诉 / 越级投诉 / 投诉到底 / 要投诉你们 (not 不是要投诉)
            r"(?:越级|往上|向上)投诉(?:到底)?|投诉到底|(?:就|便|会|将|准备|打算|一定|肯定)要?投诉(?:你们|他们)?",
            r"(?<!不是)(?<![不没别])要投诉(?:你们|他们)?(?=[，。！？；…]|$)",
            r"(?:要|就|会|将|去)?(?:起诉|打官司)(?:你们|他们)?",
        )
    )
)
_THREAT_HINT = re.compile(
    r"投诉|曝光|起诉|官司|12398|12345|监管|能监|能源局|热线|信箱|信访|上访|媒体|记者|电视台|报社|报纸|网络|抖音|快手|微博"
    r"|朋友圈|法院|律师|上级|领导|网上"
)
_MARKERS = re.compile(rf"(?:{THREAT_MARKER}[，、]?)+")


def mark_threats(doc: Doc) -> Doc:
    """``doc`` with every escalation-threat clause replaced by ``THREAT_MARKER`` (re-tokenised);
    the same object when it has none (most texts: one literal scan)."""
    if not _THREAT_HINT.search(doc.text):
        return doc
    text = _THREAT_CLAUSE.sub(THREAT_MARKER, doc.text)
    if text == doc.text:
        return doc
    from grid_appeals.text.segmenter import tokenize

    text = _MARKERS.sub(THREAT_MARKER, text)
    return Doc(text, tuple(tokenize(text)), doc.tag)


def doc_text(doc: Doc) -> str:
    return doc.text


def doc_tokens(doc: Doc) -> list[str]:
    return list(doc.tokens)


@lru_cache(maxsize=65536)
def _syllable(char: str) -> str:
    """Toneless first reading of a CJK character; "" otherwise (also for the few CJK characters
    pypinyin has no reading for, such as 兙, which used to raise IndexError)."""
    if not "\u4e00" <= char <= "\u9fff":
        return ""
    return (lazy_pinyin(char, style=Style.NORMAL, errors="ignore") or [""])[0]


class _Syllables(dict[str, str]):
    """char → syllable ("" if not Chinese), filled on first sight: a plain dict lookup (in C, via
    ``map``) per character instead of a call through the ``lru_cache`` wrapper."""

    def __missing__(self, char: str) -> str:
        value = self[char] = _syllable(char)
        return value


_SYLLABLES = _Syllables()


def clear_pinyin_cache() -> None:
    """Forget memoised syllables (cold-cache benchmarks)."""
    _SYLLABLES.clear()
    _syllable.cache_clear()


def doc_pinyin(doc: Doc) -> list[str]:
    """Pinyin syllable unigrams and bigrams of the Chinese characters (tones dropped)."""
    syllables = list(filter(None, map(_SYLLABLES.__getitem__, doc.text)))
    return syllables + list(map("_".join, pairwise(syllables)))


# ---- hashed sparse features ---------------------------------------------------------------------
# Every feature is a 64-bit key: 4 bits of kind (view and n-gram order) + a 60-bit payload (up to
# three 20-bit code points, or two 30-bit token / syllable ids). Keys are computed for a whole batch
# with numpy, so the per-appeal Python work is one string join and one dict lookup per token.
CHAR1, CHAR2, CHAR3, WORD1, WORD2, PINYIN1, PINYIN2, TAG, TAG2 = range(1, 10)
VIEWS = ("chars", "words", "pinyin", "tag")
VIEW_OF_KIND = {CHAR1: 0, CHAR2: 0, CHAR3: 0, WORD1: 1, WORD2: 1, PINYIN1: 2, PINYIN2: 2, TAG: 3, TAG2: 3}
NO_TAG = "notag"
_CHAR_BITS = np.uint64(20)
_CHAR_MASK = (1 << 20) - 1
_ID_MASK = (1 << 30) - 1
_U64 = np.uint64


class KindKeys(NamedTuple):
    """Feature occurrences of one kind in a batch: keys and their document rows (non-decreasing)."""

    kind: int
    keys: np.ndarray
    rows: np.ndarray


def _id30(text: str) -> int:
    """Stable non-zero 30-bit id of a string (crc32 is the same in every process, ``hash`` is not)."""
    return zlib.crc32(text.encode("utf-8")) & _ID_MASK or 1


class _TokenIds(dict[str, int]):
    """token → 30-bit id, memoised on first sight (a C-level dict lookup per token after that)."""

    def __missing__(self, token: str) -> int:
        value = self[token] = _id30(token)
        return value


_TOKEN_IDS = _TokenIds()


class _TagKeys(dict[str, tuple[int, ...]]):
    """tag → its feature keys, memoised (a few dozen template tags recur): the whole tag (``TAG``;
    ``NO_TAG`` when there is none) and its character bigrams (``TAG2``: 停电报修 and 故障报修 share
    报修). Why a view of its own: agents pick the tag, and it is usually but not always right (some
    contradict the body), so the model learns how far to trust it instead of a rule."""

    def __missing__(self, tag: str) -> tuple[int, ...]:
        keys = [(TAG << 60) | _id30(tag or NO_TAG)]
        keys += [(TAG2 << 60) | _id30(tag[i : i + 2]) for i in range(len(tag) - 1)]
        value = self[tag] = tuple(keys)
        return value


_TAG_KEYS = _TagKeys()
# BMP code point → 30-bit syllable id (0 = not a Chinese character); None until first use
_SYLLABLE_IDS: np.ndarray | None = None


def syllable_table() -> np.ndarray:
    """Syllable id of every BMP code point, built once per process from pypinyin's dictionary.

    Same syllables as ``doc_pinyin`` (first reading, tones dropped, CJK U+4E00–U+9FFF only; tested
    on every character), but as an array so a batch's characters are looked up in one gather.
    """
    global _SYLLABLE_IDS
    if _SYLLABLE_IDS is None:
        from pypinyin.pinyin_dict import pinyin_dict

        table = np.zeros(0x10000, dtype=np.int64)
        ids: dict[str, int] = {}
        for code, readings in pinyin_dict.items():
            if 0x4E00 <= code <= 0x9FFF:
                first = readings.split(",", 1)[0]
                if first not in ids:
                    syllable = lazy_pinyin(chr(code), style=Style.NORMAL, errors="ignore")[0]
                    ids[first] = _id30(syllable)
                table[code] = ids[first]
        _SYLLABLE_IDS = table
    return _SYLLABLE_IDS


def clear_feature_caches() -> None:
    """Forget memoised token ids (cold-cache benchmarks); the syllable table is static data."""
    _TOKEN_IDS.clear()
    _TAG_KEYS.clear()


def _keyed(kind: int, payload: np.ndarray) -> np.ndarray:
    return payload.astype(_U64) | _U64(kind << 60)


def _pairs(kind: int, ids: np.ndarray, rows: np.ndarray) -> KindKeys:
    """Adjacent id pairs within one document."""
    same = rows[1:] == rows[:-1]
    payload = (ids[:-1][same].astype(_U64) << _U64(30)) | ids[1:][same].astype(_U64)
    return KindKeys(kind, _keyed(kind, payload), rows[1:][same])


def hashed_keys(
    docs: Sequence[Doc],
    char_orders: tuple[int, ...] = (1, 2, 3),
    words: bool = True,
    pinyin: bool = True,
    tags: bool = True,
) -> list[KindKeys]:
    """Every feature occurrence in ``docs``, per kind (a key can occur several times in a row).

    Views (what the earlier TF-IDF views held, computed without building n-gram strings):

    * characters: 1–3-grams over each text framed by begin/end marks (the marks only appear in
      2- and 3-grams) — robust to segmentation errors and to words jieba does not know;
    * words: jieba tokens and adjacent token pairs ("不_投诉", "还_没来" carry intent that single
      words share across business types);
    * pinyin: toneless syllables of the Chinese characters and adjacent syllable pairs (across
      non-Chinese characters), so homophone typos (停店/停电, 抢秀/抢修) share features;
    * tag: the leading 【tag】 as a whole (``NO_TAG`` when absent) and its character bigrams.
    """
    n = len(docs)
    out: list[KindKeys] = []
    lengths = np.fromiter(map(len, (d.text for d in docs)), dtype=np.int64, count=n) + 2
    framed = "".join(["\x01" + d.text + "\x02" for d in docs])
    codes = np.frombuffer(framed.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    owner = np.repeat(np.arange(n, dtype=np.int64), lengths)
    inner = np.ones(len(codes), dtype=bool)
    ends = np.cumsum(lengths)
    inner[ends - 1] = False
    inner[ends - lengths] = False
    # text characters → ≥ 3 (1 and 2 are the frame marks), 20 bits (planes above 15 fold together)
    codes = np.where(inner, np.maximum(codes & _CHAR_MASK, 3), codes)
    for order in char_orders:
        if order == 1:
            out.append(KindKeys(CHAR1, _keyed(CHAR1, codes[inner]), owner[inner]))
            continue
        span = len(codes) - order + 1
        same = owner[:span] == owner[order - 1 :]
        payload = np.zeros(int(same.sum()), dtype=_U64)
        for offset in range(order):
            payload = (payload << _CHAR_BITS) | codes[offset : offset + span][same].astype(_U64)
        out.append(KindKeys(CHAR1 + order - 1, _keyed(CHAR1 + order - 1, payload), owner[:span][same]))
    if pinyin:
        syllables = syllable_table()[np.where(codes > 0xFFFF, 0, codes)]
        chinese = syllables > 0
        ids, rows = syllables[chinese], owner[chinese]
        out += [KindKeys(PINYIN1, _keyed(PINYIN1, ids), rows), _pairs(PINYIN2, ids, rows)]
    if words:
        counts = np.fromiter(map(len, (d.tokens for d in docs)), dtype=np.int64, count=n)
        ids = np.fromiter(
            map(_TOKEN_IDS.__getitem__, chain.from_iterable(d.tokens for d in docs)),
            dtype=np.int64,
            count=int(counts.sum()),
        )
        rows = np.repeat(np.arange(n, dtype=np.int64), counts)
        out += [KindKeys(WORD1, _keyed(WORD1, ids), rows), _pairs(WORD2, ids, rows)]
    if tags:
        per_doc = [_TAG_KEYS[d.tag] for d in docs]
        counts = np.fromiter(map(len, per_doc), dtype=np.int64, count=n)
        keys = np.fromiter(chain.from_iterable(per_doc), dtype=_U64, count=int(counts.sum()))
        rows = np.repeat(np.arange(n, dtype=np.int64), counts)
        whole = (keys >> _U64(60)) == _U64(TAG)
        out += [KindKeys(TAG, keys[whole], rows[whole]), KindKeys(TAG2, keys[~whole], rows[~whole])]
    return out


# ---- key → column lookup -------------------------------------------------------------------------
_MULTIPLIERS = (
    0x9E3779B97F4A7C15,
    0xBF58476D1CE4E5B9,
    0x94D049BB133111EB,
    0xD6E8FEB86659FD93,
    0xA0761D6478BD642F,
    0xE7037ED1A0B428DB,
    0x8EBC6AF09C88C6E3,
    0x589965CC75374CC3,
)


def _slots(keys: np.ndarray, multiplier: int, bits: int) -> np.ndarray:
    """Fibonacci hashing: the top ``bits`` of key × an odd constant."""
    return (keys * _U64(multiplier)) >> _U64(64 - bits)


class KeyIndex:
    """Exact feature key → column lookup, vectorised: open hash tables, one per level.

    Why not a dict: the keys are computed as numpy arrays for a whole batch, and a numpy gather
    is ~10× cheaper per key than a Python dict lookup (and ~10× cheaper than ``searchsorted``).
    Keys that collide in a level's table go to the next (smaller) level, so every training key
    keeps its own column and an unseen key never borrows one (each hit is verified against the
    stored key) — the exactness of a vocabulary at the speed of the hashing trick. Only the
    sorted keys are pickled; the tables are rebuilt on load (milliseconds).
    """

    def __init__(self, keys: np.ndarray) -> None:
        self.keys = np.unique(np.asarray(keys, dtype=_U64))
        self._build()

    def __len__(self) -> int:
        return len(self.keys)

    def __getstate__(self) -> dict[str, np.ndarray]:
        return {"keys": self.keys}

    def __setstate__(self, state: dict[str, np.ndarray]) -> None:
        self.keys = state["keys"]
        self._build()

    def _build(self) -> None:
        # tables hold a column, or len(keys) for an empty slot (reads a padding key; the hit
        # is then rejected by the column check)
        self._verify = np.append(self.keys, _U64(0))
        empty = len(self.keys)
        self._levels: list[tuple[int, int, np.ndarray]] = []
        remaining = np.arange(len(self.keys), dtype=np.int64)
        for multiplier in _MULTIPLIERS:
            if not len(remaining):
                break
            bits = max(8, int(np.ceil(np.log2(8 * len(remaining)))))
            slots = _slots(self.keys[remaining], multiplier, bits)
            unique, first = np.unique(slots, return_index=True)
            table = np.full(1 << bits, empty, dtype=np.int32)
            table[unique] = remaining[first]
            self._levels.append((multiplier, bits, table))
            placed = np.zeros(len(remaining), dtype=bool)
            placed[first] = True
            remaining = remaining[~placed]
        if len(remaining):  # pragma: no cover - needs 8 successive collisions
            raise ValueError(f"{len(remaining)} feature keys could not be placed")

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """Column of each key, -1 for keys not seen in training."""
        if not self._levels:
            return np.full(len(keys), -1, dtype=np.int32)
        multiplier, bits, table = self._levels[0]
        found = table[_slots(keys, multiplier, bits)]
        hit = self._verify[found] == keys
        hit &= found < len(self.keys)
        out = np.where(hit, found, -1)
        todo = np.flatnonzero(~hit)  # collided training keys and unseen keys: a few per cent
        for multiplier, bits, table in self._levels[1:]:
            if not len(todo):
                break
            pending = keys[todo]
            found = table[_slots(pending, multiplier, bits)]
            hit = self._verify[found] == pending
            hit &= found < len(self.keys)
            out[todo[hit]] = found[hit]
            todo = todo[~hit]
        return out
