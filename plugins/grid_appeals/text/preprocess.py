"""Raw appeal text → (tag, normalised and PII-masked text): the form every later stage reads.

Order matters: characters are normalised first (so full-width digits cannot dodge the masks),
PII is masked before numerals are rewritten (so a phone number spelled in Chinese digits is
masked as a whole), boilerplate goes last. Entity spans refer to the returned ``text``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from grid_appeals.text.normalise import normalise_chars, split_tags, strip_boilerplate
from grid_appeals.text.numerals import convert_numerals
from grid_appeals.text.pii import mask_pii


@dataclass(frozen=True)
class PreparedText:
    tags: tuple[str, ...]
    text: str
    pii: dict[str, int] = field(default_factory=dict)

    @property
    def tag(self) -> str | None:
        return self.tags[0] if self.tags else None


@lru_cache(maxsize=4096)
def _mask_tag(tag: str) -> tuple[str, tuple[tuple[str, int], ...]]:
    """A leading 【…】 is taken for a template tag, but agents also bracket phone numbers, and tags
    are stored: masked like the body (memoised, the same few template tags recur)."""
    masked = mask_pii(tag)
    return masked.text, tuple(masked.counts.items())


@lru_cache(maxsize=65536)
def prepare_text(raw: str | None) -> PreparedText:
    """Normalise, mask and clean one text (memoised: templates and re-sent orders repeat)."""
    tags, body = split_tags(normalise_chars(raw or ""))
    masked = mask_pii(body)
    text = convert_numerals(strip_boilerplate(masked.text))
    counts = masked.counts
    masked_tags = []
    for tag in tags:
        tag_text, tag_counts = _mask_tag(tag)
        masked_tags.append(tag_text)
        for kind, count in tag_counts:
            counts[kind] += count
    return PreparedText(tuple(masked_tags), text, dict(counts))
