"""The client-side partition digest equals the server's ``partition_checksum`` query on every
column type, nulls and edge values — from our encoder's payloads and from Postgres's own binary
form (``COPY … TO … (FORMAT binary)``: other numeric weights and digit counts)."""

from __future__ import annotations

import random

import psycopg
import pyarrow as pa
import pytest
from psycopg import sql

from grid_appeals.load import binary, binary_jit, pg_hash
from grid_appeals.load.ddl import PG_TYPES
from grid_appeals.load.ingest import ingest_entity

pytestmark = pytest.mark.skipif(not pg_hash.enabled(), reason="numba missing or GRID_JIT=0")

_rng = random.Random(20240715)
TEXT = ["", "a", "停电", "客户来电反映家中突然停电", *("x" * n for n in range(2, 40)), "3300000001", "é"]
NUMERIC = [
    "0",
    "0.00",
    "-0.00",
    "1.50",
    "1.5",
    "-1.5",
    ".5",
    "5.",
    "007",
    "0.0001",
    "9999",
    "10000",
    "100000000",
    "999999.9999999999",
    "-123.4",
    "123456789012.3456",
    "0.000000000000001",
    *(f"{_rng.uniform(-1e6, 1e6):.{_rng.randint(0, 6)}f}" for _ in range(300)),
]
DATE = ["2024-07-15", "2000-01-01", "1999-12-31", "1970-01-01", "2099-12-31", "1900-01-01"]
TIMESTAMP = [
    "2024-07-15 01:00:00",
    "2000-01-01 00:00:00",
    "1999-12-31 23:59:59.999999",
    "1970-01-01 00:00:00",
    "2024-07-15 03:04:05.123456",
    *(
        f"2024-07-{d:02d} {h:02d}:{m:02d}:00"
        for d, h, m in ((_rng.randint(1, 28), _rng.randint(0, 23), _rng.randint(0, 59)) for _ in range(100))
    ),
]
INTEGER = ["0", "1", "-1", "2147483647", "-2147483648", "65536", "-65536", "33401"]
BIGINT = [
    "0",
    "1",
    "-1",
    "9223372036854775807",
    "-9223372036854775808",
    "4294967296",
    "-4294967297",
    "3300000000",
    "2147483648",
]
BOOLEAN = ["t", "f", "true", "false"]
VALUES = {
    "text": TEXT,
    "numeric": NUMERIC,
    "date": DATE,
    "timestamp": TIMESTAMP,
    "integer": INTEGER,
    "bigint": BIGINT,
    "boolean": BOOLEAN,
}


def _column(values: list[str], n: int) -> list[str | None]:
    """``n`` values cycling through the cases, every seventh one null."""
    return [None if i % 7 == 3 else values[i % len(values)] for i in range(n)]


def _rows(columns: list[str]) -> sql.Composed:
    return sql.SQL("select {} from hash_case").format(sql.SQL(", ").join(map(sql.Identifier, columns)))


def _server_checksum(conn: psycopg.Connection, columns: list[str]) -> str:
    return conn.execute(pg_hash.checksum_query(_rows(columns))).fetchone()[0]


def _load(
    conn: psycopg.Connection, types: dict[str, str], table: pa.Table, order: list[str], pieces: int = 1
):
    """Our encoder's payloads for ``table`` (fields in ``order``, in ``pieces`` slices), COPYed
    into a fresh temp table ``hash_case`` with the columns of ``types``."""
    conn.execute("drop table if exists hash_case")
    cols = ", ".join(f"{c} {PG_TYPES[t]}" for c, t in types.items())
    conn.execute(f"create temp table hash_case ({cols})")
    step = -(-len(table) // pieces)
    payloads = [
        binary_jit.encode(table.slice(off, step), order, 0, types) for off in range(0, len(table), step)
    ]
    with conn.cursor().copy(f"copy hash_case ({', '.join(order)}) from stdin (format binary)") as cp:
        cp.write(binary.SIGNATURE + b"".join(bytes(p) for p in payloads) + binary.TRAILER)
    return payloads


def _digest(columns: list[str], types: dict[str, str], business: list[str], *payloads) -> str:
    digest = pg_hash.PayloadDigest(columns, types, business)
    for payload in payloads:
        digest.update(payload)
    return digest.checksum()


@pytest.mark.parametrize("pg_type", list(VALUES))
def test_digest_of_one_column_equals_the_server_checksum(warehouse, pg_type):
    n = 3 * len(VALUES[pg_type])
    types = {"v": pg_type, "_source_row": "bigint"}
    table = pa.table(
        {
            "v": pa.array(_column(VALUES[pg_type], n), pa.string()),
            "_source_row": pa.array([str(i) for i in range(n)], pa.string()),
        }
    )
    with psycopg.connect(warehouse.url("warehouse")) as conn:
        payloads = _load(conn, types, table, list(types))
        expected = _server_checksum(conn, ["v"])
        assert _digest(list(types), types, ["v"], *payloads) == expected
        assert _digest(["v"], types, ["v"], pg_hash.binary_rows(conn, _rows(["v"]))) == expected


def test_digest_of_a_record_follows_column_order_and_skips_lineage(warehouse):
    """All types in one row, lineage between them, payloads in three pieces: the record hash combines
    the business columns in table order, whatever the payload's field order."""
    n = 600
    business = ["t", "n", "d", "ts", "i", "b", "f"]
    types = dict(zip(business, VALUES, strict=True)) | {"_source_row": "bigint", "_source_file": "text"}
    payload_order = ["ts", "_source_row", "d", "f", "n", "_source_file", "t", "i", "b"]
    table = pa.table(
        {
            **{c: pa.array(_column(VALUES[types[c]], n), pa.string()) for c in business},
            "_source_row": pa.array([str(i) for i in range(n)], pa.string()),
            "_source_file": pa.array([f"f{i % 3}.csv" for i in range(n)], pa.string()),
        }
    )
    with psycopg.connect(warehouse.url("warehouse")) as conn:
        parts = _load(conn, types, table, payload_order, pieces=3)
        expected = _server_checksum(conn, business)
        assert _digest(payload_order, types, business, *parts) == expected
        assert _digest(payload_order, types, list(reversed(business)), *parts) != expected
        empty = pg_hash.PayloadDigest(payload_order, types, business)
        conn.execute("truncate hash_case")
        assert empty.checksum() == _server_checksum(conn, business)


def test_each_server_is_asked_whether_it_hashes_alike_and_a_disagreeing_one_is_read_back(
    h, warehouse, contracts, landing, clean_entity, monkeypatch
):
    """The digest depends on the server's byte order: this (little-endian) server agrees; a server
    that does not (stood in for here) keeps the checksum read back from the table — the same value."""
    with psycopg.connect(warehouse.url("warehouse")) as conn:
        assert pg_hash.server_agrees(conn)
    c = contracts["day_read"]
    clean_entity(c)
    h.write_readings(landing, h.DAY, h.reading_rows(h.DAY, 50))
    agreeing = ingest_entity(c, *h.interval(), cfg=warehouse)
    monkeypatch.setattr(pg_hash, "server_agrees", lambda conn: False)
    disagreeing = ingest_entity(c, *h.interval(), cfg=warehouse)
    assert (agreeing.timings["checksum_from"], disagreeing.timings["checksum_from"]) == ("payloads", "table")
    assert agreeing.checksum == disagreeing.checksum and agreeing.rows_loaded == 50
