"""Vectorised twin of the GX expectations we use, driven by the same suite JSON.

Why a twin: GX's pandas engine takes ~0.3–3 s per expectation on a million rows (building the
unexpected-index lists dominates), i.e. longer than loading the rows. For large batches the engine
evaluates each suite expectation here with the same semantics as GX (nulls ignored by map
expectations, ``str.contains`` on the anchored regex, inclusive bounds unless ``strict_*``), and
``tests/unit/quality`` asserts that both engines flag the same rows on the fixture data. Small
batches are validated by GX itself (see :mod:`grid_appeals.quality.gx_engine`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from grid_appeals.quality.fastmatch import contains_mask
from grid_appeals.quality.outcome import Outcome, repeated_codes
from grid_appeals.quality.outcome import key_codes as codes_of


def resolve(value: Any, params: dict[str, Any]) -> Any:
    if isinstance(value, dict) and "$PARAMETER" in value:
        return params[value["$PARAMETER"]]
    return value


def _between(v: pd.Series, kw: dict[str, Any], params: dict[str, Any]) -> np.ndarray:
    """Rows whose non-null value lies outside the bounds (inclusive unless ``strict_*``).

    On numpy arrays (NaN / NaT compare false, so nulls never fail): pandas comparisons on a
    65 536-row chunk cost ~1 ms each in overhead, numpy's a few µs.
    """
    lo, hi = resolve(kw.get("min_value"), params), resolve(kw.get("max_value"), params)
    arr = v.to_numpy()
    if arr.dtype.kind == "M":
        lo, hi = (None if b is None else pd.Timestamp(b).to_datetime64() for b in (lo, hi))
    elif arr.dtype.kind not in "fiu":  # anything else: pandas semantics as GX has them
        bad = pd.Series(False, index=v.index)
        if lo is not None:
            bad |= (v <= lo) if kw.get("strict_min") else (v < lo)
        if hi is not None:
            bad |= (v >= hi) if kw.get("strict_max") else (v > hi)
        return (v.notna() & bad).to_numpy(dtype=bool)
    bad = np.zeros(len(arr), dtype=bool)
    if lo is not None:
        bad |= (arr <= lo) if kw.get("strict_min") else (arr < lo)
    if hi is not None:
        bad |= (arr >= hi) if kw.get("strict_max") else (arr > hi)
    return bad


def evaluate_row(
    exp: dict[str, Any],
    text: pd.DataFrame,
    typed: pd.DataFrame,
    cast_failed: dict[str, np.ndarray],
    params: dict[str, Any],
    matches: dict[tuple[str, str], np.ndarray] | None = None,
) -> Outcome:
    """One row-level expectation over the whole frame → mask of failing rows.

    ``matches`` holds regex masks already computed (by :func:`typed_view`) per (column, regex).
    """
    etype, kw, meta = exp["type"], exp["kwargs"], exp.get("meta", {})
    col = kw["column"]
    if etype == "expect_column_values_to_be_between":
        # range checks read the typed view, which also holds the derived ``_chk_*`` columns of the
        # contract's cross-column checks; those have no text form, so never look them up in ``text``
        failed = _between(typed[col], kw, params)
        n = int(failed.sum())
        return Outcome(etype, kw, meta, success=n == 0, unexpected_count=n, failed=failed)
    s = text[col]
    if etype == "expect_column_values_to_not_be_null":
        failed = s.isna().to_numpy(dtype=bool)
    elif etype == "expect_column_values_to_match_regex":
        known = (matches or {}).get((col, kw["regex"]))
        if known is not None:
            failed = s.notna().to_numpy(dtype=bool) & ~known
        else:
            failed = s.notna().to_numpy(dtype=bool) & ~contains_mask(s, kw["regex"])
        if meta.get("check") == "type" and col in cast_failed:
            failed = failed | cast_failed[col]
    elif etype == "expect_column_values_to_be_in_set":
        failed = (s.notna() & ~s.isin(kw["value_set"])).to_numpy(dtype=bool)
    else:
        raise ValueError(f"row-level expectation {etype} has no vectorised twin")
    n = int(failed.sum())
    return Outcome(etype, kw, meta, success=n == 0, unexpected_count=n, failed=failed)


def evaluate_batch(
    exp: dict[str, Any],
    frame: pd.DataFrame,
    *,
    key_codes: np.ndarray | None = None,
    n_rows: int | None = None,
) -> Outcome:
    """One batch-level expectation (columns, row count, key uniqueness).

    ``key_codes`` (factorised primary key per row, when the caller has them) makes the uniqueness
    check an integer operation instead of re-hashing the key strings. ``n_rows``: the stage's row
    count when ``frame`` is a superset with the same columns (the received rows, for the loaded
    stage: no slice is built just to be counted); uniqueness then needs ``key_codes``.
    """
    etype, kw, meta = exp["type"], exp["kwargs"], exp.get("meta", {})
    if etype == "expect_table_columns_to_match_set":
        observed = [c for c in frame.columns if not str(c).startswith("_")]
        ok = (
            set(observed) == set(kw["column_set"])
            if kw.get("exact_match", True)
            else set(kw["column_set"]) <= set(observed)
        )
        return Outcome(etype, kw, meta, success=ok, observed=observed)
    if etype == "expect_table_row_count_to_be_between":
        n = len(frame) if n_rows is None else n_rows
        lo, hi = kw.get("min_value"), kw.get("max_value")
        ok = (lo is None or n >= lo) and (hi is None or n <= hi)
        return Outcome(etype, kw, meta, success=ok, observed=n)
    if etype in ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"):
        cols = [kw["column"]] if "column" in kw else list(kw["column_list"])
        if key_codes is None and n_rows is not None and n_rows != len(frame):
            raise ValueError("uniqueness on a subset of the frame needs the subset's key codes")
        dup = repeated_codes(key_codes if key_codes is not None else codes_of(frame, cols))
        n = int(dup.sum())
        return Outcome(etype, kw, meta, success=n == 0, unexpected_count=n, failed=dup)
    raise ValueError(f"batch-level expectation {etype} has no vectorised twin")
