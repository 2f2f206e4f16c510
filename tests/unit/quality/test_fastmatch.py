"""Byte-decided regex checks equal the regex on every value (ASCII or not, newlines, signs)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from grid_appeals.quality.fastmatch import NUMERIC_PATTERN, arrow_mask, contains_mask, digit_range
from grid_appeals.quality.suites import TYPE_PATTERNS
from grid_appeals.sources.contracts import NAMED_FORMATS


@pytest.fixture(autouse=True, params=["1", "0"], ids=["compiled", "numpy"])
def _engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every check runs with the numba kernels and with their numpy twins."""
    monkeypatch.setenv("GRID_JIT", request.param)


ALPHABET = list("0123456789") * 4 + list(".+-eE x\n") + ["１", "٣", "é", ""]
EDGE = [
    "", "0", "1234567890", "12345678901234567", "123456789\n", "1234567890\n", "１２３４５６７８９０",
    "123456789٣", " 1234567890", "+1234567890", "1.5", "-1.5", "+.5", "5.", ".", "-", "+-1", "1-",
    "1..2", "1.5e3", "1.5E+3", "1e", "e1", "1.5\n", "٣.5", "0012", None, "33401", "3300000001",
]  # fmt: skip


def _random_values(seed: int, n: int = 20_000) -> list[str | None]:
    rng = np.random.default_rng(seed)
    out: list[str | None] = []
    for i in range(n):
        if i % 41 == 0:
            out.append(None)
            continue
        k = int(rng.integers(0, 18))
        if i % 2:  # mostly digits: lengths around the patterns' bounds
            out.append("".join(rng.choice(list("0123456789"), k)) + ("" if i % 7 else rng.choice(ALPHABET)))
        else:
            out.append("".join(rng.choice(ALPHABET, k)))
    return out + EDGE


def _series(values: list[str | None]) -> pd.Series:
    return pd.Series(values, dtype="str")


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize(
    "pattern", [NAMED_FORMATS["mp_id"], NAMED_FORMATS["org_no"], NAMED_FORMATS["cons_no"]]
)
def test_digit_patterns_equal_str_contains(seed: int, pattern: str) -> None:
    assert digit_range(pattern) is not None
    s = _series(_random_values(seed))
    expected = (s.notna() & s.str.contains(pattern, regex=True).fillna(False).astype(bool)).to_numpy(bool)
    assert (contains_mask(s, pattern) == expected).all()
    ascii_only = s[s.isna() | s.str.isascii().fillna(True).astype(bool)].reset_index(drop=True)
    expected = ascii_only.notna() & ascii_only.str.contains(pattern, regex=True).fillna(False).astype(bool)
    assert (contains_mask(ascii_only, pattern) == expected.to_numpy(bool)).all()


@pytest.mark.parametrize("seed", [3, 4])
@pytest.mark.parametrize("pattern", [NUMERIC_PATTERN, NAMED_FORMATS["org_no"], TYPE_PATTERNS["integer"]])
def test_arrow_mask_equals_arrow_regex(seed: int, pattern: str) -> None:
    arr = pa.chunked_array([pa.array(_random_values(seed), pa.string())])
    expected = pc.fill_null(pc.match_substring_regex(arr, pattern), False).to_numpy(zero_copy_only=False)
    assert (arrow_mask(arr, pattern) == expected).all()
    assert (arrow_mask(arr.slice(7, 1000), pattern) == expected[7:1007]).all()


def test_numeric_pattern_is_the_type_pattern() -> None:
    assert TYPE_PATTERNS["numeric"] == NUMERIC_PATTERN
    assert digit_range(r"^\d{5,11}$") == (5, 11) and digit_range(r"^\d{10}$") == (10, 10)
    assert digit_range(r"^\d{17}[\dXx]$") is None
