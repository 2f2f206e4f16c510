"""Address → province / city / district with ``cpca``, and matching to the supply-org tree.

cpca builds an in-memory matcher over the national administrative-code table at import (≈0.5 s)
and its public API wraps every call in a pandas DataFrame, so this module imports it lazily,
only calls it when the text contains an address cue, and memoises per text. cpca's own
extraction code runs on a faster index of the same names (``_SuffixIndex``).
"""

from __future__ import annotations

import copy
import importlib.resources
import re
import sys
import types
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

ADDRESS_CUE = re.compile(r"省|市|区|县|镇|乡|街道|村|路|街|小区|社区|巷|组")
_DETAIL_END = re.compile(
    r"^[^，。！？；：、\s()]{0,25}?(?:路|街|巷|弄|村|组|小区|社区|苑|园|院|号|栋|单元|室|楼|镇|乡|街道)"
    r"(?:[^，。！？；：、\s()]{0,12}(?:号|栋|单元|室|楼|组))*"
)


@dataclass(frozen=True)
class Address:
    province: str | None
    city: str | None
    district: str | None
    adcode: str | None
    start: int
    end: int

    def region(self) -> dict[str, Any]:
        """The administrative fields (as ``as_dict`` without the span)."""
        return {
            "province": self.province,
            "city": self.city,
            "district": self.district,
            "adcode": self.adcode,
        }

    def as_dict(self) -> dict[str, Any]:
        """``dataclasses.asdict`` without its recursive deep copy (every field is a str/int/None)."""
        return {**self.region(), "start": self.start, "end": self.end}


def _import_cpca() -> Any:
    """Import cpca; it needs ``pkg_resources`` (setuptools), which modern venvs lack.

    A throw-away shim providing only ``resource_stream`` is registered for the import and
    removed afterwards, so no other library sees a fake ``pkg_resources``.
    """
    try:
        import cpca
        import pkg_resources  # noqa: F401

        return cpca
    except ModuleNotFoundError:
        pass
    shim = types.ModuleType("pkg_resources")

    def resource_stream(package: str, name: str) -> Any:
        return importlib.resources.files(package).joinpath(name).open("rb")

    shim.resource_stream = resource_stream  # type: ignore[attr-defined]
    sys.modules["pkg_resources"] = shim
    try:
        import cpca
    finally:
        sys.modules.pop("pkg_resources", None)
    return cpca


@lru_cache(maxsize=1)
def cpca_module() -> Any:
    return _import_cpca()


def _name_end(text: str, name: str | None, pos: int) -> int:
    """End offset of an administrative name at ``pos``, which may be written without its suffix."""
    if not name or pos < 0:
        return -1
    for length in range(len(name), 0, -1):
        if text.startswith(name[:length], pos):
            return pos + length
    return pos + 1


class _SuffixIndex:
    """What cpca's Aho-Corasick automaton (pyahocorasick) yields for a text, found faster.

    ``iter(text)`` is every occurrence of every name, by end offset and, at one end, longest
    first — the automaton's order (tested equal on appeals and random strings of name
    characters). pyahocorasick walks ~0.4 µs per character here (thousands of names start at its
    root); this finds the offsets where some name can end with one regex scan in C and looks up
    only the name lengths that end in that character.
    """

    def __init__(self, automaton: Any) -> None:
        self.values: dict[str, Any] = {word: automaton.get(word) for word in automaton}
        lengths: dict[str, set[int]] = {}
        for word in self.values:
            lengths.setdefault(word[-1], set()).add(len(word))
        self.lengths = {char: tuple(sorted(found, reverse=True)) for char, found in lengths.items()}
        self.ends = re.compile("[" + "".join(re.escape(char) for char in sorted(self.lengths)) + "]")

    def iter(self, text: str) -> Any:
        values, lengths = self.values, self.lengths
        for match in self.ends.finditer(text):
            end = match.start()
            for length in lengths[text[end]]:
                if length <= end + 1:
                    value = values.get(text[end - length + 1 : end + 1])
                    if value is not None:
                        yield end, value

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)


@lru_cache(maxsize=1)
def _extract_addrs() -> Any:
    """cpca's ``_extract_addrs`` (the generator behind ``cpca.transform``, without the DataFrame),
    reading a copy of its matcher whose automaton is a ``_SuffixIndex``: the same code, run in a
    scope where ``matcher`` is that copy (cpca's own matcher is left untouched)."""
    cpca = cpca_module()
    matcher = copy.copy(cpca.matcher)
    matcher.ac = _SuffixIndex(cpca.matcher.ac)
    original = cpca._extract_addrs
    scope = {**original.__globals__, "matcher": matcher}
    return types.FunctionType(original.__code__, scope, original.__name__, original.__defaults__)


def _extract(text: str) -> dict[str, Any]:
    try:
        return next(_extract_addrs()(text, True, {}))
    except AttributeError:  # pragma: no cover - cpca internals changed
        frame = cpca_module().transform([text], pos_sensitive=True)
        return frame.iloc[0].to_dict()


@lru_cache(maxsize=32768)
def extract_address(text: str) -> Address | None:
    """First address in ``text`` (province/city/district + span), or None without any cue."""
    if not text or not ADDRESS_CUE.search(text):
        return None
    record = _extract(text)
    names = (record.get("省"), record.get("市"), record.get("区"))
    positions = (record.get("省_pos", -1), record.get("市_pos", -1), record.get("区_pos", -1))
    found = [(pos, name) for pos, name in zip(positions, names, strict=True) if pos is not None and pos >= 0]
    if not found:
        return None
    start = min(pos for pos, _ in found)
    end = max(_name_end(text, name, pos) for pos, name in found)
    detail = _DETAIL_END.match(text[end:])
    if detail:
        end += detail.end()
    return Address(names[0], names[1], names[2], record.get("adcode"), start, end)


def match_org(address: Address | Mapping[str, Any] | None, district_to_org: Mapping[str, str]) -> str | None:
    """org_no of the supply unit for an address, from a mapping of district (or city) name → org_no.

    Names are tried with and without their administrative suffix (雁塔区 / 雁塔), district first,
    so the org tree can be keyed either way.
    """
    if address is None:
        return None
    data = address.as_dict() if isinstance(address, Address) else dict(address)
    for key in ("district", "city"):
        name = data.get(key)
        if not name:
            continue
        for candidate in (name, re.sub(r"(市|区|县|自治县)$", "", name)):
            if candidate in district_to_org:
                return district_to_org[candidate]
    return None
