"""Runtime configuration, read from the environment only (no secrets in the repo).

Every process of the platform (CLI, Airflow tasks, dbt, tests) derives its paths and database
locations from here, so that one env var switches the whole stack from the embedded default to an
external Postgres server.

Environment variables
---------------------
GRID_WAREHOUSE_URL   libpq URL of an external server, e.g. ``postgresql://user:pw@host:5432/postgres``.
                     Unset: the embedded server under ``var/pg`` is used. The URL names the server
                     and credentials; the deployment's databases on it are ``<prefix>_warehouse``,
                     ``<prefix>_src_95598``, ``<prefix>_src_marketing`` and ``<prefix>_sim_truth``.
GRID_DB_PREFIX       prefix of every database this deployment owns (default ``grid``), so tests
                     (``gridtest``) never touch the demo's data on the same server.
GRID_VAR_DIR         where runtime state lives (default ``<project>/var``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    """Resolved settings for one deployment (a DB prefix on one server)."""

    warehouse_url: str | None
    db_prefix: str
    var_dir: Path

    @classmethod
    def from_env(cls) -> Settings:
        var_dir = Path(_env("GRID_VAR_DIR", str(PROJECT_ROOT / "var")))  # type: ignore[arg-type]
        return cls(
            warehouse_url=_env("GRID_WAREHOUSE_URL"),
            db_prefix=_env("GRID_DB_PREFIX", "grid"),  # type: ignore[arg-type]
            var_dir=var_dir.resolve(),
        )

    # ---- where things live -------------------------------------------------------------
    @property
    def embedded(self) -> bool:
        return self.warehouse_url is None

    @property
    def pgdata(self) -> Path:
        return self.var_dir / "pg"

    @property
    def deploy_dir(self) -> Path:
        """Per-prefix folder: landing zone of file sources, ground truth, GX docs, models."""
        return self.var_dir / self.db_prefix

    @property
    def landing_dir(self) -> Path:
        return self.deploy_dir / "landing"

    @property
    def airflow_home(self) -> Path:
        return Path(_env("AIRFLOW_HOME", str(self.var_dir / "airflow")))  # type: ignore[arg-type]

    # ---- database names ----------------------------------------------------------------
    @cached_property
    def warehouse_db(self) -> str:
        return f"{self.db_prefix}_warehouse"

    def db_name(self, role: str) -> str:
        """Name of one of the deployment's databases: warehouse, src_95598, src_marketing, sim_truth."""
        if role == "warehouse":
            return self.warehouse_db
        return f"{self.db_prefix}_{role}"

    # ---- URLs --------------------------------------------------------------------------
    def server_url(self, database: str = "postgres") -> str:
        """libpq URL for ``database`` on the deployment's server."""
        if self.warehouse_url:
            parts = urlsplit(self.warehouse_url)
            return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, ""))
        from grid_appeals.warehouse.embedded import embedded_socket_dir

        return f"postgresql://postgres@/{database}?host={embedded_socket_dir(self.pgdata)}"

    def url(self, role: str = "warehouse") -> str:
        return self.server_url(self.db_name(role))


def settings() -> Settings:
    return Settings.from_env()
