"""The COPY payload round-trips through Postgres: nulls, empty strings, quotes, commas, newlines."""

from __future__ import annotations

import pandas as pd
import psycopg
import pytest
from psycopg import sql

from grid_appeals.load.writer import copy_rows, csv_buffer

CASES = {
    "plain": ["x", None, "停电 报修", "2024-07-15 01:00:00"],
    "empty string": ["x", None, ""],
    "structural": ["a,b", 'say "hi"', "two\nlines", None, "tail\r"],
}


@pytest.mark.parametrize("values", CASES.values(), ids=CASES.keys())
def test_payload_round_trips_through_copy(warehouse, values):
    frame = pd.DataFrame({"v": pd.Series(values, dtype="str"), "n": range(len(values))})
    with psycopg.connect(warehouse.url("warehouse")) as conn, conn.transaction():
        conn.execute("create temp table payload_rt (v text, n bigint) on commit drop")
        copy_rows(conn, sql.Identifier("payload_rt"), ["v", "n"], csv_buffer(frame, ["v", "n"]))
        back = conn.execute("select v from payload_rt order by n").fetchall()
    assert [r[0] for r in back] == values
