"""Character-level normalisation: one spelling for one concept before anything else runs.

Agents type on different input methods (full-width digits, traditional characters from
Hong Kong/Taiwan IMEs, mixed punctuation), and the same appeal must produce the same tokens,
PII masks and entity spans regardless. Everything here is pure string work, compiled once and
memoised, because the same boilerplate sentences repeat across millions of orders.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from grid_appeals.text.lexicons import LEXICON_DIR, _data_lines
from grid_appeals.text.numerals import convert_numerals
from grid_appeals.text.rx import literal_prefilter, may_contain

# full-width ASCII block (！ … ～) → ASCII, ideographic space → space
_FULL_TO_HALF = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FULL_TO_HALF[0x3000] = 0x20
_FULL_TO_HALF.update({0xA0: 0x20, 0x2002: 0x20, 0x2003: 0x20, 0x2009: 0x20, 0x200B: None, 0xFEFF: None})
# quotes, dashes, brackets and ellipsis variants → one form each
_PUNCT_MAP = str.maketrans(
    {
        "“": '"',
        "”": '"',
        "„": '"',
        "「": '"',
        "」": '"',
        "『": '"',
        "』": '"',
        "‘": "'",
        "’": "'",
        "—": "-",
        "–": "-",
        "―": "-",
        "‐": "-",
        "−": "-",
        "〜": "~",
        "〔": "(",
        "〕": ")",
        "﹝": "(",
        "﹞": ")",
        "〖": "【",
        "〗": "】",
        "﹐": "，",
        "﹑": "、",
        "﹔": "；",
        "﹕": "：",
        "﹖": "？",
        "﹗": "！",
        "｡": "。",
        "､": "、",
    }
)
# Both tables in one pass (their keys are disjoint and _FULL_TO_HALF only yields ASCII, which
# _PUNCT_MAP does not map, so this equals applying them one after the other), minus the Chinese
# sentence punctuation every text has: ，：！？； would become ASCII here only to be turned back
# below (，/： stay ASCII between digits: _DIGIT_FW_COMMA / _DIGIT_FW_COLON do that part).
_ROUND_TRIP = "，：！？；"
_CHAR_MAP = {k: v for k, v in {**_FULL_TO_HALF, **_PUNCT_MAP}.items() if chr(k) not in _ROUND_TRIP}
# the same characters as one class: most texts have none, and a regex scan for them is several
# times cheaper than str.translate with a dict table (a Python-level lookup per character)
_NEEDS_CHAR_MAP = re.compile("[" + "".join(re.escape(chr(code)) for code in sorted(_CHAR_MAP)) + "]")
_DIGIT_FW_COMMA = re.compile(r"(?<=\d)，(?=\d)")
_DIGIT_FW_COLON = re.compile(r"(?<=\d)：(?=\d)")
_CJK = r"\u3400-\u9fff\uf900-\ufaff"
_CJK_PUNCT = "，。！？；：、…“”（）【】《》"
# ASCII sentence punctuation → Chinese, except between digits (1,000 / 12:30 / 3.5)
_COMMA = re.compile(r"(?<!\d),|,(?!\d)")
_COLON = re.compile(r"(?<!\d):|:(?!\d)")
_SIMPLE_PUNCT = str.maketrans({"!": "！", "?": "？", ";": "；"})
_PERIOD = re.compile(rf"(?<=[{_CJK}])\.(?!\d)")
_ELLIPSIS = re.compile(r"(\.{3,}|。{2,}|…+)")
_REPEATED_PUNCT = re.compile(r"([，。！？；：、~\-])\1+")
_SPACES = re.compile(r"\s+")
_ANY_SPACE = re.compile(r"\s")
_SPACE_NEAR_CJK = re.compile(rf"(?<=[{_CJK}{_CJK_PUNCT}]) | (?=[{_CJK}{_CJK_PUNCT}])")
_LEADING_TAGS = re.compile(r"^\s*(?:[【\[]([^】\]\[【]{1,20})[】\]]\s*)+")
_ONE_TAG = re.compile(r"[【\[]([^】\]\[【]{1,20})[】\]]")


@lru_cache(maxsize=1)
def _traditional_chars() -> frozenset[str]:
    """Characters that t2s changes; texts without any skip OpenCC (it is pure Python and slow)."""
    converter = _t2s()
    sample = "".join(chr(code) for code in range(0x3400, 0xA000))
    converted = converter.convert(sample)
    if len(converted) != len(sample):  # defensive: fall back to "always convert"
        return frozenset(sample)
    return frozenset(a for a, b in zip(sample, converted, strict=True) if a != b)


@lru_cache(maxsize=1)
def _t2s():  # type: ignore[no-untyped-def]
    from opencc import OpenCC

    return OpenCC("t2s")


@lru_cache(maxsize=1)
def _traditional_class() -> re.Pattern[str]:
    """``_traditional_chars`` as one character class: a C scan instead of a set test per char."""
    return re.compile("[" + "".join(re.escape(c) for c in sorted(_traditional_chars())) + "]")


def to_simplified(text: str) -> str:
    """Traditional → simplified (OpenCC phrase-level t2s), only for texts with a traditional char."""
    if not _traditional_class().search(text):
        return text
    return _t2s().convert(text)


def _collapse_punct(text: str) -> str:
    """Repeated punctuation → one. ``sub`` with a template (``\\1``) costs ~2 µs per call in Python
    code even when nothing matches; most texts have no repeat, which a plain search finds out."""
    return _REPEATED_PUNCT.sub(r"\1", text) if _REPEATED_PUNCT.search(text) else text


def normalise_chars(text: str) -> str:
    """Width, script, punctuation and whitespace; keeps the text's meaning and order.

    Most agent texts already use Chinese punctuation and no spaces, so each regex pass is
    guarded by a substring test (C speed) and skipped when it cannot match.
    """
    if _NEEDS_CHAR_MAP.search(text):
        text = text.translate(_CHAR_MAP)
    text = to_simplified(text)
    if "," in text:
        text = _COMMA.sub("，", text)
    if "，" in text:
        text = _DIGIT_FW_COMMA.sub(",", text)
    if ":" in text:
        text = _COLON.sub("：", text)
    if "：" in text:
        text = _DIGIT_FW_COLON.sub(":", text)
    if "!" in text or "?" in text or ";" in text:
        text = text.translate(_SIMPLE_PUNCT)
    if "." in text or "…" in text or "。。" in text:
        text = _ELLIPSIS.sub("…", text)
        if "." in text:
            text = _PERIOD.sub("。", text)
    text = _collapse_punct(text)
    if not _ANY_SPACE.search(text):
        return text
    text = _SPACES.sub(" ", text).strip()
    return _SPACE_NEAR_CJK.sub("", text) if " " in text else text


def split_tags(text: str) -> tuple[list[str], str]:
    """Leading 【tag】s (template tags chosen by the agent) and the body after them."""
    match = _LEADING_TAGS.match(text)
    if not match:
        return [], text
    tags = [t.strip() for t in _ONE_TAG.findall(match.group(0))]
    return tags, text[match.end() :].lstrip()


@lru_cache(maxsize=1)
def _boilerplate() -> tuple[tuple[re.Pattern[str], re.Pattern[str] | None], ...]:
    """Each template pattern with a literal prefilter (``rx.literal_prefilter``: strings every
    match contains one of; most texts contain none, so the pattern itself is rarely run)."""
    patterns = [re.compile(p) for p in _data_lines(LEXICON_DIR / "boilerplate.txt")]
    return tuple((pattern, literal_prefilter(pattern)) for pattern in patterns)


def strip_boilerplate(text: str) -> str:
    """Remove template sentences listed in ``lexicons/boilerplate.txt`` (in file order)."""
    for pattern, prefilter in _boilerplate():
        if may_contain(prefilter, text):
            text = pattern.sub("", text)
    return _collapse_punct(text).strip(" ，；")


@dataclass(frozen=True)
class NormalisedText:
    tags: tuple[str, ...]
    text: str

    @property
    def tag(self) -> str | None:
        return self.tags[0] if self.tags else None


@lru_cache(maxsize=65536)
def normalise(text: str) -> NormalisedText:
    """Full normalisation without PII masking (see ``preprocess.prepare_text`` for both)."""
    tags, body = split_tags(normalise_chars(text or ""))
    return NormalisedText(tuple(tags), convert_numerals(strip_boilerplate(body)))
