"""The hand-written labelled seed corpus (``data/seed_corpus.tsv``).

Written by the project independently of the simulator, in agents' template phrasing, colloquial
Shaanxi speech, with typos and misleading 【tags】, so a model trained on simulated orders also
sees human variety. Columns: text, business_type, complaint_class, second_level (the last two
are empty for non-complaints), family.

``family`` is the author-intent group of a row: the rows written as variants of one situation
(agent phrasing, colloquial, short, misleading tag …) plus rows whose wording is near-identical
(character-bigram Jaccard ≥ 0.3 with the same labels). Cross-validation groups by it, so a
paraphrase of a test row is never in training and the score measures unseen wording. Files
without the column still load: each row is then its own family.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

SEED_CORPUS = Path(__file__).resolve().parent / "data" / "seed_corpus.tsv"


@dataclass(frozen=True)
class SeedRow:
    text: str
    business_type: str
    complaint_class: str | None
    second_level: str | None
    family: str = ""


def load_seed_corpus(path: Path = SEED_CORPUS) -> list[SeedRow]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [SeedRow(r["text"], r["business_type"], r["complaint_class"] or None, r["second_level"] or None,
                        r.get("family") or f"row-{index}")
                for index, r in enumerate(reader)]


def seed_labels(rows: list[SeedRow]) -> dict[str, list[str | None]]:
    """Labels in the shape ``classifier.train`` expects."""
    return {"business_type": [r.business_type for r in rows],
            "complaint_class": [r.complaint_class for r in rows],
            "second_level": [r.second_level for r in rows]}
