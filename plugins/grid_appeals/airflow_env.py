"""The environment every Airflow process of this deployment runs with.

Airflow is configured entirely through ``AIRFLOW__*`` variables and connections through
``AIRFLOW_CONN_*`` (never an airflow.cfg in the repo), so the CLI, ``make airflow``, tests and
docker-compose all describe the same deployment. Values already set in the environment win, so an
operator can point a connection at a real 95598 database without touching code.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from grid_appeals.config import PROJECT_ROOT, Settings, settings
from grid_appeals.orchestration import sqlite_metadata
from grid_appeals.orchestration.connections import DEFAULT_ROLES as CONNECTIONS
from grid_appeals.orchestration.connections import params_from_url


def connection_json(url: str) -> str:
    """Airflow JSON connection for a libpq URL (socket directories become the host)."""
    p = params_from_url(url)
    return json.dumps(
        {
            "conn_type": "postgres",
            "host": p["host"],
            "port": p["port"],
            "login": p["user"],
            "password": p["password"],
            "schema": p["dbname"],
        }
    )


def _local_secret(path: Path) -> str:
    """A per-installation random secret kept in AIRFLOW_HOME (gitignored), never in the repo."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


def airflow_environment(cfg: Settings | None = None, *, base: dict[str, str] | None = None) -> dict[str, str]:
    """Full environment for an Airflow process of this deployment."""
    cfg = cfg or settings()
    env = dict(os.environ if base is None else base)
    home = cfg.airflow_home
    defaults = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": "Asia/Shanghai",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        # 2 cores: a handful of concurrent tasks is the useful maximum
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "4",
        "AIRFLOW__CORE__MAX_ACTIVE_RUNS_PER_DAG": "1",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": "8080",
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__SCHEDULER__DAG_DIR_LIST_INTERVAL": "30",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "60",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "AIRFLOW__API_AUTH__JWT_SECRET": _local_secret(home / ".jwt_secret"),
        "GRID_DB_PREFIX": cfg.db_prefix,
        "GRID_VAR_DIR": str(cfg.var_dir),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT / "plugins"), env.get("PYTHONPATH")])),
    }
    if cfg.warehouse_url:
        defaults["GRID_WAREHOUSE_URL"] = cfg.warehouse_url
    for key, value in defaults.items():
        env.setdefault(key, value)
    if env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("sqlite"):
        # several Airflow processes write one SQLite file: wait for locks instead of failing
        env.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS", sqlite_metadata.CONNECT_ARGS_PATH)
        env.setdefault(
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS_ASYNC", sqlite_metadata.CONNECT_ARGS_ASYNC_PATH
        )
    # Airflow 3 task processes report to the Execution API of the api-server; its built-in default
    # is http://localhost:8080, which misses an api-server on another port (and "localhost" may
    # resolve to ::1 while the server is bound to 127.0.0.1 only), so derive it from host/port.
    host = env["AIRFLOW__API__HOST"]
    host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    env.setdefault(
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL", f"http://{host}:{env['AIRFLOW__API__PORT']}/execution/"
    )
    for conn_id, role in CONNECTIONS.items():
        env.setdefault(f"AIRFLOW_CONN_{conn_id.upper()}", connection_json(cfg.url(role)))
    home.mkdir(parents=True, exist_ok=True)
    return env
