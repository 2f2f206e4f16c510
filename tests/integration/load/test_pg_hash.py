"""The client-side partition digest equals the server's ``partition_checksum`` query on every
column type, nulls and edge values — from our encoder's payloads and from Postgres's own binary
form (``COPY … TO … (FORMAT binary)``: other numeric weights and digit counts)."""

from __future__ import annotations

import random

import psycopg
import pyarrow as pa
import pytest

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


def _server_checksum(conn: psycopg.Connection, columns: list[str]) -> str:
    return conn.execute(
        "select md5(count(*)::text || ':' || coalesce(sum(hash_record_extended(r, 0)), 0)::text) "
        f"from (select {', '.join(columns)} from hash_case) r"
    ).fetchone()[0]


def _load(conn: psycopg.Connection, types: dict[str, str], table: pa.Table) -> memoryview:
    """Our encoder's payload for ``table``, COPYed into a fresh temp table ``hash_case``."""
    conn.execute("drop table if exists hash_case")
    cols = ", ".join(f"{c} {PG_TYPES[t]}" for c, t in types.items())
    conn.execute(f"create temp table hash_case ({cols})")
    payload = binary_jit.encode(table, list(types), 0, types)
    with conn.cursor().copy(f"copy hash_case ({', '.join(types)}) from stdin (format binary)") as cp:
        cp.write(binary.SIGNATURE + bytes(payload) + binary.TRAILER)
    return payload


def _server_payload(conn: psycopg.Connection, columns: list[str]) -> bytes:
    """The rows as Postgres itself writes them in binary (header and trailer cut off)."""
    out = bytearray()
    with conn.cursor().copy(
        f"copy (select {', '.join(columns)} from hash_case) to stdout (format binary)"
    ) as cp:
        for block in cp:
            out += block
    return bytes(out[len(binary.SIGNATURE) : -len(binary.TRAILER)])


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
        payload = _load(conn, types, table)
        expected = _server_checksum(conn, ["v"])
        assert _digest(list(types), types, ["v"], payload) == expected
        assert _digest(["v"], types, ["v"], _server_payload(conn, ["v"])) == expected


def test_digest_of_a_record_follows_column_order_and_skips_lineage(warehouse):
    """All types in one row, lineage between them, payloads split in two: the record hash combines
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
        conn.execute("drop table if exists hash_case")
        cols = ", ".join(f"{c} {PG_TYPES[types[c]]}" for c in [*business, "_source_row", "_source_file"])
        conn.execute(f"create temp table hash_case ({cols})")
        parts = [binary_jit.encode(table.slice(off, 250), payload_order, 0, types) for off in (0, 250, 500)]
        with conn.cursor().copy(
            f"copy hash_case ({', '.join(payload_order)}) from stdin (format binary)"
        ) as cp:
            cp.write(binary.SIGNATURE + b"".join(bytes(p) for p in parts) + binary.TRAILER)
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
