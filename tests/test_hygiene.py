"""Repository hygiene: ruff-clean, no secrets-looking literals, ignored runtime folders."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_clean() -> None:
    ruff = Path(sys.executable).parent / "ruff"
    proc = subprocess.run(
        [str(ruff), "check", "plugins", "dags", "tests", "bench"], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout[-4000:]


def test_runtime_state_is_gitignored() -> None:
    ignored = (ROOT / ".gitignore").read_text().split()
    for entry in (".venv/", "var/", "dbt_project/target/", "dbt_project/logs/"):
        assert entry in ignored
