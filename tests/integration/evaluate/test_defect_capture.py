"""Defect capture ≥ 99 % per injected kind on the simulated window of tests/integration/load.

The window is the one of tests/integration/load/test_sources_window.py (same prefix, seed, rates):
``build_window`` caches it per process, so whichever module runs first builds it once.
"""

from __future__ import annotations

import dataclasses
import os
from datetime import date

import pytest

from grid_appeals.cli import main
from grid_appeals.config import Settings
from grid_appeals.evaluate.defects import defect_capture
from grid_appeals.evaluate.window import build_window
from grid_appeals.simulate.defects import DefectRates

FIRST, LAST = date(2024, 7, 15), date(2024, 7, 20)
RATES = DefectRates(
    duplicate=0.02,
    missing_required=0.02,
    invalid_code=0.01,
    malformed_phone=0.03,
    bad_timestamp=0.01,
    bad_reading=0.005,
    late_row=0.02,
    broken_encoding_day=0.25,
    truncated_gzip_day=0.25,
    schema_drift_day=0.25,
)
KINDS = {
    "duplicate",
    "missing_required",
    "invalid_code",
    "malformed_phone",
    "bad_timestamp",
    "bad_reading",
    "late_row",
    "schema_drift",
    "truncated_gzip",
    "broken_encoding",
}
PREFIX = os.environ["GRID_DB_PREFIX"] + "_window"  # follows GRID_TEST_DB_PREFIX
# shares the window build (one process) with the other gridtest_window module
pytestmark = pytest.mark.xdist_group("gridtest_window")


@pytest.fixture(scope="module")
def loaded(warehouse: Settings) -> Settings:
    mp = pytest.MonkeyPatch()
    mp.setenv("GRID_GX_DATA_DOCS", "none")
    try:
        return build_window(
            dataclasses.replace(warehouse, db_prefix=PREFIX), FIRST, LAST, seed=7, rates=RATES
        ).cfg
    finally:
        mp.undo()


def test_capture_at_least_99_percent_per_kind(loaded: Settings) -> None:
    report = defect_capture(FIRST, LAST, cfg=loaded)
    table = report.table.set_index("kind")
    assert set(table.index) == KINDS
    assert table["defects"].sum() > 1000
    assert (table["capture_pct"] >= 99.0).all(), report.render()
    # every row kind was captured by the loader itself, not only because a whole batch failed
    for kind in ("missing_required", "invalid_code", "malformed_phone", "bad_timestamp", "bad_reading"):
        assert "quarantined" in table.at[kind, "how"]


def test_nothing_valid_is_quarantined(loaded: Settings) -> None:
    """The other direction: every quarantined row carries a defect the simulator injected. A valid
    row rejected by a contract (or an invalid one the simulator made without recording it) would
    be lost data that no capture rate shows — e.g. negative 修复时长 of crews arriving after a remote
    restore, or hall tickets called after midnight, both found this way."""
    report = defect_capture(FIRST, LAST, cfg=loaded)
    assert report.unexplained.empty, report.render()


def test_report_cli_prints_the_table(loaded: Settings, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("GRID_DB_PREFIX", PREFIX)
    assert main(["report", "defects", "--from", str(FIRST), "--to", str(LAST)]) == 0
    out = capsys.readouterr().out
    assert "truncated_gzip" in out and "100.0%" in out
    assert "quarantined without an injected defect: 0 rows" in out
