"""Resolve a database connection by Airflow connection id.

Inside Airflow (and anywhere ``AIRFLOW_CONN_<ID>`` is set) the Airflow connection wins, so a real
source system is configuration only; outside Airflow we fall back to the platform config.
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from grid_appeals.config import Settings, settings

DEFAULT_ROLES = {"warehouse": "warehouse", "src_95598": "src_95598", "src_marketing": "src_marketing"}


def params_from_url(uri: str) -> dict[str, Any]:
    """libpq keyword parameters of a URL; ``?host=/dir`` (a socket directory) becomes the host."""
    parts = urlsplit(uri)
    query = parse_qs(parts.query)
    return {
        "host": query.get("host", [parts.hostname or "localhost"])[0],
        "port": parts.port or 5432,
        "user": unquote(parts.username or "postgres"),
        "password": unquote(parts.password or ""),
        "dbname": parts.path.lstrip("/"),
    }


def libpq_params(conn_id: str, *, cfg: Settings | None = None) -> dict[str, Any]:
    """Keyword arguments for ``psycopg.connect`` for an Airflow connection id."""
    raw = os.environ.get(f"AIRFLOW_CONN_{conn_id.upper()}")
    if raw:
        raw = raw.strip()
        if raw.startswith("{"):
            c = json.loads(raw)
            return {"host": c.get("host") or "localhost", "port": c.get("port") or 5432,
                    "user": c.get("login") or "postgres", "password": c.get("password") or "",
                    "dbname": c.get("schema") or ""}
        return params_from_url(raw)
    cfg = cfg or settings()
    if conn_id not in DEFAULT_ROLES:
        raise KeyError(f"unknown connection id {conn_id!r}: set AIRFLOW_CONN_{conn_id.upper()}")
    return params_from_url(cfg.url(DEFAULT_ROLES[conn_id]))


def conninfo(conn_id: str, *, cfg: Settings | None = None) -> str:
    """libpq conninfo string for ``psycopg.connect``."""
    from psycopg.conninfo import make_conninfo

    return make_conninfo(**{k: v for k, v in libpq_params(conn_id, cfg=cfg).items() if v not in (None, "")})
