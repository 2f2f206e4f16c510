"""Cross-column contract checks (``_chk_*`` derived columns) give the same per-row verdicts in every engine.

Regression: with ``GRID_GX_MAX_ROWS=0`` (row-level expectations by the vectorised twin) the twin
looked the derived ``_chk_*`` column up in the text view, where it does not exist, and the whole
batch crashed with a KeyError. Each case below runs the real contract's suite through GX, through
GX for batch-level + the twin for row-level (``GRID_GX_MAX_ROWS=0``), and through the twin alone,
and asserts identical per-row masks for every row-level expectation and the expected check verdicts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest

from grid_appeals.quality.gx_engine import GxSession
from grid_appeals.quality.suites import load_suite
from grid_appeals.quality.validate import ValidationReport, validate_batch
from grid_appeals.sources.contracts import EntityContract, get_contract

START, END = datetime(2024, 7, 15), datetime(2024, 7, 16)


def _frame(
    contract: EntityContract, base: dict[str, str], variants: list[dict[str, str | None]]
) -> pd.DataFrame:
    """One row per variant: the base row (other columns null) with the variant's values applied."""
    rows = [{c: None for c in contract.column_names} | base | v for v in variants]
    raw = pd.DataFrame(rows, columns=contract.column_names)
    frame = raw.astype("str").where(raw.notna())
    return frame.assign(_source_file="case.csv", _source_row=np.arange(1, len(rows) + 1, dtype=np.int64))


READINGS_BASE = {
    "mp_no": "3300000000001",
    "data_date": "2024-07-15",
    "col_time": "2024-07-15 01:00:00",
    "pap_r": "100",
    "pap_r1": "10",
    "pap_r2": "20",
    "pap_r3": "30",
    "pap_r4": "40",
}
READINGS = [
    {},  # registers add up
    {"mp_no": "3300000000002", "pap_r": "100.5"},  # within the 1 kWh tolerance
    {"mp_no": "3300000000003", "pap_r": "100000"},  # corrupted total (x1000)
    {"mp_no": "3300000000004", "pap_r2": None},  # a register missing: check not applicable
    {"mp_no": "3300000000005", "pap_r": "x"},  # type failure; check not applicable
    {"mp_no": "3300000000006", "pap_r": "98"},  # total 2 kWh below the sum
]
CALLS_BASE = {
    "comm_id": "C2024071500000001",
    "app_no": "2024071500000001",
    "call_start_time": "2024-07-15 10:00:00",
    "call_end_time": "2024-07-15 10:05:00",
}
CALLS = [
    {},
    {"comm_id": "C2024071500000002", "call_end_time": "2024-07-15 09:59:59"},  # ends before it starts
    {"comm_id": "C2024071500000003", "call_start_time": "2024-07-13 09:00:00"},  # lasts two days
    {"comm_id": "C2024071500000004", "call_end_time": None},  # required end missing
    {"comm_id": "C2024071500000005", "call_start_time": "2024-02-30 10:00:00"},  # no such date
    {"comm_id": "C2024071500000006", "call_start_time": "2024-07-14 10:05:00"},  # exactly one day: ok
]
ORDERS_BASE = {
    "app_no": "2024071500000001",
    "busi_type_code": "001",
    "source_code": "01",
    "org_no": "33401",
    "handle_time": "2024-07-15 10:00:00",
    "accept_content": "停电",
    "cust_no": "3300000001",
    "wkst_status_code": "01",
    "upd_time": "2024-07-15 12:00:00",
}
ORDERS = [
    {},
    {"app_no": "2024071500000002", "handle_time": "2024-07-14 23:59:59"},  # handled the day before
    {"app_no": "2024071500000003", "handle_time": "2024-07-15 23:59:59"},  # same day, late: ok
    {"app_no": "2024139900000004"},  # no date in the number: check not applicable
    {"app_no": "2024071500000005", "handle_time": None},  # required missing
]

# (contract, base row, variants, source rows the cross-column check must flag)
CASES = [
    ("metering.e_mp_day_read", READINGS_BASE, READINGS, {3, 6}),
    ("95598.s_comm_rec", CALLS_BASE, CALLS, {2, 3}),
    ("95598.arc_s_95598_wkst", ORDERS_BASE, ORDERS, {2}),
]


def _row_masks(report: ValidationReport) -> dict[tuple[str, str, str], list[bool] | None]:
    return {
        (o.expectation_type, o.column or "", o.meta.get("check") or ""): (
            None if o.failed is None else o.failed.tolist()
        )
        for o in report.outcomes
        if o.level == "row"
    }


def _failures(report: ValidationReport) -> dict[int, list[str]]:
    q = report.quarantined
    return {int(r): sorted(f) for r, f in zip(q["_source_row"], q["_failures"], strict=True)}


@pytest.mark.parametrize(("key", "base", "variants", "flagged"), CASES, ids=[c[0] for c in CASES])
def test_cross_column_checks_agree_across_engines(
    key: str,
    base: dict[str, Any],
    variants: list[dict[str, Any]],
    flagged: set[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    contract = get_contract(key)
    assert contract.checks, f"{key} should declare a cross-column check"
    suite = load_suite(contract)
    frame = _frame(contract, base, variants)
    gx = GxSession()

    by_gx = validate_batch(frame, contract, suite, START, END, gx=gx)
    monkeypatch.setenv("GRID_GX_MAX_ROWS", "0")
    mixed = validate_batch(frame, contract, suite, START, END, gx=gx)
    by_vec = validate_batch(frame, contract, suite, START, END, gx=None)
    assert (by_gx.engine, mixed.engine, by_vec.engine) == ("gx", "gx(batch)+vectorised(rows)", "vectorised")

    reference = _row_masks(by_gx)
    assert all(mask is not None for mask in reference.values())
    assert _row_masks(mixed) == reference
    assert _row_masks(by_vec) == reference
    assert _failures(mixed) == _failures(by_gx) == _failures(by_vec)

    for chk in contract.checks:
        mask = reference[("expect_column_values_to_be_between", chk.column, "derived")]
        assert {i + 1 for i, bad in enumerate(mask) if bad} == flagged


def test_yaml_exponent_bounds_are_numbers() -> None:
    """``max: 1.0e9`` is a string to YAML 1.1; the contract loader must hand the engines a number."""
    pap_r = next(c for c in get_contract("metering.e_mp_day_read").columns if c.name == "pap_r")
    assert isinstance(pap_r.max, float) and pap_r.max == 1e9
    suite = load_suite(get_contract("metering.e_mp_day_read"))
    bounds = [
        e["kwargs"].get("max_value") for e in suite["expectations"] if e["kwargs"].get("column") == "pap_r"
    ]
    assert 1e9 in bounds and not any(isinstance(b, str) for b in bounds)
