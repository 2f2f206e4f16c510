"""The float64 route of the binary numeric encoder gives exactly the digits the text route gives,
and falls back to the text route when a value has more than 15 significant digits."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from grid_appeals.load import binary

EDGE = [
    "1.50", "0.000", "007", None, ".5", "5.", "+3.25", "-0.00", "0", "123456.7", "0.0001", "-12.5",
    "999999999999999", "0.000000000000001", "123456789012.345", "-.5", "+.5", "99999999.99999999",
    "0.1", "0.3", "2.675", "1e0".replace("e0", ""), "4503599627370495", "-0",
]  # fmt: skip


def _by_text(values: list[str | None]) -> dict[str, np.ndarray]:
    arr = pa.array(values, pa.large_string())
    neg, scale, n = binary._numeric_text(arr)
    return {"neg": neg & (n != 0), "scale": scale, "n": n}


def _random_decimals(rng: np.random.Generator, count: int, max_digits: int) -> list[str | None]:
    digits = rng.integers(1, max_digits + 1, count)
    scales = np.minimum(rng.integers(0, 16, count), digits)
    out: list[str | None] = []
    for i, (d, k) in enumerate(zip(digits, scales, strict=True)):
        text = "".join(rng.choice(list("0123456789"), d))
        text = f"{text[: d - k]}.{text[d - k:]}" if k else text
        out.append(None if i % 53 == 0 else ("-" if i % 3 == 0 else "+" if i % 7 == 0 else "") + text)
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_float_route_equals_text_route(seed: int) -> None:
    values = _random_decimals(np.random.default_rng(seed), 50_000, binary.FLOAT_EXACT_DIGITS)
    values += [v for v in EDGE if v is None or len(v.lstrip("+-").replace(".", "")) <= 15]
    arr = pa.array(values, pa.large_string())
    parsed = binary._numeric_scaled(arr)
    assert parsed is not None
    neg, scale, n = parsed
    expected = _by_text(values)
    assert (scale == expected["scale"]).all()
    assert (n == expected["n"]).all()
    assert ((neg & (n != 0)) == expected["neg"]).all()


def test_more_than_15_digits_take_the_text_route() -> None:
    assert binary._numeric_scaled(pa.array(["1.5", "4503599627370495"], pa.large_string())) is None
    assert binary._numeric_scaled(pa.array(["99999999.99999999"], pa.large_string())) is None


def _groups_reference(values: list[str | None]) -> np.ndarray:
    """numeric_send base-10000 groups (weight 3), straight from the digit string."""
    out = np.zeros((len(values), binary.NUMERIC_GROUPS), dtype=np.int64)
    for i, v in enumerate(values):
        if v is None:
            continue
        whole, _, frac = v.lstrip("+-").partition(".")
        digits = whole.rjust(16, "0")[-16:] + frac.ljust(16, "0")[:16]
        out[i] = [int(digits[4 * g : 4 * g + 4]) for g in range(binary.NUMERIC_GROUPS)]
    return out


@pytest.mark.parametrize("max_digits", [15, 16])
def test_numeric_fields_match_the_digits(max_digits: int) -> None:
    values = _random_decimals(np.random.default_rng(max_digits), 20_000, max_digits) + EDGE
    fields = binary._numeric(pa.array(values, pa.large_string()))
    assert (fields["groups"] == _groups_reference(values)).all()
    expected = _by_text(values)
    assert (fields["dscale"] == expected["scale"]).all()
    assert ((fields["sign"] == 0x4000) == expected["neg"]).all()


def test_exponent_is_found_by_the_byte_scan() -> None:
    table = pa.table({"x": pa.chunked_array([["1.5", None], ["2", "1.5E3"]])})
    assert binary.binary_possible(table.slice(0, 3), {"x": "numeric"})  # bytes beyond a slice unread
    assert not binary.binary_possible(table, {"x": "numeric"})
    assert not binary.binary_possible(table.slice(3), {"x": "numeric"})
    assert binary.binary_possible(pa.table({"x": ["1.5", None, "2"]}), {"x": "numeric"})


def test_parsed_temporal_values_encode_like_the_text() -> None:
    """Dates/timestamps handed over by validation give the bytes the text parser gives."""
    import pandas as pd

    from grid_appeals.quality.outcome import _cast_temporal

    stamps = ["2024-07-15 01:00:00", "2024-07-15T02:00:00", "2024-07-15 03:04:05.123456",
              "2024-07-15T23:59", "0001-01-01 00:00:00", "9999-12-31 23:59:59", None, "2000-01-01 00:00:00"]  # fmt: skip
    dates = ["2024-07-15", "2024-02-29", "0001-01-01", "9999-12-31", "2000-01-01", "1999-12-31", None, "2024-07-15"]
    table = pa.table({"d": pa.array(dates, pa.large_string()), "t": pa.array(stamps, pa.large_string())})
    types = {"d": "date", "t": "timestamp"}
    typed = pd.DataFrame({c: _cast_temporal(pd.Series(table.column(c).to_pylist(), dtype="str"), t)
                          for c, t in types.items()})  # fmt: skip
    parsed = binary.ParsedTemporal(["d", "t"], len(table))
    parsed.fill(0, typed)
    assert parsed.filled.all()
    values = parsed.take(np.arange(len(table)))
    by_text = bytes(binary.encode(table, ["d", "t"], 0, types))
    assert bytes(binary.encode(table, ["d", "t"], 0, types, values)) == by_text
    part = np.array([1, 2, 5])
    sub = table.take(pa.array(part))
    assert bytes(binary.encode(sub, ["d", "t"], 0, types, parsed.take(part))) == bytes(
        binary.encode(sub, ["d", "t"], 0, types)
    )
    partly = binary.ParsedTemporal(["d", "t"], 2 * len(table))
    partly.fill(0, typed)
    assert partly.take(None) is None and partly.take(np.array([0, len(table)])) is None
