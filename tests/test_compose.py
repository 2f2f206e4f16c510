"""docker-compose.yml is valid and production-shaped (validated offline by the Docker client)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SECRETS = {
    "WAREHOUSE_PASSWORD": "x",
    "AIRFLOW_DB_PASSWORD": "y",
    "AIRFLOW_JWT_SECRET": "z",
    "AIRFLOW_FERNET_KEY": "k",
}


def _compose_cmd() -> list[str] | None:
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def test_compose_config_is_valid() -> None:
    cmd = _compose_cmd()
    if cmd is None:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed on this machine")
    env = {**os.environ, **SECRETS}
    subprocess.run([*cmd, "config", "-q"], cwd=ROOT, env=env, check=True)
    # secrets are required from the environment, not defaulted in the file
    missing = subprocess.run(
        [*cmd, "config", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k not in SECRETS},
    )
    assert missing.returncode != 0


def test_compose_services_shape() -> None:
    doc = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = doc["services"]
    for name in (
        "warehouse-db",
        "airflow-db",
        "redis",
        "airflow-init",
        "airflow-apiserver",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
        "airflow-worker",
    ):
        assert name in services, name
    for name, svc in services.items():
        if name != "airflow-init":
            assert "healthcheck" in svc, f"{name} has no healthcheck"
    common = doc["x-airflow-common"]
    assert common["environment"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    mounts = " ".join(common["volumes"])
    for folder in ("dags", "plugins", "dbt_project", "expectations"):
        assert f"./{folder}:" in mounts
