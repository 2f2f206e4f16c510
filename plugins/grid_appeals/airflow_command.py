"""``grid-appeals airflow ...``: run the Airflow CLI with this deployment's environment."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from grid_appeals.airflow_env import airflow_environment


def airflow_executable() -> str:
    return str(Path(sys.executable).parent / "airflow")


def _run(args: argparse.Namespace) -> int:
    env = airflow_environment()
    argv = [airflow_executable(), *args.airflow_args]
    os.execve(argv[0], argv, env)
    return 0  # pragma: no cover


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("airflow", help="run the airflow CLI with the deployment's environment")
    p.add_argument("airflow_args", nargs=argparse.REMAINDER)
    p.set_defaults(func=_run)
    from grid_appeals.orchestration.stack_command import register as register_stack

    register_stack(sub)  # `grid-appeals stack start|stop|status`: scheduler + api-server + dag-processor
