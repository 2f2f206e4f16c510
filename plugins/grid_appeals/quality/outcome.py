"""What one expectation found on one batch, in the same shape whichever engine evaluated it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from grid_appeals.quality.fastmatch import arrow_mask, contains_mask, large_string, string_buffers
from grid_appeals.quality.fastparse import parse_fixed
from grid_appeals.sources.contracts import EntityContract


@dataclass
class Outcome:
    """``failed`` is a boolean mask over the evaluated frame for row-level expectations."""

    expectation_type: str
    kwargs: dict[str, Any]
    meta: dict[str, Any]
    success: bool
    unexpected_count: int = 0
    failed: np.ndarray | None = None
    observed: Any = None
    engine: str = "vectorised"
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def column(self) -> str | None:
        col = self.kwargs.get("column")
        if col is None and "column_list" in self.kwargs:
            return ",".join(self.kwargs["column_list"])
        return col

    @property
    def level(self) -> str:
        return self.meta.get("level", "row")

    @property
    def reason(self) -> str:
        """Short label stored with quarantined rows, e.g. ``expect_column_values_to_match_regex(phone)``."""
        check = self.meta.get("check")
        return f"{self.expectation_type}({self.column})" + (f"[{check}]" if check else "")


def _arrow(s: pd.Series) -> pa.ChunkedArray:
    arr = s.array
    if hasattr(arr, "__arrow_array__"):
        return arr.__arrow_array__()
    return pa.chunked_array([pa.array(s.astype(object), type=pa.string(), from_pandas=True)])


def _cast_numeric(s: pd.Series, pattern: str) -> tuple[pd.Series, np.ndarray]:
    """Values that match the type ``pattern`` as float64 (others NaN), and the match mask."""
    arr = _arrow(s)
    matched = arrow_mask(arr, pattern)
    try:
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
        value = pc.cast(pc.if_else(pa.array(matched), arr, None), pa.float64())
        value = value.to_pandas().set_axis(s.index)
    except pa.ArrowInvalid:  # a form arrow does not parse (e.g. "5."): let pandas coerce
        value = pd.to_numeric(s.where(matched), errors="coerce")
    return value, matched


def _cast_temporal_general(s: pd.Series, col_type: str) -> pd.Series:
    """Any text to datetime64 (NaT where it does not parse): arrow's strptime, then ISO 8601."""
    fmt = "%Y-%m-%d" if col_type == "date" else "%Y-%m-%d %H:%M:%S"
    arr = _arrow(s)
    parsed = pc.strptime(arr, format=fmt, unit="s", error_is_null=True)
    # arrow's strptime rolls 2024-02-30 over to 03-01: keep only values whose day-of-month survived
    day_text = pc.utf8_slice_codeunits(arr, 8, 10)
    same_day = pc.equal(pc.cast(pc.day(parsed), pa.string()), pc.utf8_ltrim(day_text, "0"))
    parsed = pc.if_else(pc.fill_null(same_day, False), parsed, None)
    fast = parsed.to_pandas().set_axis(s.index)
    retry = s.notna() & fast.isna()
    if col_type == "timestamp" and retry.any():  # 'T' separator, no seconds, fractions: rare, slow path
        fast = fast.astype("datetime64[us]")
        fast[retry] = pd.to_datetime(s[retry], format="ISO8601", errors="coerce")
    return fast.where(fast.isna() | (fast.dt.year >= 1))  # Postgres has no year 0


def _cast_temporal(s: pd.Series, col_type: str) -> pd.Series:
    """Dates / timestamps as datetime64 (NaT where the text is no valid value), see below."""
    return _cast_temporal_matched(s, col_type, None)[0]


def _cast_temporal_matched(
    s: pd.Series, col_type: str, pattern: str | None
) -> tuple[pd.Series, np.ndarray | None]:
    """Dates / timestamps as datetime64 (NaT where the text is no valid value), and — if the type
    ``pattern`` is given — its match mask (null → False).

    The common fixed-width form is parsed with numpy (:mod:`grid_appeals.quality.fastparse`); the
    rest — other shapes, and whatever the fast path rejects — goes through the general path, so the
    result is the general path's on every value, only faster. Every fast-parsed value matches the
    type pattern (ASCII digits and separators in place), so the regex runs on the rest alone.
    """
    out = np.full(len(s), np.datetime64("NaT"), dtype="datetime64[s]")
    positions, values = parse_fixed(_arrow(s), col_type)
    out[positions] = values
    rest = s.notna().to_numpy(dtype=bool, copy=True)
    rest[positions] = False
    result = pd.Series(out, index=s.index)
    if rest.any():
        slow = _cast_temporal_general(s[rest], col_type)
        if slow.dtype != result.dtype:
            result = result.astype(slow.dtype)
        result[rest] = slow.to_numpy()
    matched = None
    if pattern is not None:
        matched = np.zeros(len(s), dtype=bool)
        matched[positions] = True
        if rest.any():
            matched[rest] = contains_mask(s[rest], pattern)
    return result, matched


def typed_view(
    frame: pd.DataFrame, contract: EntityContract, matches: dict[tuple[str, str], np.ndarray] | None = None
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Numeric and temporal columns cast for range checks, plus per-column cast-failure masks.

    A value that matches the type pattern can still fail to cast (2024-02-30, an integer beyond
    int32): those rows are reported under the column's type expectation, never loaded. Casting uses
    pyarrow kernels (strptime / cast with nulls for failures) — no per-row Python. ``matches``, if
    given, receives the type-pattern match mask of each numeric column under ``(column, pattern)``:
    the cast needs it anyway, so the type expectation need not run the same regex again.
    """
    from grid_appeals.quality.suites import TYPE_PATTERNS

    typed: dict[str, pd.Series] = {}
    cast_failed: dict[str, np.ndarray] = {}
    for col in contract.columns:
        s = frame[col.name]
        if col.is_numeric:
            v, matched = _cast_numeric(s, TYPE_PATTERNS[col.type])
            if matches is not None:
                matches[(col.name, TYPE_PATTERNS[col.type])] = matched
            if col.type in ("integer", "bigint"):
                limit = 2**31 - 1 if col.type == "integer" else 2**63 - 1
                v = v.where(v.abs() <= limit)
        elif col.is_temporal:
            pattern = TYPE_PATTERNS[col.type] if matches is not None else None
            v, matched = _cast_temporal_matched(s, col.type, pattern)
            if matches is not None:
                matches[(col.name, TYPE_PATTERNS[col.type])] = matched
        else:
            continue
        typed[col.name] = v
        cast_failed[col.name] = (s.notna() & v.isna()).to_numpy()
    view = frame.assign(**typed) if typed else frame
    return view, cast_failed


_INT64_HEADROOM = 1 << 62  # combined codes stay below this: no overflow in ``codes * bound + c``
DIGIT_KEY_MAX_CHARS = 17  # 10**17 * 20 < 2**63: a 17-digit value with its length fits an int64


def digit_codes(s: pd.Series) -> np.ndarray | None:
    """``value * 20 + length`` (null → 0) when every non-null value is 1–17 ASCII digits, else None.

    Why: identifiers (户号, meter point, order number) are digit strings; their value and length
    identify them exactly (``007`` ≠ ``07`` ≠ ``7``), and arrow parses a million of them in ~10 ms
    where hashing the strings (``factorize``) takes ~250 ms.
    """
    arr = s.array
    if not hasattr(arr, "__arrow_array__") or not len(s):
        return None
    chunk = large_string(arr.__arrow_array__())
    offsets, data = string_buffers(chunk)
    lengths = np.diff(offsets)
    valid = chunk.is_valid().to_numpy(zero_copy_only=False) if chunk.null_count else None
    filled = lengths if valid is None else lengths[valid]
    if not len(filled) or filled.min() < 1 or filled.max() > DIGIT_KEY_MAX_CHARS:
        return None
    if ((data - np.uint8(ord("0"))) > 9).any():  # any byte but an ASCII digit (uint8 wraps)
        return None
    value = pc.fill_null(pc.cast(chunk, pa.int64()), 0).to_numpy(zero_copy_only=False)
    codes = value * 20 + lengths
    if valid is not None:
        codes[~valid] = 0
    return codes


def _column_codes(s: pd.Series) -> tuple[np.ndarray, int]:
    """Exact int64 codes of one column (equal ⇔ equal values, null distinct) and a bound above them."""
    codes = digit_codes(s)
    if codes is not None:
        return codes, int(codes.max()) + 1
    c, uniques = pd.factorize(s, use_na_sentinel=True)
    return c.astype(np.int64) + 1, len(uniques) + 1  # null → 0


def key_codes(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """int64 codes, equal exactly when the rows' ``columns`` are equal (null ≠ '').

    Why not joined strings (:func:`row_keys`): coding each column on its own and combining the
    integer codes avoids building and hashing a million long strings; digit identifiers are coded
    by value (:func:`digit_codes`) without hashing at all. Codes are combined arithmetically while
    the product of their bounds fits an int64, else densified (``factorize`` of integers) first.
    Codes are not dense: callers compare them, never index with them.
    """
    codes, bound = np.zeros(len(frame), dtype=np.int64), 1
    for col in columns:
        c, c_bound = _column_codes(frame[col])
        if bound * c_bound >= _INT64_HEADROOM and bound > 1:
            codes, uniques = pd.factorize(codes)
            codes, bound = codes.astype(np.int64), len(uniques)
        if bound * c_bound >= _INT64_HEADROOM:
            c, uniques = pd.factorize(c)
            c, c_bound = c.astype(np.int64), len(uniques)
        codes, bound = (c, c_bound) if bound == 1 else (codes * c_bound + c, bound * c_bound)
    return codes


def repeated_codes(codes: np.ndarray) -> np.ndarray:
    """Mask of the rows whose code occurs more than once (``duplicated(keep=False)``).

    Why a sorted path: extracts usually arrive ordered by their key (SQL sources are read ``order
    by`` the key, meter exports by meter point); repeats are then neighbours, and one pass over the
    differences finds them ~20x cheaper than hashing a million codes. Unsorted input is hashed.
    """
    codes = np.asarray(codes)
    if len(codes) > 1:
        step = np.diff(codes)  # codes are in [0, 2**62): no overflow
        if (step >= 0).all():
            same = step == 0
            out = np.zeros(len(codes), dtype=bool)
            out[1:] = same
            out[:-1] |= same
            return out
    return pd.Series(codes).duplicated(keep=False).to_numpy(dtype=bool)


def row_keys(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """One string per row joining ``columns`` (nulls distinct from ''), for fast duplicate checks.

    Why: pandas' multi-column ``duplicated`` on arrow strings hashes column by column (~2 s per
    million rows); one joined arrow column factorises in ~0.2 s.
    """
    if len(columns) == 1 and frame[columns[0]].dtype != object:
        return frame[columns[0]].fillna("\x00")
    arrays = [pc.fill_null(pc.cast(_arrow(frame[c]), pa.string()), "\x00") for c in columns]
    joined = pc.binary_join_element_wise(*arrays, "\x1f")
    return pd.Series(joined.to_pandas(types_mapper=pd.ArrowDtype).astype("str").to_numpy(), index=frame.index)


def derived_view(text: pd.DataFrame, typed: pd.DataFrame, contract: EntityContract) -> pd.DataFrame:
    """The contract's cross-column ``checks`` as numeric ``_chk_<name>`` columns (NaN = not applicable).

    Why derived columns: GX's pandas expectations are single-column or pairwise; expressing "the
    TOU registers add up to the total" or "the order's day equals the day in its number" as one
    numeric column lets GX (and the vectorised twin) check it with a plain between-expectation.
    """
    out: dict[str, pd.Series] = {}
    for chk in contract.checks:
        a = typed[chk.a]
        if chk.a_day and pd.api.types.is_datetime64_any_dtype(a):
            a = a.dt.normalize()
        parts = []
        for col in chk.b:
            if chk.b_date_prefix:
                parts.append(pd.to_datetime(text[col].str.slice(0, 8), format="%Y%m%d", errors="coerce"))
            else:
                parts.append(typed[col])
        if pd.api.types.is_datetime64_any_dtype(a):
            diff = (a - parts[0]).dt.total_seconds()
            value = diff / 86400.0 if chk.unit == "days" else diff
        else:
            total = parts[0].astype("float64")
            for part in parts[1:]:
                total = total + part.astype("float64")
            value = a.astype("float64") - total
        out[chk.column] = pd.Series(np.asarray(value, dtype="float64"), index=text.index)
    return pd.DataFrame(out, index=text.index)
