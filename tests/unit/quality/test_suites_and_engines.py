"""Suites are generated from contracts and checked in; GX and the vectorised twin agree row by row."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from grid_appeals.quality.gx_engine import GxSession
from grid_appeals.quality.suites import EXPECTATIONS_DIR, stale_suites, suite_for, write_suites
from grid_appeals.quality.validate import stream_chunks, validate_batch
from grid_appeals.sources.contracts import load_contracts

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
START, END = datetime(2024, 7, 15), datetime(2024, 7, 16)


def test_checked_in_suites_equal_what_contracts_generate():
    assert stale_suites(load_contracts(), EXPECTATIONS_DIR) == []
    assert stale_suites(load_contracts(directory=FIXTURES / "contracts"), FIXTURES / "expectations") == []


def test_suite_is_valid_gx_json(tmp_path):
    from great_expectations.core.expectation_suite import ExpectationSuite

    contract = load_contracts(directory=FIXTURES / "contracts")[0]
    write_suites([contract], tmp_path)
    doc = json.loads(next(tmp_path.glob("*.json")).read_text())
    suite = ExpectationSuite(name=doc["name"], expectations=doc["expectations"], meta=doc["meta"])
    assert len(suite.expectations) == len(suite_for(contract)["expectations"])


def _readings() -> pd.DataFrame:
    rows = [
        ("3300000001", "2024-07-15", "2024-07-15 01:00:00", "10.5", "1", "33401"),
        ("3300000002", "2024-07-15", "2024-07-15 01:00:00", "", "1", "33401"),  # missing
        ("33000X0003", "2024-07-15", "2024-07-15 01:00:00", "1", "1", "33401"),  # format
        ("3300000004", "2024-07-12", "2024-07-12 01:00:00", "1", "1", "33401"),  # late row
        ("3300000005", "2024-07-15", "2024-07-17 01:00:00", "1", "1", "33401"),  # future
        ("3300000006", "2024-02-30", "2024-07-15 01:00:00", "1", "1", "33401"),  # no such date
        ("3300000007", "2024-07-15", "2024-07-15 01:00:00", "-1", "1", "33401"),  # negative
        ("3300000008", "2024-07-15", "2024-07-15 01:00:00", "2e6", "1", "33401"),  # implausible
        ("3300000009", "2024-07-15", "2024-07-15T01:00", "x", None, "3"),  # type, org format
        ("3300000001", "2024-07-15", "2024-07-15 02:00:00", "11", "1", "33401"),  # key duplicate
        ("3300000010", "2024-07-15", "2024-07-15 02:00:00", "11", "1", "33401"),
        ("3300000010", "2024-07-15", "2024-07-15 02:00:00", "11", "1", "33401"),  # exact duplicate
    ]
    cols = ["mp_id", "data_date", "coll_time", "pap_r", "pap_r1", "org_no"]
    frame = pd.DataFrame(rows, columns=cols).replace("", np.nan).astype("str")
    frame = frame.where(pd.DataFrame(rows, columns=cols).replace("", np.nan).notna())
    return frame.assign(_source_file="f.csv", _source_row=np.arange(1, len(rows) + 1))


@pytest.fixture(scope="module")
def readings_contract():
    return {c.name: c for c in load_contracts(directory=FIXTURES / "contracts")}["day_read"]


def test_gx_and_vectorised_flag_the_same_rows(readings_contract, monkeypatch):
    suite = suite_for(readings_contract)
    by_gx = validate_batch(_readings(), readings_contract, suite, START, END, gx=GxSession())
    by_vec = validate_batch(_readings(), readings_contract, suite, START, END, gx=None)
    assert by_gx.engine == "gx" and by_vec.engine == "vectorised"
    gx_rows = dict(zip(by_gx.quarantined["_source_row"], by_gx.quarantined["_failures"], strict=True))
    vec_rows = dict(zip(by_vec.quarantined["_source_row"], by_vec.quarantined["_failures"], strict=True))
    assert gx_rows == vec_rows
    assert set(vec_rows) == {2, 3, 4, 5, 6, 7, 8, 9}
    assert sorted(vec_rows[9]) == [
        "expect_column_values_to_match_regex(org_no)[format]",
        "expect_column_values_to_match_regex(pap_r)[type]",
    ]

    def summary(outcomes):
        return sorted(
            (o.expectation_type, o.column or "", o.meta.get("check") or "", o.success, o.unexpected_count)
            for o in outcomes
        )

    assert summary(by_gx.outcomes) == summary(by_vec.outcomes)


def test_dedup_counts_and_identity(readings_contract):
    rep = validate_batch(_readings(), readings_contract, suite_for(readings_contract), START, END)
    assert (rep.received, rep.exact_duplicates, rep.key_duplicates) == (12, 1, 1)
    assert rep.received == len(rep.loadable) + len(rep.quarantined) + rep.duplicates
    # the later row of a duplicated key wins
    assert rep.loadable.set_index("mp_id").loc["3300000001", "pap_r"] == "11"
    assert rep.batch_errors and "bad-row share" in rep.batch_errors[0]  # 8 of 11 > 30 %


@pytest.mark.parametrize("rows", [0, 1, 7, 8, 9, 100, 1_000, 100_000])
def test_streamed_chunks_start_small_and_cover_every_row_once(rows, monkeypatch):
    monkeypatch.setenv("GRID_STREAM_CHUNK_ROWS", "64")
    chunks = list(stream_chunks(rows))
    covered = np.concatenate([np.arange(a, min(b, rows)) for a, b in chunks])
    assert covered.tolist() == list(range(rows))
    sizes = [b - a for a, b in chunks]
    assert sizes[0] == 8 and max(sizes) <= 64  # 1/8 of a chunk first, doubling up to a full one
    assert sizes == sorted(sizes)
