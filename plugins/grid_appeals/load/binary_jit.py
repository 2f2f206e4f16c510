"""The binary COPY encoder of :mod:`grid_appeals.load.binary` as one compiled pass over the rows.

Why: built from numpy/arrow whole-array operations the encoder costs ~0.4 s per million readings
(numerics parsed into base-10000 groups, a dozen temporary arrays, arrow's element-wise join of
the pieces), a fifth of the whole load, on the core the validation needs. A numba kernel writes
each row's tuple straight into the payload: the numerics are parsed from their validated text in
the same pass, dates/timestamps/integers come from the values validation already cast, text is
copied. It produces the same bytes as :func:`grid_appeals.load.binary.encode` (tested on every
column type, nulls and edge numerics) and releases the GIL, so the COPY writer thread keeps
sending meanwhile.

Compiled once per machine (``cache=True``: ~2 s the first time, then loaded from the cache);
``GRID_LOAD_JIT=0`` or a missing numba falls back to the numpy encoder.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pyarrow as pa

from grid_appeals.load import binary
from grid_appeals.quality.fastmatch import large_string, string_buffers

_TEXT, _FIXED, _NUMERIC = 0, 1, 2
NUMERIC_BYTES = 8 + 2 * binary.NUMERIC_GROUPS  # nd, weight, sign, dscale, 8 groups


try:
    import numba
except ImportError:  # pragma: no cover - numba is a dependency; the numpy encoder remains
    numba = None


def enabled() -> bool:
    """Use the compiled encoder? (``GRID_LOAD_JIT``, default 1, and numba importable)."""
    return numba is not None and os.environ.get("GRID_LOAD_JIT", "1") != "0"


def _jit(fn: Any) -> Any:
    return numba.njit(cache=True, nogil=True)(fn) if numba is not None else fn


@_jit
def _put(out, p, value, width):  # type: ignore[no-untyped-def]
    """``value`` as ``width`` big-endian bytes at ``out[p]``; returns the next position."""
    for i in range(width):
        out[p + width - 1 - i] = (value >> (8 * i)) & 0xFF
    return p + width


@_jit
def _write(nf, kinds, widths, valid, ints, offs, data, out, starts):  # type: ignore[no-untyped-def]
    """Every row's tuple at ``starts[row]``; returns -1, or the first row whose numeric has more
    than 15 decimal places."""
    k = len(kinds)
    for row in range(len(starts) - 1):
        p = _put(out, starts[row], nf, 2)
        for c in range(k):
            if not valid[c, row]:
                p = _put(out, p, 0xFFFFFFFF, 4)
                continue
            kind = kinds[c]
            if kind == 1:
                p = _put(out, p, widths[c], 4)
                p = _put(out, p, ints[c, row], widths[c])
            elif kind == 0:
                lo, hi = offs[c, row], offs[c, row + 1]
                p = _put(out, p, hi - lo, 4)
                for i in range(lo, hi):
                    out[p] = data[i]
                    p += 1
            else:  # validated decimal text: [+-] digits [. digits], at most 16 characters
                i, hi = offs[c, row], offs[c, row + 1]
                neg = False
                if i < hi and (data[i] == 45 or data[i] == 43):
                    neg = data[i] == 45
                    i += 1
                whole = np.int64(0)
                while i < hi and data[i] != 46:
                    whole = whole * 10 + np.int64(data[i] - 48)
                    i += 1
                frac = np.int64(0)
                scale = 0
                if i < hi:
                    i += 1
                    while i < hi:
                        frac = frac * 10 + np.int64(data[i] - 48)
                        scale += 1
                        i += 1
                if scale > 15:
                    return row
                for _ in range(16 - scale):
                    frac *= 10  # 16 fraction digits, left-aligned
                p = _put(out, p, 24, 4)
                p = _put(out, p, 8, 2)  # ndigits
                p = _put(out, p, 3, 2)  # weight: 4 groups before the point
                p = _put(out, p, 0x4000 if neg and (whole != 0 or frac != 0) else 0, 2)
                p = _put(out, p, scale, 2)
                div = np.int64(1_000_000_000_000)
                for _ in range(4):
                    p = _put(out, p, (whole // div) % 10_000, 2)
                    div //= 10_000
                div = np.int64(1_000_000_000_000)
                for _ in range(4):
                    p = _put(out, p, (frac // div) % 10_000, 2)
                    div //= 10_000
    return -1


def encode(
    table: pa.Table,
    columns: list[str],
    fixed: int,
    types: dict[str, str],
    parsed: dict[str, np.ndarray] | None = None,
) -> memoryview:
    """Same contract and bytes as :func:`grid_appeals.load.binary.encode`."""
    n, k = len(table), len(columns)
    parsed = parsed or {}
    kinds = np.zeros(k, dtype=np.int64)
    widths = np.zeros(k, dtype=np.int64)
    valid = np.ones((k, n), dtype=np.bool_)
    ints = np.zeros((k, n), dtype=np.int64)
    offs = np.zeros((k, n + 1), dtype=np.int64)
    sizes = np.full(n, 2, dtype=np.int64)  # field count
    datas: list[np.ndarray] = []
    base = 0
    for c, col in enumerate(columns):
        arr, t = large_string(table.column(col)), types[col]
        if arr.null_count:
            if c < fixed:
                raise ValueError(f"null in required column {col} among the rows to load")
            valid[c] = arr.is_valid().to_numpy(zero_copy_only=False)
        if t == "numeric" or t not in binary.FIXED_WIDTH:
            kinds[c] = _NUMERIC if t == "numeric" else _TEXT
            o, d = string_buffers(arr)
            offs[c] = o + base
            base += len(d)
            datas.append(d)
            sizes += 4 + (NUMERIC_BYTES if t == "numeric" else np.diff(o)) * valid[c]
        else:
            kinds[c], widths[c] = _FIXED, binary.FIXED_WIDTH[t]
            ints[c] = binary._values(arr, t, parsed.get(col))["v"]
            sizes += 4 + widths[c] * valid[c]
    data = np.concatenate(datas) if datas else np.zeros(0, dtype=np.uint8)
    starts = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(sizes, out=starts[1:])
    out = np.empty(int(starts[-1]), dtype=np.uint8)
    bad = _write(k, kinds, widths, valid, ints, offs, data, out, starts)
    if bad >= 0:
        raise ValueError("numeric with more than 15 decimal places among the binary-encoded rows")
    return memoryview(out)
