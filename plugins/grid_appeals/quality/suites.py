"""GX expectation suites generated from contracts and checked in as JSON under ``expectations/``.

Why generated *and* checked in: the contract is the single source of truth, but reviewers should
see what a contract change does to the rules as a diff of plain GX JSON, and a test fails when the
two drift apart (``grid-appeals`` / ``python -m grid_appeals.quality.suites --write`` regenerates).

Each expectation's ``meta`` says how the engine uses it:
``level`` — ``batch`` (failure fails the task) or ``row`` (failing rows go to quarantine);
``view`` — ``text`` (the values as the source sent them) or ``typed`` (cast to the contract type);
``stage`` — ``received`` (the batch as extracted) or ``loaded`` (after quarantine and dedup);
``check: type`` marks the type-conformance regex, whose rows also fail if the cast fails
(e.g. 2024-02-30 matches the date pattern but is no date).
Interval bounds are GX suite parameters (``{"$PARAMETER": "interval_start"}``) filled per run;
entities with ``lookback_days`` bound their event time from ``lookback_start`` instead.
Contract ``checks`` (cross-column rules) become ``expect_column_values_to_be_between`` on a derived
``_chk_<name>`` column (``view: derived``; the definition is kept in ``meta.derived``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from grid_appeals.config import PROJECT_ROOT
from grid_appeals.sources.contracts import ColumnSpec, EntityContract, load_contracts

EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"

# Regexes for type conformance of text values before they are cast (in Postgres) to the raw type.
TYPE_PATTERNS: dict[str, str] = {
    "integer": r"^[+-]?\d{1,10}$",
    "bigint": r"^[+-]?\d{1,19}$",
    "numeric": r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$",
    "date": r"^\d{4}-\d{2}-\d{2}$",
    "timestamp": r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?$",
    "boolean": r"^(?i:t|f|true|false|y|n|yes|no|0|1)$",
}
INTERVAL_START = "interval_start"
INTERVAL_END = "interval_end"
LOOKBACK_START = "lookback_start"


def _exp(type_: str, meta: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    return {"type": type_, "kwargs": kwargs, "meta": meta}


def _row(view: str = "text", **extra: Any) -> dict[str, Any]:
    return {"level": "row", "view": view, "stage": "received", **extra}


def _column_expectations(col: ColumnSpec, lookback: bool = False) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if col.required:
        out.append(_exp("expect_column_values_to_not_be_null", _row(), column=col.name))
    if col.type in TYPE_PATTERNS:
        out.append(
            _exp(
                "expect_column_values_to_match_regex",
                _row(check="type", type=col.type),
                column=col.name,
                regex=TYPE_PATTERNS[col.type],
            )
        )
    if col.codes is not None:
        out.append(
            _exp("expect_column_values_to_be_in_set", _row(), column=col.name, value_set=list(col.codes))
        )
    if col.regex:
        out.append(
            _exp(
                "expect_column_values_to_match_regex", _row(check="format"), column=col.name, regex=col.regex
            )
        )
    if col.min is not None or col.max is not None:
        out.append(
            _exp(
                "expect_column_values_to_be_between",
                _row("typed", check="plausible"),
                column=col.name,
                min_value=col.min,
                max_value=col.max,
            )
        )
    if col.in_interval:
        out.append(
            _exp(
                "expect_column_values_to_be_between",
                _row("typed", check="in_interval"),
                column=col.name,
                min_value={"$PARAMETER": LOOKBACK_START if lookback else INTERVAL_START},
                max_value={"$PARAMETER": INTERVAL_END},
                strict_max=True,
            )
        )
    elif col.not_future:
        out.append(
            _exp(
                "expect_column_values_to_be_between",
                _row("typed", check="not_future"),
                column=col.name,
                max_value={"$PARAMETER": INTERVAL_END},
            )
        )
    return out


def suite_for(contract: EntityContract) -> dict[str, Any]:
    """The GX 1.x suite (as a JSON-able dict) that the contract implies."""
    batch_received = {"level": "batch", "view": "text", "stage": "received"}
    batch_loaded = {"level": "batch", "view": "text", "stage": "loaded"}
    expectations = [
        _exp(
            "expect_table_columns_to_match_set",
            batch_received,
            column_set=contract.column_names,
            exact_match=True,
        ),
        _exp(
            "expect_table_row_count_to_be_between",
            batch_received,
            min_value=contract.row_count_min,
            max_value=contract.row_count_max,
        ),
    ]
    for col in contract.columns:
        expectations += _column_expectations(col, lookback=contract.lookback_days > 0)
    for chk in contract.checks:
        derived = {
            "a": chk.a,
            "b": list(chk.b),
            "unit": chk.unit,
            "a_day": chk.a_day,
            "b_date_prefix": chk.b_date_prefix,
            "description": chk.description,
        }
        expectations.append(
            _exp(
                "expect_column_values_to_be_between",
                _row("derived", check="derived", derived=derived),
                column=chk.column,
                min_value=chk.min,
                max_value=chk.max,
            )
        )
    if len(contract.primary_key) == 1:
        expectations.append(
            _exp("expect_column_values_to_be_unique", batch_loaded, column=contract.primary_key[0])
        )
    else:
        expectations.append(
            _exp("expect_compound_columns_to_be_unique", batch_loaded, column_list=list(contract.primary_key))
        )
    return {
        "name": contract.suite_name,
        "expectations": expectations,
        "meta": {
            "generated_from": f"sources/contracts/{contract.source}.yml#{contract.name}",
            "primary_key": list(contract.primary_key),
            "bad_row_threshold": contract.bad_row_threshold,
            "note": "generated by grid_appeals.quality.suites; edit the contract, not this file",
        },
    }


def suite_path(contract: EntityContract, directory: Path | None = None) -> Path:
    return (directory or EXPECTATIONS_DIR) / f"{contract.suite_name}.json"


def render(suite: dict[str, Any]) -> str:
    return json.dumps(suite, ensure_ascii=False, indent=2) + "\n"


def load_suite(contract: EntityContract, directory: Path | None = None) -> dict[str, Any]:
    """The checked-in suite if present (what reviewers approved), else the generated one."""
    path = suite_path(contract, directory)
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    return suite_for(contract)


def write_suites(contracts: list[EntityContract], directory: Path | None = None) -> list[Path]:
    written = []
    for contract in contracts:
        path = suite_path(contract, directory)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = render(suite_for(contract))
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


def stale_suites(contracts: list[EntityContract], directory: Path | None = None) -> list[str]:
    """Suites whose checked-in JSON differs from what their contract generates (or is missing)."""
    stale = []
    for contract in contracts:
        path = suite_path(contract, directory)
        if not path.exists() or path.read_text(encoding="utf-8") != render(suite_for(contract)):
            stale.append(str(path))
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="generate GX suites in expectations/ from contracts")
    parser.add_argument("--check", action="store_true", help="exit 1 if a suite is stale")
    parser.add_argument("--source", default=None)
    args = parser.parse_args(argv)
    contracts = load_contracts(args.source)
    if args.check:
        stale = stale_suites(contracts)
        print("\n".join(stale) or "all suites up to date")
        return 1 if stale else 0
    for path in write_suites(contracts):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
