"""Explainable sentiment / urgency score with escalation cues (weights in a data file).

A supervisor must see *why* an appeal was ranked urgent ("呼吸机 +3.5, 第3次 +1.5") and tune the
weights without a release, so the score is a transparent sum of cue weights from
``lexicons/escalation_cues.tsv`` squashed into 0..1, not a black-box model.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from grid_appeals.text.lexicons import LEXICON_DIR
from grid_appeals.text.rx import finditer, first_chars, gate, literal_prefilter, starts_search
from grid_appeals.text.topics import is_negated

ESCALATION_CUES = LEXICON_DIR / "escalation_cues.tsv"
SCALE = 4.0
# categories where "不会/没有/不想 + cue" cancels the cue (不会投诉, 家里没有老人)
NEGATABLE = frozenset(
    {"threat", "media", "legal", "vulnerable", "medical", "anger", "regulator", "government"}
)
NEGATORS = ("不会", "不想", "不打算", "没有", "没", "不", "无", "未")


@dataclass(frozen=True)
class Cue:
    name: str
    category: str
    weight: float
    pattern: re.Pattern[str]
    # characters a match can start with (None: unknown): cues absent from the text are skipped
    prefilter: frozenset[str] | None = field(default=None, compare=False)
    # alternation of strings every match contains one of (None: unknown): a stronger skip
    literals: re.Pattern[str] | None = field(default=None, compare=False)
    # the search that skips the cue (``rx.gate`` of the two above)
    gate: Any = field(default=None, compare=False)
    # possible starts of a match, for ``rx.finditer`` (None: plain finditer)
    starts: Any = field(default=None, compare=False)


def load_cues(path: Path = ESCALATION_CUES) -> tuple[Cue, ...]:
    rows = [
        line for line in path.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")
    ]
    reader = csv.DictReader(rows, delimiter="\t")
    cues = []
    for r in reader:
        pattern = re.compile(r["pattern"])
        first, literals = first_chars(pattern), literal_prefilter(pattern)
        cues.append(
            Cue(
                r["cue"],
                r["category"],
                float(r["weight"]),
                pattern,
                first,
                literals,
                gate(literals, first),
                starts_search(pattern),
            )
        )
    return tuple(cues)


@lru_cache(maxsize=1)
def escalation_cues() -> tuple[Cue, ...]:
    return load_cues()


def score_text(
    text: str, cues: tuple[Cue, ...] | None = None, chars: set[str] | frozenset[str] | None = None
) -> dict[str, Any]:
    """``{score, points, level, cues:[{cue, category, weight, text, start, end}]}``.

    ``chars`` is accepted for compatibility and no longer needed (each cue has a ``gate``).
    """
    fired: list[dict[str, Any]] = []
    for cue in cues or escalation_cues():
        if cue.gate is not None and cue.gate(text) is None:
            continue
        for match in finditer(cue.pattern, cue.starts, text):
            if cue.category in NEGATABLE and is_negated(text, match.start(), NEGATORS, 2):
                continue
            fired.append(
                {
                    "cue": cue.name,
                    "category": cue.category,
                    "weight": cue.weight,
                    "text": match.group(0),
                    "start": match.start(),
                    "end": match.end(),
                }
            )
            break
    points = sum(c["weight"] for c in fired)
    score = round(1 - math.exp(-points / SCALE), 3)
    level = "high" if score >= 0.7 else "medium" if score >= 0.4 else "low"
    return {"score": score, "points": points, "level": level, "cues": fired}


def reload_cues() -> None:
    escalation_cues.cache_clear()
