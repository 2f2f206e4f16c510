"""The numpy date/timestamp parser agrees with the general (arrow + ISO 8601) path on every value,
and impossible values end up quarantined under the column's type expectation as before."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from grid_appeals.quality.fastparse import fixed_width_bytes, parse_dates, parse_fixed
from grid_appeals.quality.outcome import _arrow, _cast_temporal, _cast_temporal_general
from grid_appeals.quality.suites import suite_for
from grid_appeals.quality.validate import validate_batch
from grid_appeals.sources.contracts import load_contracts

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

TIMESTAMPS = {
    "2024-07-15 10:00:00": "2024-07-15 10:00:00",
    "2024-02-29 23:59:59": "2024-02-29 23:59:59",
    "2000-02-29 00:00:00": "2000-02-29 00:00:00",
    "2024-07-15T10:00:00": "2024-07-15 10:00:00",
    "2024-07-15T10:00": "2024-07-15 10:00:00",  # general path
    "2024-07-15 10:00:00.123456": "2024-07-15 10:00:00.123456",  # general path
    "0001-01-01 00:00:00": "0001-01-01 00:00:00",
    "9999-12-31 23:59:59": "9999-12-31 23:59:59",
    "2024-02-30 10:00:00": None,  # no such day
    "2023-02-29 00:00:00": None,
    "1900-02-29 00:00:00": None,  # century, not a leap year
    "2024-04-31 00:00:00": None,
    "2024-13-01 00:00:00": None,
    "2024-00-10 00:00:00": None,
    "2024-07-00 00:00:00": None,
    "2024-07-15 24:00:00": None,  # out-of-range hour
    "2024-07-15 23:60:00": None,
    "2024-07-15 23:59:60": None,
    "2024-07-15 -1:00:00": None,
    "2024-07-15x10:00:00": None,
    "abcd-ef-gh ij:kl:mn": None,
    "0000-01-01 00:00:00": None,  # Postgres has no year 0: would fail the COPY
    "": None,
}


@pytest.fixture(autouse=True, params=["1", "0"], ids=["compiled", "numpy"])
def _engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every parse runs with the numba kernel and with its numpy twin."""
    monkeypatch.setenv("GRID_JIT", request.param)


def _series(values: list[str | None]) -> pd.Series:
    raw = pd.Series(values, dtype=object)
    return pd.Series(values, dtype="str").where(raw.notna())


def test_timestamps_parse_like_the_general_path_and_reject_impossible_values():
    values = [*TIMESTAMPS, None]
    fast = _cast_temporal(_series(values), "timestamp")
    assert fast.equals(_cast_temporal_general(_series(values), "timestamp"))
    for text, want in TIMESTAMPS.items():
        got = fast[values.index(text)]
        assert pd.isna(got) if want is None else got == pd.Timestamp(want), text
    assert pd.isna(fast.iloc[-1])


def test_dates_parse_like_the_general_path():
    values = [
        "2024-07-15",
        "2024-02-29",
        "2024-02-30",
        "2023-02-29",
        "2024-1-15",
        "2024-07-15 ",
        "0000-01-01",
        None,
    ]
    fast = _cast_temporal(_series(values), "date")
    assert fast.equals(_cast_temporal_general(_series(values), "date"))
    assert [None if pd.isna(v) else str(v.date()) for v in fast] == [
        "2024-07-15",
        "2024-02-29",
        None,
        None,
        None,
        None,
        None,
        None,
    ]


def test_every_calendar_day_of_years_1_to_9999():
    days = np.arange(np.datetime64("0001-01-01"), np.datetime64("10000-01-01"))
    _, codes = fixed_width_bytes(_arrow(_series(list(days.astype(str)))), 10)
    parsed, ok = parse_dates(codes)
    assert ok.all()
    assert np.array_equal(parsed, days.astype(np.int64))
    positions, values = parse_fixed(_arrow(_series(list(days.astype(str)))), "date")  # compiled or not
    assert len(positions) == len(days) and np.array_equal(values.astype("datetime64[D]"), days)


@pytest.mark.parametrize("use_gx", [False, True])
def test_impossible_timestamps_are_quarantined_under_the_type_expectation(use_gx):
    from grid_appeals.quality.gx_engine import GxSession

    contract = {c.name: c for c in load_contracts(directory=FIXTURES / "contracts")}["day_read"]
    bad = ["2024-07-15 24:00:00", "2024-02-30 01:00:00", "0000-01-01 00:00:00", "2024-07-15 10:61:00"]
    good = ["2024-07-15 01:00:00", "2024-07-15T02:00:00"]
    stamps = [*good, *bad, None]
    n = len(stamps)
    frame = pd.DataFrame(
        {
            "mp_id": _series([str(3300000000 + i) for i in range(n)]),
            "data_date": _series(["2024-07-15"] * n),
            "coll_time": _series(stamps),
            "pap_r": _series(["1.5"] * n),
            "pap_r1": _series(["0.5"] * n),
            "org_no": _series(["33401"] * n),
            "_source_file": "f.csv",
            "_source_row": np.arange(1, n + 1),
        }
    )
    report = validate_batch(
        frame,
        contract,
        suite_for(contract),
        datetime(2024, 7, 15),
        datetime(2024, 7, 16),
        gx=GxSession() if use_gx else None,
    )
    reasons = dict(zip(report.quarantined["_source_row"], report.quarantined["_failures"], strict=True))
    assert set(reasons) == {3, 4, 5, 6, 7}
    for row in (3, 4, 5, 6):
        assert reasons[row] == ["expect_column_values_to_match_regex(coll_time)[type]"]
    assert reasons[7] == ["expect_column_values_to_not_be_null(coll_time)"]
    assert list(report.load_rows) == [0, 1]
