"""``key_codes``: integer codes that are equal exactly when the key values are equal."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from grid_appeals.quality.outcome import digit_codes, key_codes, repeated_codes


def _arrow(values: list[str | None]) -> pd.Series:
    return pd.Series(pd.array(values, dtype="string[pyarrow]"))


def _same_partition(codes: np.ndarray, frame: pd.DataFrame, columns: list[str]) -> bool:
    """Codes group the rows exactly as the values (nulls distinct from everything but nulls) do."""
    text = [
        "\x1f".join("\x00null" if v is None or v is pd.NA else v for v in row)
        for row in frame[columns].astype(object).itertuples(index=False)
    ]
    return bool((pd.factorize(np.asarray(codes))[0] == pd.factorize(pd.Series(text))[0]).all())


def test_digit_codes_separate_leading_zeros_and_nulls() -> None:
    s = _arrow(["7", "07", "007", None, "7", "12345678901234567"])
    codes = digit_codes(s)
    assert codes is not None
    assert codes[0] == codes[4]
    assert len({codes[0], codes[1], codes[2], codes[3], codes[5]}) == 5
    assert codes[3] == 0


@pytest.mark.parametrize(
    "values",
    [["12", "1a"], ["12", ""], ["123456789012345678"], ["-1"], ["１２"], ["1\n"], ["001", "0x1"], ["0X1"]],
)
def test_digit_codes_refuse_what_is_not_a_short_ascii_digit_string(values: list[str]) -> None:
    assert digit_codes(_arrow(values)) is None


@pytest.mark.parametrize("seed", range(5))
def test_codes_group_rows_exactly_as_their_values(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 5_000
    digits = rng.choice(["0012", "012", "12", "99999999999999999", "5", None], n).tolist()
    mixed = rng.choice(["a", "b", "", None, "12"], n).tolist()
    dates = rng.choice(["2024-07-15", "2024-07-16", None], n).tolist()
    big = [str(x) for x in rng.integers(0, 10**17, n)]
    frame = pd.DataFrame({"d": _arrow(digits), "m": _arrow(mixed), "t": _arrow(dates), "b": _arrow(big)})
    for columns in (["d"], ["m"], ["d", "t"], ["t", "d", "m"], ["b", "d", "t"], ["b", "b", "d", "m"]):
        codes = key_codes(frame, columns)
        assert codes.dtype == np.int64
        assert _same_partition(codes, frame, columns), columns


@pytest.mark.parametrize("seed", range(5))
def test_repeated_codes_equal_pandas_on_sorted_and_unsorted_codes(seed: int) -> None:
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 3_000, 2_000)
    for c in (
        codes,
        np.sort(codes),
        np.sort(codes)[::-1],
        np.arange(5),
        np.array([4]),
        np.array([], np.int64),
    ):
        expected = pd.Series(c).duplicated(keep=False).to_numpy()
        assert (repeated_codes(c) == expected).all()
