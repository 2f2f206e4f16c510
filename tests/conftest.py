"""Test harness: every test runs against a real Postgres (embedded by default, or the server in
GRID_WAREHOUSE_URL) in databases prefixed ``gridtest`` so the demo's data is never touched."""

from __future__ import annotations

import os

# under pytest-xdist each worker gets its own databases and Airflow home (gw0 keeps "gridtest")
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
_BASE = os.environ.get("GRID_TEST_DB_PREFIX", "gridtest")
os.environ["GRID_DB_PREFIX"] = _BASE if _WORKER == "gw0" else f"{_BASE}_{_WORKER}"
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
_VAR = os.environ.get("GRID_VAR_DIR") or os.path.join(os.path.dirname(os.path.dirname(__file__)), "var")
# a private Airflow home for tests: its own SQLite metadata, never the demo's
os.environ["AIRFLOW_HOME"] = os.path.join(_VAR, os.environ["GRID_DB_PREFIX"], "airflow")

import pytest  # noqa: E402

from grid_appeals.config import Settings, settings  # noqa: E402


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which turns the marks into groups
def pytest_collection_modifyitems(config, items) -> None:
    """Keep each test module on one xdist worker (module fixtures build whole simulated windows);
    modules that share a window declare a common ``xdist_group`` themselves."""
    for item in items:
        if not any(m.name == "xdist_group" for m in item.iter_markers()):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))


@pytest.fixture(scope="session")
def cfg() -> Settings:
    return settings()


@pytest.fixture(scope="session")
def warehouse(cfg: Settings) -> Settings:
    """A bootstrapped warehouse (databases, schemas, roles) for the test prefix."""
    from grid_appeals.warehouse.bootstrap import bootstrap

    bootstrap(cfg)
    return cfg
