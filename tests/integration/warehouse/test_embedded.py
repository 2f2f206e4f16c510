"""The embedded server: starts from nothing, is reused, stops, and restarts with its data."""

from pathlib import Path

import psycopg

from grid_appeals.config import Settings
from grid_appeals.warehouse import embedded


def test_embedded_server_lifecycle(tmp_path: Path) -> None:
    pgdata = tmp_path / "pg"
    socket_dir = embedded.start(pgdata)
    try:
        assert embedded.is_running(pgdata)
        cfg = Settings(warehouse_url=None, db_prefix="lifecycle", var_dir=tmp_path)
        url = cfg.server_url("postgres")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("create table keep_me (x int)")
            conn.execute("insert into keep_me values (42)")
            pid = conn.execute("select pg_backend_pid()").fetchone()[0]
            assert pid > 0
        # a second start reuses the running server (same postmaster, same socket)
        postmaster_pid = (pgdata / "postmaster.pid").read_text().splitlines()[0]
        assert embedded.start(pgdata) == socket_dir
        assert (pgdata / "postmaster.pid").read_text().splitlines()[0] == postmaster_pid
        # tuned for analytics and pinned to local time
        with psycopg.connect(url) as conn:
            assert conn.execute("show timezone").fetchone()[0] == "Asia/Shanghai"
            assert conn.execute("show synchronous_commit").fetchone()[0] == "off"
    finally:
        assert embedded.stop(pgdata) is True
    assert not embedded.is_running(pgdata)
    assert embedded.stop(pgdata) is False
    # restart keeps the data
    embedded.start(pgdata)
    try:
        with psycopg.connect(Settings(None, "lifecycle", tmp_path).server_url("postgres")) as conn:
            assert conn.execute("select x from keep_me").fetchone()[0] == 42
    finally:
        embedded.stop(pgdata)
