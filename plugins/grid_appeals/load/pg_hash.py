"""The partition checksum computed from the binary COPY payload, as Postgres would compute it.

Why: the ledger's checksum of a day partition is ``md5(count || ':' || sum(hash_record_extended(
row, 0)))`` over the business columns (:func:`grid_appeals.load.writer.partition_checksum`). Read
back from the server it costs a parallel scan of the whole partition after the COPY (~0.2 s of a
~1.5 s load of a million readings, both cores busy) on the critical path. A day partition that the
load truncated and filled holds exactly the rows of its COPY payloads, so the same digest can be
computed from those payloads, in the Python process, while the backend is still busy ingesting
them: the digest walks each payload's tuples and applies Postgres's own extended hash functions.

Those functions are stable by contract: hash partitioning stores their values on disk, so
Postgres keeps them identical across versions and pg_upgrade. Per type (seed 0):
- text: ``hash_bytes_extended`` (Bob Jenkins' lookup3) of its UTF-8 bytes (deterministic collations);
- date, integer: ``hash_uint32_extended`` of the value; boolean: of 0/1 (``hashcharextended``);
- timestamp, bigint: ``hashint8extended`` (the halves folded, then ``hash_uint32_extended``);
- numeric: ``hash_bytes_extended`` of the base-10000 digits (int16, native byte order) without
  leading/trailing zero digits, xor the weight; zero hashes to -1, NaN/±Infinity to 0; the sign and
  display scale are not hashed (``1.0`` and ``-1.00`` alike, as in Postgres);
- null: 0; the row: ``h = h * 31 + column hash`` in column order (``hash_record_extended``).
The equality with the server's own query is tested on every column type, nulls and edge values,
and on every entity of a simulated window. The values depend on the server's byte order (numeric
digits and lookup3's words are hashed as they lie in its memory): :func:`server_agrees` checks each
server once per process on a row of every type, and a server that disagrees (big-endian) keeps the
server-side checksum, as does a process without numba (``GRID_JIT=0``).
"""

from __future__ import annotations

import hashlib

import numpy as np
import psycopg
from psycopg import sql

from grid_appeals.jit import enabled as jit_enabled
from grid_appeals.jit import jit
from grid_appeals.load.binary import SIGNATURE, TRAILER

SKIP, TEXT, NUMERIC, INT4, INT8, BOOL = 0, 1, 2, 3, 4, 5
KIND = {
    "text": TEXT,
    "numeric": NUMERIC,
    "date": INT4,
    "integer": INT4,
    "bigint": INT8,
    "timestamp": INT8,
    "boolean": BOOL,
}


_PROBE_ROW = (
    "select '停电报修 A1'::text, 1234.5600::numeric, 0::numeric, -0.07::numeric, date '1999-12-31', "
    "timestamp '2024-07-15 01:02:03.5', -7::integer, -3000000000::bigint, true, null::text"
)
_PROBE_TYPES = [
    "text",
    "numeric",
    "numeric",
    "numeric",
    "date",
    "timestamp",
    "integer",
    "bigint",
    "boolean",
    "text",
]
_agreed: dict[tuple[str, str, int], bool] = {}


def checksum_query(rows: sql.Composable) -> sql.Composed:
    """The server's checksum of the rows ``rows`` selects: ``md5(count || ':' ||
    sum(hash_record_extended(row, 0)))``, what :meth:`PayloadDigest.checksum` computes here."""
    return sql.SQL(
        "select md5(count(*)::text || ':' || coalesce(sum(hash_record_extended(r, 0)), 0)::text) from ({}) r"
    ).format(rows)


def binary_rows(conn: psycopg.Connection, rows: sql.Composable) -> bytes:
    """The tuples of ``COPY (rows) TO STDOUT (FORMAT binary)``: Postgres's own binary form of the
    rows, header and trailer cut off (what :meth:`PayloadDigest.update` reads)."""
    out = bytearray()
    with conn.cursor().copy(sql.SQL("copy ({}) to stdout (format binary)").format(rows)) as cp:
        for block in cp:
            out += block
    return bytes(out[len(SIGNATURE) : -len(TRAILER)])


def server_agrees(conn: psycopg.Connection) -> bool:
    """Does this server hash as :class:`PayloadDigest` does? Asked once per server and process: the
    server's binary form of one row of every type, digested here, against its own checksum query."""
    info = conn.info
    key = (info.host, str(info.port), info.server_version)
    if key not in _agreed:
        names = [f"c{i}" for i in range(len(_PROBE_TYPES))]
        digest = PayloadDigest(names, dict(zip(names, _PROBE_TYPES, strict=True)), names)
        digest.update(binary_rows(conn, sql.SQL(_PROBE_ROW)))
        row = conn.execute(checksum_query(sql.SQL(_PROBE_ROW))).fetchone()
        _agreed[key] = row is not None and row[0] == digest.checksum()
    return _agreed[key]


def enabled() -> bool:
    """Compute the digest client-side? Only compiled: a Python loop per field would cost seconds."""
    return jit_enabled()


@jit
def _rot(x, k):  # type: ignore[no-untyped-def]
    return ((x << k) | (x >> (32 - k))) & 0xFFFFFFFF


@jit
def _mix(a, b, c):  # type: ignore[no-untyped-def]
    m = 0xFFFFFFFF
    a = ((a - c) & m) ^ _rot(c, 4)
    c = (c + b) & m
    b = ((b - a) & m) ^ _rot(a, 6)
    a = (a + c) & m
    c = ((c - b) & m) ^ _rot(b, 8)
    b = (b + a) & m
    a = ((a - c) & m) ^ _rot(c, 16)
    c = (c + b) & m
    b = ((b - a) & m) ^ _rot(a, 19)
    a = (a + c) & m
    c = ((c - b) & m) ^ _rot(b, 4)
    b = (b + a) & m
    return a, b, c


@jit
def _final(a, b, c):  # type: ignore[no-untyped-def]
    m = 0xFFFFFFFF
    c = ((c ^ b) - _rot(b, 14)) & m
    a = ((a ^ c) - _rot(c, 11)) & m
    b = ((b ^ a) - _rot(a, 25)) & m
    c = ((c ^ b) - _rot(b, 16)) & m
    a = ((a ^ c) - _rot(c, 4)) & m
    b = ((b ^ a) - _rot(a, 14)) & m
    c = ((c ^ b) - _rot(b, 24)) & m
    return a, b, c


@jit
def _as_int64(b, c):  # type: ignore[no-untyped-def]
    """``((uint64) b << 32) | c`` as the signed 64-bit value Postgres returns as bigint."""
    hi = b - (1 << 32) if b >= (1 << 31) else b
    return (hi << 32) | c


@jit
def _hash_bytes(buf, lo, n):  # type: ignore[no-untyped-def]
    """``hash_bytes_extended(buf[lo:lo+n], n, 0)`` (little-endian word fetches)."""
    m = 0xFFFFFFFF
    a = b = c = (0x9E3779B9 + n + 3923095) & m
    p, left = lo, n
    while left >= 12:
        a = (a + (buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24))) & m
        b = (b + (buf[p + 4] | (buf[p + 5] << 8) | (buf[p + 6] << 16) | (buf[p + 7] << 24))) & m
        c = (c + (buf[p + 8] | (buf[p + 9] << 8) | (buf[p + 10] << 16) | (buf[p + 11] << 24))) & m
        a, b, c = _mix(a, b, c)
        p += 12
        left -= 12
    # the last 11 bytes; the lowest byte of c is left for the length, as in lookup3
    if left >= 11:
        c += buf[p + 10] << 24
    if left >= 10:
        c += buf[p + 9] << 16
    if left >= 9:
        c += buf[p + 8] << 8
    if left >= 8:
        b += buf[p + 7] << 24
    if left >= 7:
        b += buf[p + 6] << 16
    if left >= 6:
        b += buf[p + 5] << 8
    if left >= 5:
        b += buf[p + 4]
    if left >= 4:
        a += buf[p + 3] << 24
    if left >= 3:
        a += buf[p + 2] << 16
    if left >= 2:
        a += buf[p + 1] << 8
    if left >= 1:
        a += buf[p]
    a, b, c = _final(a & m, b & m, c & m)
    return _as_int64(b, c)


@jit
def _hash_uint32(k):  # type: ignore[no-untyped-def]
    """``hash_uint32_extended(k, 0)``."""
    a = b = c = (0x9E3779B9 + 4 + 3923095) & 0xFFFFFFFF
    a = (a + k) & 0xFFFFFFFF
    a, b, c = _final(a, b, c)
    return _as_int64(b, c)


@jit
def _u2(buf, p):  # type: ignore[no-untyped-def]
    return (np.int64(buf[p]) << 8) | np.int64(buf[p + 1])


@jit
def _u4(buf, p):  # type: ignore[no-untyped-def]
    return (
        (np.int64(buf[p]) << 24)
        | (np.int64(buf[p + 1]) << 16)
        | (np.int64(buf[p + 2]) << 8)
        | np.int64(buf[p + 3])
    )


@jit
def _i4(buf, p):  # type: ignore[no-untyped-def]
    v = _u4(buf, p)
    return v - (1 << 32) if v >= (1 << 31) else v


@jit
def _hash_numeric(buf, p, scratch):  # type: ignore[no-untyped-def]
    """``hash_numeric_extended(value, 0)`` of a binary-format numeric at ``buf[p]``."""
    ndigits = _u2(buf, p)
    weight = _u2(buf, p + 2)
    weight = weight - 65536 if weight >= 32768 else weight
    sign = _u2(buf, p + 4)
    if sign == 0xC000 or sign == 0xD000 or sign == 0xF000:  # NaN, ±Infinity
        return 0
    d = p + 8
    first, last = 0, ndigits
    while first < ndigits and buf[d + 2 * first] == 0 and buf[d + 2 * first + 1] == 0:
        first += 1
        weight -= 1
    if first == ndigits:
        return -1  # zero: seed - 1
    while buf[d + 2 * last - 2] == 0 and buf[d + 2 * last - 1] == 0:
        last -= 1
    n = 0
    for i in range(first, last):  # NumericDigit (int16) in memory: little-endian
        scratch[n] = buf[d + 2 * i + 1]
        scratch[n + 1] = buf[d + 2 * i]
        n += 2
    return _hash_bytes(scratch, 0, n) ^ weight


@jit
def _digest(payload, kinds, ranks, width, scratch):  # type: ignore[no-untyped-def]
    """Rows in ``payload`` (binary COPY tuples) and the sum of their record hashes as two int64
    halves (high 32 bits signed, low 32 bits unsigned: exact for up to 2**31 rows)."""
    hashes = np.zeros(width, dtype=np.int64)
    rows, hi, lo = 0, 0, 0
    p, end = 0, len(payload)
    while p + 2 <= end:
        nf = _u2(payload, p)
        p += 2
        if nf == 0xFFFF:  # the trailer
            break
        for f in range(nf):
            size = _i4(payload, p)
            p += 4
            kind = kinds[f] if f < len(kinds) else SKIP
            if kind != SKIP:
                h = 0
                if size >= 0:
                    if kind == TEXT:
                        h = _hash_bytes(payload, p, size)
                    elif kind == NUMERIC:
                        h = _hash_numeric(payload, p, scratch)
                    elif kind == INT4:
                        h = _hash_uint32(_u4(payload, p))
                    elif kind == INT8:  # hashint8extended: the low half xor the (sign-folded) high half
                        high, low = _u4(payload, p), _u4(payload, p + 4)
                        h = _hash_uint32(low ^ (high if high < (1 << 31) else high ^ 0xFFFFFFFF))
                    else:  # BOOL: hashcharextended
                        h = _hash_uint32(payload[p])
                hashes[ranks[f]] = h
            if size > 0:
                p += size
        record = 0
        for i in range(width):
            record = record * 31 + hashes[i]  # wraps like Postgres's uint64 arithmetic
        rows += 1
        hi += record >> 32
        lo += record & 0xFFFFFFFF
    return rows, hi, lo


class PayloadDigest:
    """Accumulates :func:`partition_checksum`'s digest over the binary payloads of one COPY.

    ``columns``/``types``: the payload's fields in order; ``business``: the checksummed columns in
    table order (the others, lineage, are skipped).
    """

    def __init__(self, columns: list[str], types: dict[str, str], business: list[str]) -> None:
        rank = {c: i for i, c in enumerate(business)}
        self._kinds = np.array([KIND[types[c]] if c in rank else SKIP for c in columns], dtype=np.int64)
        self._ranks = np.array([rank.get(c, 0) for c in columns], dtype=np.int64)
        self._width = len(business)
        self._scratch = np.zeros(2 * 0xFFFF, dtype=np.uint8)
        self.rows, self.total = 0, 0

    def update(self, payload: memoryview | bytes | np.ndarray) -> None:
        buf = np.frombuffer(payload, dtype=np.uint8)
        rows, hi, lo = _digest(buf, self._kinds, self._ranks, self._width, self._scratch)
        self.rows += int(rows)
        self.total += (int(hi) << 32) + int(lo)

    def checksum(self) -> str:
        """The value :func:`grid_appeals.load.writer.partition_checksum` reads for these rows."""
        return hashlib.md5(f"{self.rows}:{self.total}".encode()).hexdigest()
