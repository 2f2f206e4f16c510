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


@lru_cache(maxsize=65536)
def prepare_text(raw: str | None) -> PreparedText:
    """Normalise, mask and clean one text (memoised: templates and re-sent orders repeat)."""
    tags, body = split_tags(normalise_chars(raw or ""))
    masked = mask_pii(body)
    text = convert_numerals(strip_boilerplate(masked.text))
    return PreparedText(tuple(tags), text, dict(masked.counts))
