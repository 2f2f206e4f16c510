"""Writing to Postgres with COPY (psycopg 3) and to files, byte-reproducibly.

Why COPY from a text buffer: it is an order of magnitude faster than INSERTs and lets the province
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
from psycopg import sql

_ESC = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"))


def frame_to_copy_text(df: pd.DataFrame) -> str:
    """Tab-separated COPY text with \\N for NULL (escaping tabs/newlines/backslashes in text).

    Vectorised (pandas ``str`` methods, one ``to_csv`` call): per-cell Python escaping was the single
    biggest cost of a simulated day.
    """
    out = df.copy()
    for c in out.columns:
        s = out[c]
        if pd.api.types.is_datetime64_any_dtype(s):
            out[c] = s.dt.strftime("%Y-%m-%d %H:%M:%S")
        elif s.dtype == object or pd.api.types.is_string_dtype(s):
            st = s.astype("str")  # missing values stay missing → \N
            if st.str.contains(r"[\\\t\n\r]", regex=True, na=False).any():
                for a, b in _ESC:
                    st = st.str.replace(a, b, regex=False)
            out[c] = st
    return out.to_csv(sep="\t", header=False, index=False, na_rep="\\N", quoting=3, escapechar=None,
                      lineterminator="\n")


def copy_frame(conn: psycopg.Connection, table: str, df: pd.DataFrame, columns: Sequence[str] | None = None) -> int:
    """COPY ``df`` into ``table`` (columns in df order unless given)."""
    if df.empty:
        return 0
    cols = list(columns or df.columns)
    stmt = sql.SQL("copy {} ({}) from stdin").format(sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, cols)))
    text = frame_to_copy_text(df[cols])
    with conn.cursor() as cur, cur.copy(stmt) as cp:
        data = text.encode("utf-8")
        for i in range(0, len(data), 8 << 20):
            cp.write(data[i:i + (8 << 20)])
    return len(df)


def replace_by_key(conn: psycopg.Connection, table: str, key: str, df: pd.DataFrame) -> int:
    """Delete rows whose ``key`` is in df, then COPY df: idempotent re-writes of one day's rows."""
    if df.empty:
        return 0
    tmp = f"_stage_{table}"
    conn.execute(sql.SQL("create temp table if not exists {} (k text) on commit drop").format(sql.Identifier(tmp)))
    conn.execute(sql.SQL("truncate {}").format(sql.Identifier(tmp)))
    copy_frame(conn, tmp, pd.DataFrame({"k": df[key].astype(str).unique()}))
    conn.execute(sql.SQL("delete from {t} using {s} where {t}.{k} = {s}.k").format(
        t=sql.Identifier(table), s=sql.Identifier(tmp), k=sql.Identifier(key)))
    return copy_frame(conn, table, df)


def update_by_key(conn: psycopg.Connection, table: str, key: str, df: pd.DataFrame, types: dict[str, str]) -> int:
    """UPDATE existing rows' columns from df (status changes of orders created on earlier days)."""
    if df.empty:
        return 0
    tmp = f"_upd_{table}"
    cols = [c for c in df.columns if c != key]
    conn.execute(sql.SQL("create temp table if not exists {} ({}) on commit drop").format(
        sql.Identifier(tmp), sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(types.get(c, "text")))
                                               for c in [key, *cols])))
    conn.execute(sql.SQL("truncate {}").format(sql.Identifier(tmp)))
    copy_frame(conn, tmp, df[[key, *cols]])
    cur = conn.execute(sql.SQL("update {t} set {sets} from {s} where {t}.{k} = {s}.{k}").format(
        t=sql.Identifier(table), s=sql.Identifier(tmp), k=sql.Identifier(key),
        sets=sql.SQL(", ").join(sql.SQL("{c} = {s}.{c}").format(c=sql.Identifier(c), s=sql.Identifier(tmp)) for c in cols)))
    return cur.rowcount


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
            self.items.append(("copy", db, table, list(df.columns), frame_to_copy_text(df).encode("utf-8"), None, None))
        return len(df)

    def replace(self, db: str, table: str, key: str, df: pd.DataFrame) -> int:
        """Delete rows whose ``key`` is in df, then COPY df (idempotent re-writes)."""
        if not df.empty:
            keys = frame_to_copy_text(pd.DataFrame({"k": df[key].astype(str).unique()})).encode("utf-8")
            self.items.append(("copy", db, table, list(df.columns), frame_to_copy_text(df).encode("utf-8"), key, keys))
        return len(df)

    def update(self, db: str, table: str, key: str, df: pd.DataFrame, types: dict[str, str]) -> int:
        if not df.empty:
            cols = [c for c in df.columns if c != key]
            self.items.append(("update", db, table, key, cols, types,
                               frame_to_copy_text(df[[key, *cols]]).encode("utf-8")))
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
    stmt = sql.SQL("copy {} ({}) from stdin").format(sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, cols)))
    with conn.cursor() as cur, cur.copy(stmt) as cp:
        for i in range(0, len(data), 8 << 20):
            cp.write(data[i:i + (8 << 20)])
