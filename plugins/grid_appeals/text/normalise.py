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

# full-width ASCII block (！ … ～) → ASCII, ideographic space → space
_FULL_TO_HALF = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FULL_TO_HALF[0x3000] = 0x20
_FULL_TO_HALF.update({0xA0: 0x20, 0x2002: 0x20, 0x2003: 0x20, 0x2009: 0x20, 0x200B: None, 0xFEFF: None})
# quotes, dashes, brackets and ellipsis variants → one form each
_PUNCT_MAP = str.maketrans({
    "“": '"', "”": '"', "„": '"', "「": '"', "」": '"', "『": '"', "』": '"', "‘": "'", "’": "'",
    "—": "-", "–": "-", "―": "-", "‐": "-", "−": "-", "〜": "~", "〔": "(", "〕": ")", "﹝": "(", "﹞": ")",
    "〖": "【", "〗": "】", "﹐": "，", "﹑": "、", "﹔": "；", "﹕": "：", "﹖": "？", "﹗": "！", "｡": "。",
    "､": "、",
})
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


def to_simplified(text: str) -> str:
    if _traditional_chars().isdisjoint(text):
        return text
    return _t2s().convert(text)


def normalise_chars(text: str) -> str:
    """Width, script, punctuation and whitespace; keeps the text's meaning and order.

    Most agent texts already use Chinese punctuation and no spaces, so each regex pass is
    guarded by a substring test (C speed) and skipped when it cannot match.
    """
    text = text.translate(_FULL_TO_HALF).translate(_PUNCT_MAP)
    text = to_simplified(text)
    if "," in text:
        text = _COMMA.sub("，", text)
    if ":" in text:
        text = _COLON.sub("：", text)
    text = text.translate(_SIMPLE_PUNCT)
    if "." in text or "…" in text or "。。" in text:
        text = _ELLIPSIS.sub("…", text)
        if "." in text:
            text = _PERIOD.sub("。", text)
    text = _REPEATED_PUNCT.sub(r"\1", text)
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
    return tags, text[match.end():].lstrip()


@lru_cache(maxsize=1)
def _boilerplate() -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in _data_lines(LEXICON_DIR / "boilerplate.txt"))


def strip_boilerplate(text: str) -> str:
    """Remove template sentences listed in ``lexicons/boilerplate.txt``."""
    for pattern in _boilerplate():
        text = pattern.sub("", text)
    return _REPEATED_PUNCT.sub(r"\1", text).strip(" ，；")


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
