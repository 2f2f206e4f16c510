"""With GRID_WAREHOUSE_URL set, everything goes to that server instead of the embedded one.

The suite itself can run against any external server (``GRID_WAREHOUSE_URL=... make test``); this
test additionally proves the URL path on every run, using whichever server the suite has, addressed
through an explicit URL with a different database prefix.
"""

from __future__ import annotations

import psycopg

from grid_appeals.config import Settings
from grid_appeals.warehouse.bootstrap import DATABASES, bootstrap
from grid_appeals.warehouse.connection import drop_database


def test_url_configured_server_is_used(warehouse: Settings, monkeypatch) -> None:
    server = warehouse.server_url("postgres")
    monkeypatch.setenv("GRID_WAREHOUSE_URL", server)
    monkeypatch.setenv("GRID_DB_PREFIX", warehouse.db_prefix + "_ext")
    cfg = Settings.from_env()
    assert not cfg.embedded and cfg.url() != warehouse.url()
    try:
        assert bootstrap(cfg)["databases_created"] == len(DATABASES)
        with psycopg.connect(cfg.url()) as conn:
            assert (
                conn.execute("select current_database()").fetchone()[0]
                == warehouse.db_prefix + "_ext_warehouse"
            )
            schemas = {r[0] for r in conn.execute("select nspname from pg_namespace")}
            assert {"raw_95598", "marts", "quarantine", "nlp"} <= schemas
    finally:
        for db in DATABASES:
            drop_database(cfg.db_name(db), cfg=cfg)
