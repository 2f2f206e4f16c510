"""Loading of the plain-data lexicons under ``text/lexicons/``.

The lexicons are reviewed by business users, so they live as text files rather than Python
constants; this module parses them once and caches the result. ``reload_lexicons()`` clears every
cache that depends on them (segmenter included) so an edited file takes effect without a restart.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

LEXICON_DIR = Path(__file__).resolve().parent / "lexicons"
BUSINESS_TERMS = LEXICON_DIR / "business_terms.txt"
SYNONYMS = LEXICON_DIR / "synonyms.tsv"
STOPWORDS = LEXICON_DIR / "stopwords.txt"
# extra user files: any ``*.txt`` here is loaded after business_terms.txt (see README.md)
USER_TERMS_DIR = LEXICON_DIR / "user_terms"

DEFAULT_POS = "n"


@dataclass(frozen=True)
class Term:
    """One business-lexicon entry, as jieba's ``add_word`` wants it."""

    word: str
    freq: int | None
    pos: str


def _data_lines(path: Path) -> list[str]:
    """Non-empty, non-comment lines of a lexicon file (UTF-8, ``#`` starts a comment line)."""
    if not path.exists():
        return []
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


def parse_term_line(line: str) -> Term:
    """Parse ``word [freq] [pos]``; the word itself may not contain spaces."""
    parts = line.split()
    word = parts[0]
    freq: int | None = None
    pos = DEFAULT_POS
    for part in parts[1:]:
        if part.isdigit():
            freq = int(part)
        else:
            pos = part
    return Term(word, freq, pos)


def term_files() -> list[Path]:
    """Business lexicon first, then user add-on files in name order (later files win)."""
    extra = sorted(USER_TERMS_DIR.glob("*.txt")) if USER_TERMS_DIR.is_dir() else []
    return [BUSINESS_TERMS, *extra]


@lru_cache(maxsize=1)
def business_terms() -> tuple[Term, ...]:
    terms: dict[str, Term] = {}
    for path in term_files():
        for line in _data_lines(path):
            term = parse_term_line(line)
            terms[term.word] = term
    return tuple(terms.values())


@lru_cache(maxsize=1)
def synonyms() -> dict[str, str]:
    """variant → canonical. Chains (a→b, b→c) are resolved so lookups are one step."""
    mapping: dict[str, str] = {}
    for line in _data_lines(SYNONYMS):
        parts = line.split("\t") if "\t" in line else line.split()
        if len(parts) >= 2 and parts[0] != parts[1]:
            mapping[parts[0].strip()] = parts[1].strip()
    resolved = {}
    for variant, canonical in mapping.items():
        seen = {variant}
        while canonical in mapping and canonical not in seen:
            seen.add(canonical)
            canonical = mapping[canonical]
        resolved[variant] = canonical
    return resolved


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    return frozenset(_data_lines(STOPWORDS))


@lru_cache(maxsize=1)
def lexicon_fingerprint() -> str:
    """Hash of every lexicon file: stored in model metadata so a model says which words it saw."""
    digest = hashlib.sha256()
    for path in [*term_files(), SYNONYMS, STOPWORDS]:
        if path.exists():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def reload_lexicons() -> None:
    """Forget every parsed lexicon and the tokenizer built from them (after editing a file)."""
    business_terms.cache_clear()
    synonyms.cache_clear()
    stopwords.cache_clear()
    lexicon_fingerprint.cache_clear()
    from grid_appeals.text import segmenter

    segmenter.reset_tokenizer()
