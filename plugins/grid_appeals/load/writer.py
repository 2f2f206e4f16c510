"""The data transaction: COPY the validated rows, replace the date or upsert, quarantine, checksum.

All of it runs in ONE transaction behind ``pg_advisory_xact_lock(entity, date)``, so two runs of
the same date cannot interleave and an exception at any point (even half-way through the COPY)
leaves the previous state untouched.

Rows go to Postgres as a binary COPY payload built with numpy/arrow from the validated text
(:mod:`grid_appeals.load.binary`; Postgres parses no dates or numbers), or — when a value does not
fit the binary form or ``GRID_LOAD_BINARY=0`` — as CSV text produced by pyarrow, cast by Postgres
once. Either way the raw table's column types are checked against the contract first. Day-partitioned append-only
entities: ``truncate`` the day's partition and COPY (FREEZE) straight into it — a temp table would
write every row twice; other append-only entities: COPY into a temp table, ``delete`` the date,
``insert … select``; updatable entities: ``update … from`` the temp table ``where
src.updated_at >= target.updated_at``, then ``insert`` the new keys; other upserted entities
(snapshots, lookback re-reads): ``update … where the business columns are distinct`` — an
unchanged row is neither rewritten nor moved to another run date, so a full snapshot of 10 M unchanged customers writes nothing and re-running an older date steals no rows.
Rows sent but not written are reported as superseded (counted with the duplicates in the ledger).
The ledger's checksum of the date (:func:`partition_checksum`) is computed from the binary COPY
payloads when the date then holds exactly the rows sent (:mod:`grid_appeals.load.pg_hash`), else
read back from the table.

The COPY is streamed (:func:`open_load`): a writer thread feeds ``copy.write`` (which waits on the
socket with the GIL released) while the caller serialises the next chunk — or, for a large batch,
validates it (:func:`grid_appeals.quality.validate.validate_batch` with ``on_loadable``), so the
backend parses rows on its own core while Python is still checking the rest. A batch-level
failure found after rows were sent aborts the COPY and rolls the transaction back.
"""

from __future__ import annotations

import io
import json
import math
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from psycopg import sql

from grid_appeals.load import binary, binary_jit, pg_hash
from grid_appeals.load.ddl import PG_TYPES, ensure_partition, quarantine_ident, raw_ident
from grid_appeals.sources.batch import SOURCE_FILE, SOURCE_ROW
from grid_appeals.sources.contracts import EntityContract

COPY_CHUNK = 1 << 20  # bytes per copy.write call
SEND_ROWS = 1 << 17  # rows serialised per payload when a whole frame is sent at once
QUEUE_DEPTH = 3  # serialised payloads waiting for the writer thread (bounds the memory held)


@dataclass
class WriteCounts:
    loaded: int
    superseded: int
    quarantined: int
    checksum: str


def arrow_rows(frame: pd.DataFrame, columns: list[str]) -> pa.Table:
    """``frame[columns]`` as an arrow table, categorical lineage decoded to plain text.

    Arrow-backed string columns convert without copying; chunks are then taken from the table
    with arrow kernels (which release the GIL) instead of slicing the frame.
    """
    table = pa.Table.from_pandas(frame[columns], preserve_index=False)
    for i, f in enumerate(table.schema):  # categorical lineage (one file per batch) → plain text
        if pa.types.is_dictionary(f.type):
            table = table.set_column(i, f.name, table.column(i).cast(f.type.value_type))
    return table


def csv_payload(table: pa.Table) -> memoryview:
    """``table`` as headerless CSV (null → empty, empty string → ``""``).

    Unquoted when no value needs quotes (no empty strings, no delimiter, quote or newline): a
    sixth less to write and for Postgres to parse than pyarrow's quote-every-string default;
    pyarrow refuses such a value, and the chunk is then written with quotes.
    """
    sink = io.BytesIO()
    text_columns = [
        c
        for c, f in zip(table.columns, table.schema, strict=True)
        if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
    ]
    if not any(pc.any(pc.equal(pc.utf8_length(c), 0)).as_py() for c in text_columns):
        try:
            pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False, quoting_style="none"))
            return sink.getbuffer()
        except pa.ArrowInvalid:  # a value with a comma, quote or newline
            sink = io.BytesIO()
    pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    return sink.getbuffer()


def csv_buffer(frame: pd.DataFrame, columns: list[str]) -> memoryview:
    """``frame[columns]`` as headerless CSV, see :func:`csv_payload`."""
    return csv_payload(arrow_rows(frame, columns))


def _copy_statement(
    target: sql.Composable, columns: list[str], freeze: bool, binary: bool = False
) -> sql.Composed:
    return sql.SQL("copy {} ({}) from stdin with (format {}{})").format(
        target,
        sql.SQL(", ").join(sql.Identifier(c) for c in columns),
        sql.SQL("binary" if binary else "csv"),
        sql.SQL(", freeze true" if freeze else ""),
    )


def binary_copy() -> bool:
    """COPY in binary format when every value fits it (``GRID_LOAD_BINARY``, default 1); ``0``
    sends CSV text as before (see :mod:`grid_appeals.load.binary`)."""
    return os.environ.get("GRID_LOAD_BINARY", "1") != "0"


def copy_rows(
    conn: psycopg.Connection,
    target: sql.Composable,
    columns: list[str],
    payload: memoryview,
    *,
    after_chunk: Callable[[int], None] | None = None,
    freeze: bool = False,
) -> None:
    """Stream ``payload`` into ``target`` with ``COPY … FROM STDIN (FORMAT csv)`` in chunks.

    ``after_chunk(bytes_sent)`` is a test hook: it lets a test crash the load mid-COPY.
    """
    with conn.cursor().copy(_copy_statement(target, columns, freeze)) as cp:
        for off in range(0, len(payload), COPY_CHUNK):
            cp.write(payload[off : off + COPY_CHUNK])
            if after_chunk is not None:
                after_chunk(off + COPY_CHUNK)


class _Abort(Exception):
    """Internal: the caller gave up (batch-level failure, error); the COPY is failed on purpose."""


_DONE = object()


class CopyStream:
    """One ``COPY … FROM STDIN`` fed by a writer thread from a bounded queue of CSV payloads.

    Why a thread: ``copy.write`` mostly waits for the backend to parse what it was sent (the
    backend is the bottleneck of a large COPY), and psycopg waits with the GIL released — so the
    calling thread can serialise (or validate) the next rows meanwhile. The connection belongs to
    the writer thread until :meth:`close` / :meth:`abort` return. ``after_chunk(bytes_sent)`` is
    the crash-injection test hook, called in the writer thread after each ``copy.write``.
    """

    def __init__(
        self,
        conn: psycopg.Connection,
        stmt: sql.Composable,
        *,
        after_chunk: Callable[[int], None] | None = None,
        binary: bool = False,
    ) -> None:
        self._queue: queue.Queue[object] = queue.Queue(maxsize=QUEUE_DEPTH)
        self._error: BaseException | None = None
        self._conn, self._stmt, self._after_chunk = conn, stmt, after_chunk
        self._binary = binary
        self._thread = threading.Thread(target=self._run, name="copy-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            with self._conn.cursor().copy(self._stmt) as cp:
                sent = 0
                while (item := self._queue.get()) is not _DONE:
                    if isinstance(item, _Abort):
                        raise item
                    payload = item  # type: ignore[assignment]
                    if self._binary and sent == 0:
                        cp.write(binary.SIGNATURE)  # psycopg adds neither header nor trailer to raw blocks
                    for off in range(0, len(payload), COPY_CHUNK):  # type: ignore[arg-type]
                        cp.write(payload[off : off + COPY_CHUNK])  # type: ignore[index]
                        sent += min(COPY_CHUNK, len(payload) - off)  # type: ignore[arg-type]
                        if self._after_chunk is not None:
                            self._after_chunk(sent)
                if self._binary and sent:
                    cp.write(binary.TRAILER)
        except BaseException as exc:  # handed to the caller's thread
            self._error = exc
            while self._queue.get() is not _DONE:  # unblock a producer waiting on a full queue
                pass

    def put(self, payload: memoryview) -> None:
        """Queue one CSV payload; raises at once if the writer already failed."""
        if self._error is not None:
            raise self._error
        if len(payload):
            self._queue.put(payload)

    def close(self) -> None:
        """Finish the COPY (waits for the backend) and re-raise a writer failure here."""
        self._queue.put(_DONE)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def abort(self) -> None:
        """Fail the COPY (psycopg sends CopyFail) and wait for the writer to let go."""
        if self._thread.is_alive():
            self._queue.put(_Abort("load aborted"))
            self._queue.put(_DONE)
            self._thread.join()


def client_checksum() -> bool:
    """Checksum the loaded date from its binary COPY payloads instead of scanning it back when it
    holds exactly the rows sent (:meth:`Load._checksum`)? ``GRID_LOAD_CLIENT_CHECKSUM`` (default 1)
    and the compiled hash functions available (:mod:`grid_appeals.load.pg_hash`): the same value."""
    return os.environ.get("GRID_LOAD_CLIENT_CHECKSUM", "1") != "0" and pg_hash.enabled()


def direct_upserts() -> bool:
    """COPY the rows of an upsert whose key is new straight into the table? (``GRID_LOAD_DIRECT_UPSERT``,
    default 1, and the compiled encoder available: it appends the lineage fields to each row)."""
    return os.environ.get("GRID_LOAD_DIRECT_UPSERT", "1") != "0" and binary_jit.enabled()


_BYTE_ORDER_COLLATIONS = {"C", "POSIX", "C.UTF-8", "C.utf8", "ucs_basic", "pg_c_utf8"}


def _new_keys(
    conn: psycopg.Connection, contract: EntityContract, target: sql.Composable, rows: pd.DataFrame
) -> np.ndarray | None:
    """Rows whose key cannot be in ``target`` yet: equal-length digit keys above the table's max.

    Why: new keys (a day's new work orders; 95598 numbers grow with time) can be COPYed straight
    into the table, without the temp-table round trip (a second write and an ``insert … select``
    of every row, ~0.25 s per 100 000 orders). The decision is exact: with the entity-wide upsert
    lock held (no other load of the entity can insert meanwhile) a key greater than ``max(key)`` in
    the table's order is not in it, and for digit strings of one length that order is the numeric
    one when the key column collates by bytes (checked). Anything else — a compound or non-digit
    key, another collation, keys of other lengths — goes the temp-table way. None: no row direct.
    """
    from grid_appeals.quality.outcome import digit_codes

    if len(contract.primary_key) != 1:
        return None
    key = contract.primary_key[0]
    codes = digit_codes(rows[key])
    if codes is None:
        return None
    found = conn.execute(
        "select coalesce(nullif(c.collname, 'default'), d.datcollate) from pg_attribute a "
        "join pg_collation c on c.oid = a.attcollation join pg_database d on d.datname = current_database() "
        "where a.attrelid = %s::regclass and a.attname = %s",
        (target.as_string(conn), key),
    ).fetchone()
    if found is None or found[0] not in _BYTE_ORDER_COLLATIONS:
        return None
    conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"grid_appeals.load.upsert.{contract.key}",))
    top = conn.execute(sql.SQL("select max({}) from {}").format(sql.Identifier(key), target)).fetchone()
    lengths, values = codes % 20, codes // 20
    if top is None or top[0] is None:
        return codes != 0  # an empty table: every (non-null) key is new
    m = str(top[0])
    if not (m.isascii() and m.isdigit()) or len(m) > 17:
        return None
    return (lengths == len(m)) & (values > int(m))


def lock_entity_date(conn: psycopg.Connection, contract: EntityContract, day: date) -> None:
    conn.execute("select pg_advisory_xact_lock(hashtext(%s), %s)", (contract.key, day.toordinal()))


def _temp_table(
    conn: psycopg.Connection, contract: EntityContract, *, with_file: bool = True
) -> sql.Identifier:
    name = sql.Identifier(f"_load_{contract.source}_{contract.name}")
    cols = [
        sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(PG_TYPES[c.type])) for c in contract.columns
    ]
    cols += [sql.SQL("_source_row bigint")] + ([sql.SQL("_source_file text")] if with_file else [])
    conn.execute(sql.SQL("create temp table {} ({}) on commit drop").format(name, sql.SQL(", ").join(cols)))
    return name


def _insert_from_temp(
    conn: psycopg.Connection,
    contract: EntityContract,
    tmp: sql.Identifier,
    target: sql.Composable,
    batch_id: str,
    day: date,
    *,
    sent: int,
    source_file: str | None = None,
) -> tuple[int, int]:
    """Move rows from the temp table; returns (rows written, rows superseded by newer ones).

    ``source_file`` given: the batch came from one file/table, written as a literal (not streamed).
    Upserts run as ``update … from`` the temp table (existing keys whose row is newer / differs)
    then ``insert … where not exists`` (new keys): a third faster than ``insert … on conflict do
    update``, whose speculative insertion costs a round of index work per row. Two loads of one
    entity on different dates could both insert the same new key, so upserts also take an
    entity-wide advisory lock for this step (held to commit, taken after the entity+date lock).
    """
    business = [sql.Identifier(c) for c in contract.column_names]
    lineage = ("_source_file", "_source_row", "_batch_id", "_data_date", "_loaded_at")
    cols = sql.SQL(", ").join([*business, *map(sql.Identifier, lineage)])
    file_expr = (
        sql.Literal(source_file)
        if source_file is not None
        else sql.SQL("src.{}").format(sql.Identifier("_source_file"))
    )
    # _loaded_at = the transaction's time, not the column default clock_timestamp(): one load, one
    # timestamp, and no function call per row
    values = {
        "_source_file": sql.SQL("{}::text").format(file_expr),
        "_source_row": sql.SQL("src._source_row"),
        "_batch_id": sql.SQL("{}::uuid").format(sql.Literal(batch_id)),
        "_data_date": sql.SQL("{}::date").format(sql.Literal(day)),
        "_loaded_at": sql.SQL("now()"),
    }
    select = sql.SQL("select {}, {} from {} as src").format(
        sql.SQL(", ").join(sql.SQL("src.{}").format(c) for c in business),
        sql.SQL(", ").join(values[c] for c in lineage),
        tmp,
    )
    if not contract.upsert:
        cur = conn.execute(sql.SQL("insert into {} ({}) {}").format(target, cols, select))
        return cur.rowcount, 0
    conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"grid_appeals.load.upsert.{contract.key}",))
    same_key = sql.SQL(" and ").join(
        sql.SQL("target.{k} = src.{k}").format(k=sql.Identifier(k)) for k in contract.primary_key
    )
    updates = sql.SQL(", ").join(
        [
            *(
                sql.SQL("{c} = src.{c}").format(c=sql.Identifier(c))
                for c in contract.column_names
                if c not in contract.primary_key
            ),
            *(sql.SQL("{} = {}").format(sql.Identifier(c), values[c]) for c in lineage),
        ]
    )
    if contract.updatable:
        up = sql.Identifier(contract.updated_at)  # type: ignore[arg-type]
        cond = sql.SQL("(src.{up} >= target.{up} or target.{up} is null)").format(up=up)
    else:
        cond = sql.SQL("({t}) is distinct from ({e})").format(
            t=sql.SQL(", ").join(sql.SQL("target.{}").format(c) for c in business),
            e=sql.SQL(", ").join(sql.SQL("src.{}").format(c) for c in business),
        )
    updated = conn.execute(
        sql.SQL("update {t} as target set {updates} from {tmp} as src where {same_key} and {cond}").format(
            t=target, updates=updates, tmp=tmp, same_key=same_key, cond=cond
        )
    ).rowcount
    inserted = conn.execute(
        sql.SQL(
            "insert into {t} ({cols}) {select} where not exists (select 1 from {t} as target where {k})"
        ).format(t=target, cols=cols, select=select, k=same_key)
    ).rowcount
    return updated + inserted, sent - updated - inserted


def _clean(value: object) -> object:
    return None if isinstance(value, float) and math.isnan(value) else value


def _write_quarantine(
    conn: psycopg.Connection, contract: EntityContract, records: pd.DataFrame, batch_id: str, day: date
) -> int:
    q = quarantine_ident(contract)
    conn.execute(sql.SQL("delete from {} where _data_date = %s").format(q), (day,))
    if records.empty:
        return 0
    with conn.cursor().copy(
        sql.SQL(
            "copy {} (_batch_id, _data_date, _source_file, _source_row, row, failures) from stdin"
        ).format(q)
    ) as cp:
        for row, failures, src, n in zip(
            records["row"], records["failures"], records[SOURCE_FILE], records[SOURCE_ROW], strict=True
        ):
            cp.write_row(
                (
                    batch_id,
                    day,
                    src,
                    int(n),
                    json.dumps({k: _clean(v) for k, v in row.items()}, ensure_ascii=False),
                    json.dumps(failures, ensure_ascii=False),
                )
            )
    return len(records)


def partition_checksum(conn: psycopg.Connection, contract: EntityContract, day: date) -> str:
    """Order-independent digest of the date's rows over the business columns (lineage excluded).

    ``md5(count || sum(hash_record_extended(row)))``: equal row multisets give equal checksums, and
    unlike ``md5(string_agg(… order by key))`` it needs no sort and runs as a parallel scan. The
    record hash combines each column's own extended hash (PostgreSQL ≥ 14), so nothing is rendered
    as text: 0.3 s instead of 0.6 s (``row::text``) or 3.6 s (sorted string_agg) per million
    readings. It digests values, not their text form (``1.0`` and ``1.00`` hash alike). A load that
    leaves the date holding exactly the rows it sent computes the same value from its COPY payloads
    instead (:mod:`grid_appeals.load.pg_hash`), without the scan.
    """
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in contract.column_names)
    rows = sql.SQL("select {cols} from {t} where _data_date = %s").format(cols=cols, t=raw_ident(contract))
    row = conn.execute(pg_hash.checksum_query(rows), (day,)).fetchone()
    return str(row[0]) if row else ""


@dataclass
class Load:
    """The open data transaction of :func:`open_load`: send rows, then :meth:`finish` once."""

    conn: psycopg.Connection
    contract: EntityContract
    day: date
    batch_id: str
    table: pa.Table  # the batch's rows in COPY column order; rows are sent by position
    stream: CopyStream
    target: sql.Composable
    tmp: sql.Identifier | None
    defaults: list[str]
    single_file: str | None
    timings: dict[str, float]
    layout: tuple[list[str], int, dict[str, str]] | None = None  # binary: (columns, fixed, types)
    parsed: binary.ParsedTemporal | None = None  # binary: temporal values validation cast
    direct: np.ndarray | None = None  # direct upsert: rows whose key is new (see _new_keys)
    suffix: tuple[bytes, int] = (b"", 0)  # direct upsert: the lineage fields of every row
    after_chunk: Callable[[int], None] | None = None
    digest: pg_hash.PayloadDigest | None = None  # binary loads: the checksum of the rows sent
    sent: int = 0
    deferred: list[np.ndarray] = field(default_factory=list)
    serialise_s: float = 0.0
    started: float = field(default_factory=time.perf_counter)

    def send(self, positions: np.ndarray | None = None) -> None:
        """Queue the rows at ``positions`` (ascending; all rows if None) for the COPY.

        A streamed chunk is nearly contiguous (its few failing rows left out), so it is cut as a
        zero-copy slice and filtered, not gathered row by row; payloads hold ``SEND_ROWS`` rows.
        A direct upsert (``direct`` set) streams the rows with new keys into the table and keeps
        the others for the temp table (:meth:`finish`).
        """
        if positions is None:
            positions = np.arange(len(self.table), dtype=np.int64)
        if not len(positions):
            return
        self.sent += len(positions)
        if self.direct is not None:
            new = self.direct[positions]
            self.deferred.append(positions[~new])
            positions = positions[new]
        self._stream_rows(self.stream, positions, self.suffix)

    def _stream_rows(self, stream: CopyStream, positions: np.ndarray, suffix: tuple[bytes, int]) -> None:
        if not len(positions):
            return
        t0 = time.perf_counter()
        parsed = self.parsed.take(positions) if self.parsed is not None else None
        lo, hi = int(positions[0]), int(positions[-1]) + 1
        if hi - lo > 4 * len(positions):  # sparse (the winners of repeated keys): gather
            part = self.table.take(pa.array(positions, pa.int64()))
        else:
            part = self.table.slice(lo, hi - lo)
            if len(positions) != hi - lo:
                keep = np.zeros(hi - lo, dtype=bool)
                keep[positions - lo] = True
                part = part.filter(pa.array(keep))
        for off in range(0, len(part), SEND_ROWS):
            chunk = part.slice(off, SEND_ROWS)
            if self.layout is None:
                payload = csv_payload(chunk)
            else:
                values = {c: v[off : off + SEND_ROWS] for c, v in parsed.items()} if parsed else None
                if suffix[1] or binary_jit.enabled():  # lineage suffixes: compiled encoder only
                    payload = binary_jit.encode(chunk, *self.layout, values, suffix=suffix)
                else:
                    payload = binary.encode(chunk, *self.layout, values)
            if self.digest is not None:
                self.digest.update(payload)
            self.serialise_s += time.perf_counter() - t0
            stream.put(payload)
            t0 = time.perf_counter()

    def on_typed(self, start: int, typed: pd.DataFrame) -> None:
        """Validation's typed view of rows ``start`` … (see :class:`binary.ParsedTemporal`)."""
        if self.parsed is not None:
            self.parsed.fill(start, typed)

    def finish(self, quarantine: pd.DataFrame, beside: Callable[[], None] | None = None) -> WriteCounts:
        """Close the COPY, replace/upsert, write the quarantine, checksum (still uncommitted).

        ``beside``: run first, while the backend is still working through the queued COPY
        payloads (the Python side is otherwise idle until it has); its exception aborts the COPY.
        """
        t0 = time.perf_counter()
        if beside is not None:
            beside()
            self.timings["beside_copy_s"] = round(time.perf_counter() - t0, 3)
        self.stream.close()
        self.timings["serialise_s"] = round(self.serialise_s, 3)
        self.timings["copy_wait_s"] = round(time.perf_counter() - t0, 3)
        self.timings["copy_s"] = round(time.perf_counter() - self.started, 3)
        conn, contract = self.conn, self.contract
        if self.tmp is None:
            for col in self.defaults:
                reset = sql.SQL("set default clock_timestamp()" if col == "_loaded_at" else "drop default")
                conn.execute(
                    sql.SQL("alter table {} alter column {} {}").format(
                        self.target, sql.Identifier(col), reset
                    )
                )
            loaded, superseded = self.sent, 0
        else:
            t0 = time.perf_counter()
            if not contract.upsert:
                conn.execute(sql.SQL("delete from {} where _data_date = %s").format(self.target), (self.day,))
            via_temp, loaded, superseded = self.sent, 0, 0
            if self.direct is not None:  # the rows with existing keys: temp table, then merge
                rest = np.sort(np.concatenate(self.deferred)) if self.deferred else np.zeros(0, np.int64)
                via_temp = len(rest)
                loaded = self.sent - via_temp  # COPYed straight into the table
                self.timings["direct_rows"] = loaded
                if via_temp:
                    stmt = _copy_statement(self.tmp, self.layout[0], freeze=False, binary=True)  # type: ignore[index]
                    stream = CopyStream(conn, stmt, after_chunk=self.after_chunk, binary=True)
                    try:
                        self._stream_rows(stream, rest, (b"", 0))
                        stream.close()
                    finally:
                        stream.abort()
            if via_temp:
                written, superseded = _insert_from_temp(
                    conn,
                    contract,
                    self.tmp,
                    self.target,
                    self.batch_id,
                    self.day,
                    sent=via_temp,
                    source_file=self.single_file,
                )
                loaded += written
            self.timings["replace_s"] = round(time.perf_counter() - t0, 3)
        quarantined = _write_quarantine(conn, contract, quarantine, self.batch_id, self.day)
        t0 = time.perf_counter()
        checksum = self._checksum(loaded, superseded)
        self.timings["checksum_s"] = round(time.perf_counter() - t0, 3)
        return WriteCounts(loaded=loaded, superseded=superseded, quarantined=quarantined, checksum=checksum)

    def _checksum(self, loaded: int, superseded: int) -> str:
        """The date's :func:`partition_checksum`: from the COPY payloads when the date now holds
        exactly the rows sent — a replaced date, or an upsert that wrote every row it sent and left
        no other batch's row on the date (``timings["checksum_from"]`` says which) — else read back."""
        conn, contract, digest = self.conn, self.contract, self.digest
        if digest is not None and superseded == 0:
            if digest.rows != loaded:  # defensive: every row sent was written
                raise RuntimeError(f"checksum digest saw {digest.rows} rows, {loaded} were loaded")
            if not (contract.upsert and self._other_batches_on_date()):
                self.timings["checksum_from"] = "payloads"
                return digest.checksum()
        self.timings["checksum_from"] = "table"
        return partition_checksum(conn, contract, self.day)

    def _other_batches_on_date(self) -> bool:
        """Does the date still hold rows of another batch (an upsert never deletes)?"""
        row = self.conn.execute(
            sql.SQL("select exists (select 1 from {} where _data_date = %s and _batch_id <> %s)").format(
                self.target
            ),
            (self.day, self.batch_id),
        ).fetchone()
        return bool(row and row[0])


@contextmanager
def open_load(
    conn: psycopg.Connection,
    contract: EntityContract,
    day: date,
    batch_id: str,
    rows: pd.DataFrame,
    *,
    after_chunk: Callable[[int], None] | None = None,
    timings: dict[str, float] | None = None,
) -> Iterator[Load]:
    """Open the data transaction and a COPY for (a subset of) ``rows``; see module doc.

    The body sends row positions (:meth:`Load.send`, any order, each row at most once) and calls
    :meth:`Load.finish`; the transaction commits when the body returns. Any exception in the body
    (a batch-level failure found late, a crash) fails the COPY and rolls everything back.
    """
    timings = timings if timings is not None else {}
    direct_partition = not contract.upsert and contract.partition == "day"
    files = rows[SOURCE_FILE].dropna().unique() if SOURCE_FILE in rows else []
    # lineage constant for the whole batch is not streamed: a full file path on every row made
    # the COPY stream ~2x the business data. Direct loads set it as column DEFAULTs of the day
    # partition (reset before commit); temp-table loads add it as literals in the INSERT … SELECT.
    single_file = str(files[0]) if len(files) == 1 else None
    columns = [*contract.column_names, SOURCE_ROW] + ([] if single_file is not None else [SOURCE_FILE])
    table = arrow_rows(rows, columns)
    types = binary.column_types(contract, columns)
    layout: tuple[list[str], int, dict[str, str]] | None = None
    if binary_copy() and binary.binary_possible(table, types):
        order, fixed = binary.binary_order(contract, columns)
        table = table.select(order)
        columns, layout = order, (order, fixed, types)
    with conn.transaction():
        lock_entity_date(conn, contract, day)
        binary.check_column_types(conn, raw_ident(contract), types)
        target = ensure_partition(contract, conn, day)
        defaults: list[str] = []
        tmp: sql.Identifier | None = None
        direct: np.ndarray | None = None
        suffix: tuple[bytes, int] = (b"", 0)
        digest: pg_hash.PayloadDigest | None = None
        if direct_partition:
            # truncate + COPY FREEZE in one transaction: no double write through a temp table, rows
            # written frozen (no later hint-bit rewrite); readers keep seeing the old day until commit
            conn.execute(sql.SQL("truncate {}").format(target))
            # _loaded_at: the transaction's time instead of the default clock_timestamp(), which
            # costs a function call per row (~1 s of a 3 s COPY of a million readings)
            constants: dict[str, sql.Composable] = {
                "_batch_id": sql.Literal(batch_id),
                "_data_date": sql.Literal(day.isoformat()),
                "_loaded_at": sql.SQL("now()"),
            }
            if single_file is not None:
                constants[SOURCE_FILE] = sql.Literal(single_file)
            for col, value in constants.items():
                conn.execute(
                    sql.SQL("alter table {} alter column {} set default {}").format(
                        target, sql.Identifier(col), value
                    )
                )
            defaults = list(constants)
            stmt = _copy_statement(target, columns, freeze=True, binary=layout is not None)
        else:
            tmp = _temp_table(conn, contract, with_file=single_file is None)
            stmt = _copy_statement(tmp, columns, freeze=False, binary=layout is not None)
            if contract.upsert and layout is not None and direct_upserts():
                direct = _new_keys(conn, contract, target, rows)
            if direct is not None:
                now = conn.execute("select now()").fetchone()[0]  # type: ignore[index]
                suffix = binary.constant_fields(batch_id, day, now, single_file)
                stmt = _copy_statement(target, columns + binary.CONSTANT_COLUMNS[: suffix[1]], False, True)
        if layout is not None and client_checksum() and pg_hash.server_agrees(conn):
            digest = pg_hash.PayloadDigest(columns, types, contract.column_names)
        stream = CopyStream(conn, stmt, after_chunk=after_chunk, binary=layout is not None)
        timings["copy_format"] = "binary" if layout is not None else "csv"
        parsed = None
        if layout is not None:
            temporal = [c for c in columns if types[c] in ("date", "timestamp")]
            parsed = binary.ParsedTemporal(temporal, len(table))
        load = Load(
            conn,
            contract,
            day,
            batch_id,
            table,
            stream,
            target,
            tmp,
            defaults,
            single_file,
            timings,
            layout,
            parsed,
            direct,
            suffix,
            after_chunk,
            digest,
        )
        try:
            yield load
        except BaseException:
            stream.abort()
            raise
        finally:
            stream.abort()  # no-op once closed; a body that returned without finish() still lets go


def write_batch(
    conn: psycopg.Connection,
    contract: EntityContract,
    day: date,
    batch_id: str,
    loadable: pd.DataFrame,
    quarantine: pd.DataFrame,
    *,
    after_chunk: Callable[[int], None] | None = None,
    timings: dict[str, float] | None = None,
) -> WriteCounts:
    """The whole data transaction for already validated rows (see module doc)."""
    with open_load(conn, contract, day, batch_id, loadable, after_chunk=after_chunk, timings=timings) as load:
        load.send()
        return load.finish(quarantine)
