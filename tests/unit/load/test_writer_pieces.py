"""Pure pieces of the loader: partition bounds and the CSV payload handed to COPY."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from grid_appeals.load.ddl import partition_bounds
from grid_appeals.load.ingest import local_interval
from grid_appeals.load.writer import csv_buffer
from grid_appeals.sources.contracts import load_contracts

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "contracts"
CONTRACTS = {c.name: c for c in load_contracts(directory=FIXTURES)}


def test_partition_bounds_day_and_month():
    assert partition_bounds(CONTRACTS["day_read"], date(2024, 12, 31)) == (
        "day_read_p20241231",
        date(2024, 12, 31),
        date(2025, 1, 1),
    )
    assert partition_bounds(CONTRACTS["terminal_event"], date(2024, 12, 31)) == (
        "terminal_event_p202412",
        date(2024, 12, 1),
        date(2025, 1, 1),
    )


def test_csv_payload_keeps_nulls_quotes_and_newlines():
    frame = pd.DataFrame(
        {"a": pd.Series(["x", None, 'say "hi"\n2nd line'], dtype="str"), "n": np.array([1, 2, 3])}
    )
    text = bytes(csv_buffer(frame, ["a", "n"])).decode()
    assert text == '"x",1\n,2\n"say ""hi""\n2nd line",3\n'


def test_airflow_utc_interval_becomes_local_day():
    start = datetime(2024, 7, 14, 16, tzinfo=UTC)  # 2024-07-15 00:00 in Asia/Shanghai
    s, e = local_interval(CONTRACTS["day_read"], start, datetime(2024, 7, 15, 16, tzinfo=UTC))
    assert (s, e) == (datetime(2024, 7, 15), datetime(2024, 7, 16))


def test_csv_payload_is_unquoted_when_nothing_needs_quotes():
    frame = pd.DataFrame({"a": pd.Series(["x", None, "y z"], dtype="str"), "n": np.array([1, 2, 3])})
    frame["f"] = pd.Categorical.from_codes(np.zeros(3, dtype=np.int8), categories=["dir/file.csv"])
    assert (
        bytes(csv_buffer(frame, ["a", "n", "f"])).decode()
        == "x,1,dir/file.csv\n,2,dir/file.csv\ny z,3,dir/file.csv\n"
    )


def test_csv_payload_quotes_when_an_empty_string_must_stay_distinct_from_null():
    frame = pd.DataFrame({"a": pd.Series(["x", None, ""], dtype="str")})
    assert bytes(csv_buffer(frame, ["a"])).decode() == '"x"\n\n""\n'
