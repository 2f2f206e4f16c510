"""The compiled binary COPY encoder writes exactly the bytes of the numpy encoder."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from grid_appeals.load import binary, binary_jit

TYPES = {
    "d": "date", "ts": "timestamp", "amount": "numeric", "row": "bigint",  # fixed block: required
    "name": "text", "code": "integer", "flag": "boolean", "maybe": "numeric", "when": "timestamp",
}  # fmt: skip
FIXED = 4
DECIMALS = ["1.50", "0.000", "007", ".5", "5.", "+3.25", "-0.00", "0", "123456.7", "-12.5",
            "999999999999999", "0.000000000000001", "-.5", "99999999.99999999", "4503599627370495", "-0"]  # fmt: skip


def _table(seed: int, n: int = 3_000) -> pa.Table:
    rng = np.random.default_rng(seed)
    days = rng.integers(-40_000, 40_000, n)
    secs = rng.integers(-(10**9), 2 * 10**9, n)
    dates = (np.datetime64("2000-01-01") + days.astype("timedelta64[D]")).astype(str)
    stamps = (np.datetime64("2000-01-01T00:00:00") + secs.astype("timedelta64[s]")).astype(str)
    stamps = np.char.replace(stamps, "T", " ")
    dec = [DECIMALS[i % len(DECIMALS)] if i % 5 == 0 else f"{rng.normal(0, 10**rng.integers(0, 9)):.{i % 8}f}"
           for i in range(n)]  # fmt: skip
    names = ["", "城关供电所", "a,b", None, "x" * 40]
    cols = {
        "d": dates, "ts": stamps, "amount": dec, "row": [str(i + 1) for i in range(n)],
        "name": [names[i % 5] for i in range(n)],
        "code": [None if i % 7 == 0 else str(int(rng.integers(-(2**31), 2**31))) for i in range(n)],
        "flag": [None if i % 4 == 0 else ["t", "false", "Y", "0"][i % 4] for i in range(n)],
        "maybe": [None if i % 3 == 0 else dec[(i * 7) % n] for i in range(n)],
        "when": [None if i % 6 == 0 else stamps[(i * 11) % n] for i in range(n)],
    }  # fmt: skip
    return pa.table({c: pa.array(v, pa.large_string()) for c, v in cols.items()})


@pytest.mark.skipif(not binary_jit.enabled(), reason="numba missing: the numpy encoder is used")
@pytest.mark.parametrize("seed", [1, 2])
def test_compiled_encoder_equals_numpy_encoder(seed: int) -> None:
    table = _table(seed)
    columns = list(TYPES)
    expected = bytes(binary.encode(table, columns, FIXED, TYPES))
    assert bytes(binary_jit.encode(table, columns, FIXED, TYPES)) == expected
    # with the temporal values validation cast (µs since 1970), as the streamed load hands them over
    parsed = {}
    for col in ("d", "ts", "when"):
        micros = binary._temporal(table.column(col).combine_chunks(), TYPES[col])
        epoch = (
            binary._PG_EPOCH_DAYS * 86_400_000_000 if TYPES[col] == "date" else binary._PG_EPOCH_S * 1_000_000
        )
        parsed[col] = micros * (86_400_000_000 if TYPES[col] == "date" else 1) + epoch
    assert bytes(binary.encode(table, columns, FIXED, TYPES, parsed)) == expected
    assert bytes(binary_jit.encode(table, columns, FIXED, TYPES, parsed)) == expected
    # lineage row numbers arrive as integers, not text: same bytes
    as_ints = table.set_column(3, "row", pa.array(np.arange(1, len(table) + 1), pa.int64()))
    assert bytes(binary_jit.encode(as_ints, columns, FIXED, TYPES)) == expected
    assert bytes(binary_jit.encode(table.slice(100, 7), columns, FIXED, TYPES)) == bytes(
        binary.encode(table.slice(100, 7), columns, FIXED, TYPES)
    )


def test_compiled_encoder_refuses_what_the_numpy_encoder_refuses() -> None:
    table = _table(3, 10)
    too_fine = table.set_column(2, "amount", pa.array(["0.1234567890123456"] * 10, pa.large_string()))
    for enc in (binary.encode, binary_jit.encode):
        with pytest.raises(ValueError, match="15 decimal places"):
            enc(too_fine, list(TYPES), FIXED, TYPES)
        with pytest.raises(ValueError, match="null in required column"):
            enc(table.set_column(0, "d", pa.array([None] * 10, pa.large_string())), list(TYPES), FIXED, TYPES)
