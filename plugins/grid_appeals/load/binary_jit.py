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
``GRID_JIT=0`` or a missing numba falls back to the numpy encoder (:mod:`grid_appeals.jit`).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from grid_appeals.jit import enabled as jit_enabled
from grid_appeals.jit import jit
from grid_appeals.load import binary
from grid_appeals.quality.fastmatch import large_string, string_buffers

_TEXT, _FIXED, _NUMERIC = 0, 1, 2
NUMERIC_BYTES = 8 + 2 * binary.NUMERIC_GROUPS  # nd, weight, sign, dscale, 8 groups


def enabled() -> bool:
    """Use the compiled encoder? (numba importable and ``GRID_JIT`` not ``0``)."""
    return jit_enabled()


@jit
def _put2(out, p, value):  # type: ignore[no-untyped-def]
    out[p] = (value >> 8) & 0xFF
    out[p + 1] = value & 0xFF
    return p + 2


@jit
def _put4(out, p, value):  # type: ignore[no-untyped-def]
    out[p] = (value >> 24) & 0xFF
    out[p + 1] = (value >> 16) & 0xFF
    out[p + 2] = (value >> 8) & 0xFF
    out[p + 3] = value & 0xFF
    return p + 4


@jit
def _put8(out, p, value):  # type: ignore[no-untyped-def]
    for i in range(8):
        out[p + 7 - i] = (value >> (8 * i)) & 0xFF
    return p + 8


@jit
def _write(nf, kinds, widths, valid, ints, offs, data, out, starts, suffix):  # type: ignore[no-untyped-def]
    """Every row's tuple at ``starts[row]``; returns -1, or the first row whose numeric has more
    than 15 decimal places.

    A numeric (validated text: [+-] digits [. digits], at most 16 characters) is written as 8
    base-10000 groups, 4 before the point (weight 3), from 32 digit slots filled from the text
    (integer digits right-aligned, fraction digits left-aligned): no 64-bit division.
    """
    k = len(kinds)
    slots = np.zeros(32, dtype=np.int64)
    groups = np.zeros(8, dtype=np.int64)
    for row in range(len(starts) - 1):
        p = _put2(out, starts[row], nf)
        for c in range(k):
            if not valid[c, row]:
                p = _put4(out, p, -1)
                continue
            kind = kinds[c]
            if kind == 1:
                w = widths[c]
                p = _put4(out, p, w)
                if w == 8:
                    p = _put8(out, p, ints[c, row])
                elif w == 4:
                    p = _put4(out, p, ints[c, row])
                else:
                    out[p] = ints[c, row] & 0xFF
                    p += 1
            elif kind == 0:
                lo, hi = offs[c, row], offs[c, row + 1]
                p = _put4(out, p, hi - lo)
                for j in range(lo, hi):
                    out[p] = data[j]
                    p += 1
            else:
                i, hi = offs[c, row], offs[c, row + 1]
                neg = False
                if i < hi and (data[i] == 45 or data[i] == 43):
                    neg = data[i] == 45
                    i += 1
                dot = i
                while dot < hi and data[dot] != 46:
                    dot += 1
                scale = hi - dot - 1 if dot < hi else 0
                if scale > 15:
                    return row
                p = _put4(out, p, 24)
                p = _put2(out, p, 8)  # ndigits
                p = _put2(out, p, 3)  # weight: 4 groups before the point
                slots[:] = 0  # 16 integer digits right-aligned, 16 fraction digits left-aligned
                for j in range(i, dot):
                    slots[16 - (dot - j)] = data[j] - 48
                for j in range(dot + 1, hi):
                    slots[16 + (j - dot - 1)] = data[j] - 48
                nonzero = False
                for g in range(8):
                    v = (
                        slots[4 * g] * 1000
                        + slots[4 * g + 1] * 100
                        + slots[4 * g + 2] * 10
                        + slots[4 * g + 3]
                    )
                    groups[g] = v
                    nonzero = nonzero or v != 0
                p = _put2(out, p, 0x4000 if neg and nonzero else 0)
                p = _put2(out, p, scale)
                for g in range(8):
                    p = _put2(out, p, groups[g])
        for j in range(len(suffix)):  # the same trailing fields on every row (lineage constants)
            out[p] = suffix[j]
            p += 1
    return -1


def encode(
    table: pa.Table,
    columns: list[str],
    fixed: int,
    types: dict[str, str],
    parsed: dict[str, np.ndarray] | None = None,
    suffix: tuple[bytes, int] = (b"", 0),
) -> memoryview:
    """Same contract and bytes as :func:`grid_appeals.load.binary.encode`; ``suffix`` (encoded
    fields, how many) is appended to every row (see :func:`grid_appeals.load.binary.constant_fields`)."""
    n, k = len(table), len(columns)
    parsed = parsed or {}
    kinds = np.zeros(k, dtype=np.int64)
    widths = np.zeros(k, dtype=np.int64)
    valid = np.ones((k, n), dtype=np.bool_)
    ints = np.zeros((k, n), dtype=np.int64)
    offs = np.zeros((k, n + 1), dtype=np.int64)
    sizes = np.full(n, 2 + len(suffix[0]), dtype=np.int64)  # field count, trailing constants
    datas: list[np.ndarray] = []
    base = 0
    for c, col in enumerate(columns):
        column, t = table.column(col), types[col]
        # lineage row numbers arrive as integers: taken as they are, no text round trip
        native = pa.types.is_integer(column.type) and t in ("integer", "bigint")
        if native:
            arr = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
        else:
            arr = large_string(column)
        if arr.null_count:
            if c < fixed:
                raise ValueError(f"null in required column {col} among the rows to load")
            valid[c] = arr.is_valid().to_numpy(zero_copy_only=False)
        if not native and (t == "numeric" or t not in binary.FIXED_WIDTH):
            kinds[c] = _NUMERIC if t == "numeric" else _TEXT
            o, d = string_buffers(arr)
            offs[c] = o + base
            base += len(d)
            datas.append(d)
            sizes += 4 + (NUMERIC_BYTES if t == "numeric" else np.diff(o)) * valid[c]
            continue
        kinds[c], widths[c] = _FIXED, binary.FIXED_WIDTH[t]
        if native:
            ints[c] = arr.fill_null(0).to_numpy(zero_copy_only=False)
        else:
            ints[c] = binary._values(arr, t, parsed.get(col))["v"]
        sizes += 4 + widths[c] * valid[c]
    data = np.concatenate(datas) if datas else np.zeros(0, dtype=np.uint8)
    starts = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(sizes, out=starts[1:])
    out = np.empty(int(starts[-1]), dtype=np.uint8)
    tail = np.frombuffer(suffix[0], dtype=np.uint8).copy()  # writable: one compiled signature
    bad = _write(k + suffix[1], kinds, widths, valid, ints, offs, data, out, starts, tail)
    if bad >= 0:
        raise ValueError("numeric with more than 15 decimal places among the binary-encoded rows")
    return memoryview(out)
