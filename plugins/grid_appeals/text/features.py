"""Feature views for the supervised classifier: words, characters and pinyin.

Why three views: jieba tokens (after synonym normalisation) carry the business vocabulary;
character n-grams survive segmentation errors and typos; pinyin syllables make homophone typos
(停店/停电, 电彪/电表, 抢秀/抢修) produce the same features, which agents' fast typing needs.
Everything is a module-level function so fitted models pickle by reference.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import pairwise
from typing import NamedTuple

from pypinyin import Style, lazy_pinyin


class Doc(NamedTuple):
    """A prepared appeal: the normalised masked text and its cleaned tokens."""

    text: str
    tokens: tuple[str, ...]


def make_doc(raw: str) -> Doc:
    from grid_appeals.text.preprocess import prepare_text
    from grid_appeals.text.segmenter import tokenize

    prepared = prepare_text(raw)
    return Doc(prepared.text, tuple(tokenize(prepared.text)))


def doc_text(doc: Doc) -> str:
    return doc.text


def doc_tokens(doc: Doc) -> list[str]:
    return list(doc.tokens)


@lru_cache(maxsize=65536)
def _syllable(char: str) -> str:
    return lazy_pinyin(char, style=Style.NORMAL, errors="ignore")[0] if "\u4e00" <= char <= "\u9fff" else ""


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
