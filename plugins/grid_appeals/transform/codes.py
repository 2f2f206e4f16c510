"""Source code sets, read from the dbt seed ``code_values.csv`` so Python and SQL share one list."""

from __future__ import annotations

import csv
from functools import cache

from grid_appeals.config import PROJECT_ROOT

CODE_VALUES = PROJECT_ROOT / "dbt_project" / "seeds" / "code_values.csv"


@cache
def code_map(code_type: str) -> dict[str, str]:
    """``{code: name}`` for one code set, e.g. ``code_map("BUSI_TYPE_CODE")["004"] == "投诉"``."""
    with CODE_VALUES.open(encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["code_type"] == code_type]
    if not rows:
        raise KeyError(f"no code set {code_type!r} in {CODE_VALUES}")
    return {r["code"]: r["name"] for r in rows}
