"""Writing to Postgres with COPY (psycopg 3) and to files, byte-reproducibly.

Why COPY from a CSV buffer: it is an order of magnitude faster than INSERTs and lets the province
preset move millions of rows a day. Gzip headers carry no timestamp/filename (mtime=0) and Excel
workbooks a fixed creation date, so the same seed and date give identical bytes.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg import sql


def _arrow_column(s: pd.Series) -> pa.Array:
    if pd.api.types.is_datetime64_any_dtype(s):
        # whole seconds, as the source systems store them (sub-second parts are truncated)
        # from_pandas: NaT must become NULL, not a garbage far-past timestamp
        return pa.array(s.to_numpy().astype("datetime64[s]"), pa.timestamp("s"), from_pandas=True)
    if isinstance(s.dtype, pd.StringDtype):
        # pandas' own string arrays: go through objects so Arrow gets plain utf8 buffers
        return pa.array(s.astype(object).to_numpy(), pa.string(), from_pandas=True)
    if s.dtype == object:
        try:
            return pa.array(s.to_numpy(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):  # mixed types: write their text
            return pa.array(s.astype("str"), from_pandas=True)
    return pa.array(s, from_pandas=True)


def frame_to_csv(df: pd.DataFrame) -> bytes:
    """CSV for ``COPY … (FORMAT csv)`` written by Arrow: strings always quoted, NULL = empty field.

    Why Arrow and CSV: pandas ``to_csv`` with per-column escaping took ~20 s per million customer
    rows (the province world is 10 M); Arrow's writer is an order of magnitude faster and CSV needs
    no escaping of tabs/newlines/backslashes. NaN/None/NaT become NULL.
    """
    if df.empty:
        return b""
    tbl = pa.Table.from_arrays([_arrow_column(df[c]) for c in df.columns], names=[str(c) for c in df.columns])
    sink = pa.BufferOutputStream()
    pacsv.write_csv(tbl, sink, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    return sink.getvalue().to_pybytes()


def copy_frame(conn: psycopg.Connection, table: str, df: pd.DataFrame, columns: Sequence[str] | None = None) -> int:
    """COPY ``df`` into ``table`` (columns in df order unless given)."""
    if df.empty:
        return 0
    cols = list(columns or df.columns)
    _copy_bytes(conn, table, cols, frame_to_csv(df[cols]))
    return len(df)


def write_gzip_csv(path: Path, df: pd.DataFrame, *, encoding: str = "utf-8", truncate: bool = False) -> int:
    """Gzip CSV with a reproducible header; ``truncate`` cuts the stream (a defect) mid-way."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = df.to_csv(index=False, lineterminator="\n").encode(encoding, errors="replace")
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=5) as gz:
        gz.write(raw)
    data = buf.getvalue()
    if truncate:
        data = data[: max(20, int(len(data) * 0.6))]
    path.write_bytes(data)
    return len(df)


class Ops:
    """Deferred database writes of one simulated day: built (and serialised) in a worker process,
    applied in order by the parent over its own connections.

    Why: days are generated in parallel, but two processes upserting into the same tables can
    deadlock and would need a connection each; one writer applying ready-made COPY text keeps the
    database side simple and sequential while the CPU-heavy part runs on every core.
    """

    def __init__(self) -> None:
        self.items: list[tuple] = []

    def execute(self, db: str, stmt: str, params: tuple = ()) -> None:
        self.items.append(("sql", db, stmt, params))

    def copy(self, db: str, table: str, df: pd.DataFrame) -> int:
        if not df.empty:
            self.items.append(("copy", db, table, list(df.columns), frame_to_csv(df), None, None))
        return len(df)

    def replace(self, db: str, table: str, key: str, df: pd.DataFrame) -> int:
        """Delete rows whose ``key`` is in df, then COPY df (idempotent re-writes)."""
        if not df.empty:
            keys = frame_to_csv(pd.DataFrame({"k": df[key].astype(str).unique()}))
            self.items.append(("copy", db, table, list(df.columns), frame_to_csv(df), key, keys))
        return len(df)

    def update(self, db: str, table: str, key: str, df: pd.DataFrame, types: dict[str, str]) -> int:
        if not df.empty:
            cols = [c for c in df.columns if c != key]
            self.items.append(("update", db, table, key, cols, types,
                               frame_to_csv(df[[key, *cols]])))
        return len(df)

    def apply(self, conns: dict[str, psycopg.Connection]) -> None:
        for it in self.items:
            kind, db = it[0], it[1]
            conn = conns[db]
            if kind == "sql":
                conn.execute(it[2], it[3])
            elif kind == "copy":
                _, _, table, cols, data, key, keys = it
                if key is not None:
                    tmp = f"_stage_{table}"
                    conn.execute(sql.SQL("create temp table if not exists {} (k text) on commit drop")
                                 .format(sql.Identifier(tmp)))
                    conn.execute(sql.SQL("truncate {}").format(sql.Identifier(tmp)))
                    _copy_bytes(conn, tmp, ["k"], keys)
                    conn.execute(sql.SQL("delete from {t} using {s} where {t}.{k} = {s}.k").format(
                        t=sql.Identifier(table), s=sql.Identifier(tmp), k=sql.Identifier(key)))
                _copy_bytes(conn, table, cols, data)
            else:
                _, _, table, key, cols, types, data = it
                tmp = f"_upd_{table}"
                conn.execute(sql.SQL("create temp table if not exists {} ({}) on commit drop").format(
                    sql.Identifier(tmp), sql.SQL(", ").join(
                        sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(types.get(c, "text"))) for c in [key, *cols])))
                conn.execute(sql.SQL("truncate {}").format(sql.Identifier(tmp)))
                _copy_bytes(conn, tmp, [key, *cols], data)
                conn.execute(sql.SQL("update {t} set {sets} from {s} where {t}.{k} = {s}.{k}").format(
                    t=sql.Identifier(table), s=sql.Identifier(tmp), k=sql.Identifier(key),
                    sets=sql.SQL(", ").join(sql.SQL("{c} = {s}.{c}").format(c=sql.Identifier(c), s=sql.Identifier(tmp))
                                            for c in cols)))


def _copy_bytes(conn: psycopg.Connection, table: str, cols: Sequence[str], data: bytes) -> None:
    stmt = sql.SQL("copy {} ({}) from stdin (format csv)").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, cols)))
    with conn.cursor() as cur, cur.copy(stmt) as cp:
        for i in range(0, len(data), 8 << 20):
            cp.write(data[i:i + (8 << 20)])
