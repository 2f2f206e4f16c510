"""Hot-spot topics by lexicon rules (``lexicons/topic_rules.yaml``), with negation handling.

Rules rather than a model because the hot-spot list is a management instrument: supervisors must
be able to read why an appeal was counted under 频繁停电 and change the definition themselves.
Each returned topic carries the cue text and span that fired it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from grid_appeals.text.lexicons import LEXICON_DIR
from grid_appeals.text.rx import finditer, first_chars, gate, literal_prefilter, starts_search

TOPIC_RULES = LEXICON_DIR / "topic_rules.yaml"
_CLAUSE_BREAK = re.compile(r"[，。！？；：\n]")


@dataclass(frozen=True)
class TopicRule:
    topic: str
    cues: tuple[re.Pattern[str], ...]
    negatable: bool
    requires_any: tuple[re.Pattern[str], ...] = ()
    excludes: tuple[re.Pattern[str], ...] = ()
    # characters a cue match can start with (None: unknown); the rule is skipped without any
    # regex search when none of them occurs in the text
    prefilter: frozenset[str] | None = field(default=None, compare=False)
    # alternation of strings every cue match contains one of (None: unknown): a stronger skip
    literals: re.Pattern[str] | None = field(default=None, compare=False)
    # the search that skips the rule (``rx.gate`` of the two above)
    gate: Any = field(default=None, compare=False)
    # possible starts of a cue match, for ``rx.finditer`` (None: plain finditer)
    starts: Any = field(default=None, compare=False)


@dataclass(frozen=True)
class TopicRules:
    rules: tuple[TopicRule, ...]
    negators: tuple[str, ...]
    window: int


def _compile_all(patterns: list[str] | None) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in (patterns or []))


def _compile_union(patterns: list[str] | None) -> tuple[re.Pattern[str], ...]:
    """All cues of a topic as one alternation: one scan of the text per topic instead of per cue."""
    if not patterns:
        return ()
    return (re.compile("|".join(f"(?:{p})" for p in patterns)),)


def load_topic_rules(path: Path = TOPIC_RULES) -> TopicRules:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    rules = []
    for name, spec in (data.get("topics") or {}).items():
        cues = _compile_union(spec.get("cues"))
        starts = [first_chars(p) for p in cues]
        prefilter = None if not cues or None in starts else frozenset().union(*starts)  # type: ignore[arg-type]
        literals = literal_prefilter(cues[0]) if len(cues) == 1 else None
        rules.append(
            TopicRule(
                name,
                cues,
                bool(spec.get("negatable", True)),
                _compile_all(spec.get("requires_any")),
                _compile_all(spec.get("excludes")),
                prefilter,
                literals,
                gate(literals, prefilter),
                starts_search(cues[0]) if len(cues) == 1 else None,
            )
        )
    negators = tuple(sorted(data.get("negators", []), key=len, reverse=True))
    return TopicRules(tuple(rules), negators, int(data.get("negation_window", 3)))


@lru_cache(maxsize=1)
def topic_rules() -> TopicRules:
    return load_topic_rules()


def is_negated(text: str, start: int, negators: tuple[str, ...], window: int) -> bool:
    """True if a negator ends within ``window`` chars before ``start`` in the same clause."""
    left = text[max(0, start - window - 2) : start]
    breaks = list(_CLAUSE_BREAK.finditer(left))
    if breaks:
        left = left[breaks[-1].end() :]
    left = left[-(window + 2) :]
    for negator in negators:
        position = left.rfind(negator)
        if position >= 0 and len(left) - (position + len(negator)) <= window:
            return True
    return False


def match_topics(
    text: str, rules: TopicRules | None = None, chars: set[str] | frozenset[str] | None = None
) -> list[dict[str, Any]]:
    """Topics whose cues fire on ``text``: ``[{topic, cue, start, end}]`` (first firing cue).

    ``chars`` is accepted for compatibility and no longer needed (each rule has a ``gate``).
    """
    rules = rules or topic_rules()
    hits: list[dict[str, Any]] = []
    for rule in rules.rules:
        if rule.gate is not None and rule.gate(text) is None:
            continue
        if rule.excludes and any(p.search(text) for p in rule.excludes):
            continue
        if rule.requires_any and not any(p.search(text) for p in rule.requires_any):
            continue
        hit = _first_hit(text, rule, rules)
        if hit:
            hits.append({"topic": rule.topic, "cue": hit.group(0), "start": hit.start(), "end": hit.end()})
    return hits


def _first_hit(text: str, rule: TopicRule, rules: TopicRules) -> re.Match[str] | None:
    for pattern in rule.cues:
        for match in finditer(pattern, rule.starts, text):
            if rule.negatable and is_negated(text, match.start(), rules.negators, rules.window):
                continue
            return match
    return None


def reload_topic_rules() -> None:
    topic_rules.cache_clear()
