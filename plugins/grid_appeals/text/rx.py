"""Cheap pre-filters for the business users' regexes (topic rules, escalation cues).

Why: topics and cues are dozens of alternations that are searched in every appeal, and Python's
``re`` has no literal pre-scan for patterns that start with a group, so each search walks the
whole text trying every branch at every position, although most cues cannot occur at all. The
first characters a pattern can start with are known from its parse tree; if none of them is in
the text (a set test at C speed), the search is skipped. The analysis is conservative: anything
it does not understand (``.``, ``\\d``, negated sets, case folding, empty matches) yields ``None``,
meaning "always search".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

try:  # Python ≥ 3.11
    from re import _constants as C  # type: ignore[attr-defined]
    from re import _parser as P  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - older Pythons
    import sre_constants as C  # type: ignore[no-redef]
    import sre_parse as P  # type: ignore[no-redef]

_MAX_RANGE = 512  # character ranges wider than this are not expanded (give up instead)
_REPEATS = {C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", C.MAX_REPEAT)}
_ZERO_WIDTH = {C.AT, C.ASSERT, C.ASSERT_NOT}


class _Unknown(Exception):
    """The pattern uses something the analysis does not model."""


def _first(items: Any) -> tuple[set[str], bool]:
    """(possible first characters, can match empty) of a parsed sequence."""
    chars: set[str] = set()
    for op, arg in items:
        item_chars, nullable = _first_item(op, arg)
        chars |= item_chars
        if not nullable:
            return chars, False
    return chars, True


def _first_item(op: Any, arg: Any) -> tuple[set[str], bool]:
    if op is C.LITERAL:
        return {chr(arg)}, False
    if op is C.IN:
        chars: set[str] = set()
        for sub_op, sub_arg in arg:
            if sub_op is C.LITERAL:
                chars.add(chr(sub_arg))
            elif sub_op is C.RANGE and sub_arg[1] - sub_arg[0] <= _MAX_RANGE:
                chars.update(chr(c) for c in range(sub_arg[0], sub_arg[1] + 1))
            else:
                raise _Unknown
        return chars, False
    if op is C.BRANCH:
        chars, nullable = set(), False
        for alternative in arg[1]:
            alt_chars, alt_nullable = _first(alternative)
            chars |= alt_chars
            nullable = nullable or alt_nullable
        return chars, nullable
    if op is C.SUBPATTERN:
        _group, add_flags, _del_flags, sub = arg
        if add_flags & re.IGNORECASE:
            raise _Unknown
        return _first(sub)
    if op in _REPEATS:
        low, _high, sub = arg
        chars, nullable = _first(sub)
        return chars, nullable or low == 0
    if op in _ZERO_WIDTH:
        return set(), True
    raise _Unknown


def first_chars(pattern: re.Pattern[str] | str) -> frozenset[str] | None:
    """Characters every match of ``pattern`` starts with, or None if that cannot be bounded."""
    source = pattern.pattern if isinstance(pattern, re.Pattern) else pattern
    flags = pattern.flags if isinstance(pattern, re.Pattern) else 0
    if flags & re.IGNORECASE or not isinstance(source, str):
        return None
    try:
        parsed = P.parse(source, flags)
        if parsed.state.flags & re.IGNORECASE:
            return None
        chars, nullable = _first(parsed)
    except (_Unknown, re.error):
        return None
    return None if nullable or not chars else frozenset(chars)


def may_match(prefilter: frozenset[str] | None, text_chars: set[str] | frozenset[str]) -> bool:
    """False only if a pattern with this prefilter certainly has no match in the text."""
    return prefilter is None or not prefilter.isdisjoint(text_chars)


# ---- required literals: a stronger prefilter than first characters ------------------------------
_MAX_LITERALS = 64  # more alternatives than this are not worth a prefilter


def _required(items: Any) -> frozenset[str] | None:
    """Strings of which every match of the parsed sequence contains at least one (None: unknown).

    Every element of a sequence must match, so each literal run, and each required set of a
    group, branch or repeat with a minimum ≥ 1, is a valid answer; the most selective is kept.
    """
    options: list[frozenset[str]] = []
    run: list[str] = []
    for op, arg in items:
        if op is C.LITERAL:
            run.append(chr(arg))
            continue
        if run:
            options.append(frozenset({"".join(run)}))
            run = []
        sub: frozenset[str] | None = None
        if op is C.IN and all(sub_op is C.LITERAL for sub_op, _ in arg):
            sub = frozenset(chr(code) for _, code in arg)  # [停断]: one of these characters
        elif op is C.SUBPATTERN and not arg[1] & re.IGNORECASE:
            sub = _required(arg[3])
        elif op is C.BRANCH:
            alternatives = [_required(alternative) for alternative in arg[1]]
            if all(alternatives):
                sub = frozenset().union(*alternatives)  # type: ignore[arg-type]
        elif op in _REPEATS and arg[0] >= 1:
            sub = _required(arg[2])
        if sub and len(sub) <= _MAX_LITERALS:
            options.append(sub)
    if run:
        options.append(frozenset({"".join(run)}))
    if not options:
        return None
    return max(options, key=lambda strings: (min(map(len, strings)), -len(strings)))


def required_literals(pattern: re.Pattern[str] | str) -> frozenset[str] | None:
    """Strings of which every match of ``pattern`` contains one, or None if that cannot be bounded.

    A text containing none of them cannot match (see ``literal_prefilter``).
    """
    source = pattern.pattern if isinstance(pattern, re.Pattern) else pattern
    flags = pattern.flags if isinstance(pattern, re.Pattern) else 0
    if flags & re.IGNORECASE or not isinstance(source, str):
        return None
    try:
        parsed = P.parse(source, flags)
    except re.error:
        return None
    if parsed.state.flags & re.IGNORECASE:
        return None
    literals = _required(parsed.data)
    return literals if literals and all(literals) else None


def literal_prefilter(pattern: re.Pattern[str] | str) -> re.Pattern[str] | None:
    """``required_literals`` as one alternation of plain strings, or None.

    Unlike the cue patterns (whose alternatives start with groups), an alternation of literals
    lets ``re`` skip through the text by a first-character set in C, and most texts contain
    none of a rule's literals, so the rule's own regex is rarely run at all.
    """
    literals = required_literals(pattern)
    if not literals:
        return None
    return re.compile("|".join(re.escape(s) for s in sorted(literals, key=lambda s: (-len(s), s))))


def may_contain(prefilter: re.Pattern[str] | None, text: str) -> bool:
    """False only if ``text`` contains none of the prefilter's literals (None: always True)."""
    return prefilter is None or prefilter.search(text) is not None


def gate(literals: re.Pattern[str] | None, first: frozenset[str] | None) -> Any:
    """One search that rules a text out before a rule's own regex runs: the literal prefilter if
    there is one, else a class of the possible first characters, else None (always run).

    ``gate(text) is None`` means the pattern certainly has no match in ``text`` (a C scan either
    way, and one call instead of ``may_contain`` + ``may_match``).
    """
    if literals is not None:
        return literals.search
    if first:
        return re.compile("[" + "".join(re.escape(c) for c in sorted(first)) + "]").search
    return None


# ---- candidate offsets: finditer that skips where no match can start ---------------------------
def _sre_skips(items: Any) -> bool:
    """Whether ``re`` itself skips ahead to possible starts (a literal or character-set prefix in
    the compiled pattern's info block): it does for a literal, a set, or a branch whose
    alternatives all start with a literal, looking through groups as ``re``'s compiler does."""
    while items:
        op, arg = items[0]
        if op is C.SUBPATTERN:
            items = arg[3]
            continue
        if op in (C.LITERAL, C.IN):
            return True
        if op is C.BRANCH:
            return all(alt and alt[0][0] is C.LITERAL for alt in arg[1])
        return False
    return False


def starts_search(pattern: re.Pattern[str]) -> Any:
    """A search for the characters a match of ``pattern`` can start with, for ``finditer`` — or
    None where that cannot help (unknown first characters, or ``re`` skips by itself)."""
    first = first_chars(pattern)
    if not first:
        return None
    try:
        if _sre_skips(P.parse(pattern.pattern, pattern.flags).data):
            return None
    except re.error:  # pragma: no cover - the pattern compiled, so it parses
        return None
    return re.compile("[" + "".join(re.escape(c) for c in sorted(first)) + "]").search


def finditer(pattern: re.Pattern[str], starts: Any, text: str) -> Iterator[re.Match[str]]:
    """``pattern.finditer(text)``, trying the pattern only where ``starts`` finds a possible first
    character (``starts_search``; None: plain finditer).

    Why: a pattern that begins with a group (topic cues, ``(要|就)投诉``) gets no prefix from
    ``re``, whose search then runs every alternative at every offset of the text. Matching at an
    offset sees the whole string (look-behinds included), as the search would; the patterns with
    known first characters cannot match empty, so each next try starts at the previous end.
    """
    if starts is None:
        yield from pattern.finditer(text)
        return
    match_at = pattern.match
    pos = 0
    while (candidate := starts(text, pos)) is not None:
        offset = candidate.start()
        match = match_at(text, offset)
        if match is None:
            pos = offset + 1
            continue
        yield match
        pos = match.end()
