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
