"""Run dbt against the deployment's warehouse.

dbt gets its connection only through environment variables (``DBT_PG_*``) that we derive from the
Airflow connection ``warehouse`` (or the platform config outside Airflow), so profiles.yml holds no
secrets and one setting switches every tool to another server.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from grid_appeals.config import PROJECT_ROOT, Settings, settings
from grid_appeals.orchestration.connections import libpq_params

log = logging.getLogger(__name__)

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"


class DbtError(RuntimeError):
    """dbt exited non-zero; the message carries the failing nodes from run_results.json."""


def dbt_environment(cfg: Settings | None = None, conn_id: str = "warehouse") -> dict[str, str]:
    cfg = cfg or settings()
    params = libpq_params(conn_id, cfg=cfg)
    env = dict(os.environ)
    env.update({
        "DBT_PG_HOST": str(params["host"]),
        "DBT_PG_PORT": str(params.get("port") or 5432),
        "DBT_PG_USER": str(params.get("user") or "postgres"),
        "DBT_PG_PASSWORD": str(params.get("password") or ""),
        "DBT_PG_DBNAME": str(params["dbname"]),
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DBT_LOG_PATH": str(cfg.deploy_dir / "dbt_logs"),
    })
    return env


def _failures(target: Path) -> str:
    path = target / "run_results.json"
    if not path.exists():
        return ""
    results = json.loads(path.read_text())["results"]
    bad = [f"{r['unique_id']}: {r['status']} {r.get('message') or ''}".strip()
           for r in results if r["status"] in ("error", "fail", "runtime error")]
    return "; ".join(bad[:20])


def run_dbt(args: Sequence[str], *, cfg: Settings | None = None, variables: dict | None = None,
            conn_id: str = "warehouse") -> subprocess.CompletedProcess:
    """Run ``dbt <args>`` in the project; raise DbtError naming the failed nodes."""
    cfg = cfg or settings()
    target = cfg.deploy_dir / "dbt_target"
    cmd = [str(Path(sys.executable).parent / "dbt"), *args, "--project-dir", str(DBT_PROJECT_DIR),
           "--target-path", str(target)]
    if variables:
        cmd += ["--vars", json.dumps(variables)]
    log.info("running %s", " ".join(cmd))
    proc = subprocess.run(cmd, env=dbt_environment(cfg, conn_id), cwd=DBT_PROJECT_DIR,
                          capture_output=True, text=True)
    sys.stdout.write(proc.stdout[-20000:])
    if proc.returncode != 0:
        detail = _failures(target) or proc.stdout[-3000:] + proc.stderr[-2000:]
        raise DbtError(f"dbt {' '.join(args)} failed (exit {proc.returncode}): {detail}")
    return proc
