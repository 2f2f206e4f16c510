"""File-source ingestion against the real warehouse: defects, idempotency, crash safety, failures."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from grid_appeals.load.ingest import BatchFailed, ingest_entity


def _q(cfg, query, *params):
    with psycopg.connect(cfg.url("warehouse")) as conn:
        return conn.execute(query, params).fetchall()


def _quarantine_reasons(cfg, contract, day) -> dict[int, list[str]]:
    rows = _q(
        cfg,
        f'select _source_row, failures from quarantine."{contract.quarantine_table}" where _data_date = %s',
        day,
    )
    return {r[0]: r[1] for r in rows}


def test_each_reading_defect_is_quarantined_with_its_reason(h, warehouse, contracts, landing, clean_entity):
    c = contracts["day_read"]
    clean_entity(c)
    good = h.reading_rows(h.DAY, 20)
    past = h.DAY - timedelta(days=3)
    defects = [
        good[0],  # 21 exact duplicate of row 1
        f"3300000001,{h.DAY},{h.DAY} 02:00:00,9999.00,1.00,33401",  # 22 duplicate key, later → kept
        f"3300000100,{h.DAY},{h.DAY} 01:00:00,,1.00,33401",  # 23 missing required pap_r
        f"33000X0101,{h.DAY},{h.DAY} 01:00:00,10.00,1.00,33401",  # 24 malformed mp_id
        f"3300000102,{h.DAY},{h.DAY} 01:00:00,-5.00,1.00,33401",  # 25 negative reading
        f"3300000103,{h.DAY},{h.DAY} 01:00:00,5000000.00,1.00,33401",  # 26 implausible reading
        f"3300000104,{past},{past} 01:00:00,10.00,1.00,33401",  # 27 late row for a past day
        f"3300000105,{h.DAY},{h.DAY + timedelta(days=2)} 01:00:00,10.00,1.00,33401",  # 28 in the future
        f"3300000106,2024-02-30,{h.DAY} 01:00:00,10.00,1.00,33401",  # 29 impossible date
        f"3300000107,{h.DAY},{h.DAY} 01:00:00,abc,1.00,33401",  # 30 not a number
    ]
    h.write_readings(landing, h.DAY, good + defects)
    r = ingest_entity(c, *h.interval(), cfg=warehouse)
    assert (r.rows_received, r.rows_loaded, r.rows_quarantined, r.duplicates_dropped) == (30, 20, 8, 2)
    assert r.identity_holds()
    reasons = _quarantine_reasons(warehouse, c, h.DAY)
    expected = {
        23: "expect_column_values_to_not_be_null(pap_r)",
        24: "expect_column_values_to_match_regex(mp_id)[format]",
        25: "expect_column_values_to_be_between(pap_r)[plausible]",
        26: "expect_column_values_to_be_between(pap_r)[plausible]",
        27: "expect_column_values_to_be_between(data_date)[in_interval]",
        28: "expect_column_values_to_be_between(coll_time)[not_future]",
        29: "expect_column_values_to_match_regex(data_date)[type]",
        30: "expect_column_values_to_match_regex(pap_r)[type]",
    }
    assert set(reasons) == set(expected)
    for row, reason in expected.items():
        assert reason in reasons[row], (row, reasons[row])
    # the later duplicate of key 3300000001 won; the original row is kept, not quarantined
    assert _q(warehouse, "select pap_r from raw_fixture.day_read where mp_id = '3300000001'") == [(9999,)]
    # quarantine keeps the original row as sent
    row = _q(warehouse, f'select row from quarantine."{c.quarantine_table}" where _source_row = 24')[0][0]
    assert row["mp_id"] == "33000X0101"
    ledger = _q(
        warehouse,
        "select status, rows_received, rows_loaded, rows_quarantined, duplicates_dropped "
        "from ops.load_log where batch_id = %s",
        r.batch_id,
    )
    assert ledger == [("success", 30, 20, 8, 2)]
    failed_dq = _q(
        warehouse,
        "select expectation_type, column_name, unexpected_count from ops.dq_result "
        "where batch_id = %s and not success order by 1, 2",
        r.batch_id,
    )
    assert ("expect_column_values_to_be_between", "pap_r", 2) in failed_dq


def test_rerun_gives_identical_partition_and_no_double_quarantine(
    h, warehouse, contracts, landing, clean_entity
):
    c = contracts["day_read"]
    clean_entity(c)
    h.write_readings(landing, h.DAY, [*h.reading_rows(h.DAY, 500), "1,2,3,4,5,6"])
    first = ingest_entity(c, *h.interval(), cfg=warehouse)
    second = ingest_entity(c, *h.interval(), cfg=warehouse, use_gx=False)
    assert first.checksum == second.checksum and first.checksum
    assert _q(warehouse, "select count(*) from raw_fixture.day_read where _data_date = %s", h.DAY) == [(500,)]
    assert len(_quarantine_reasons(warehouse, c, h.DAY)) == 1
    attempts = _q(
        warehouse, "select attempt, status from ops.load_log where entity = 'day_read' order by attempt"
    )
    assert attempts == [(1, "success"), (2, "success")]


def test_crash_after_partial_copy_leaves_previous_state_and_rerun_succeeds(
    h, warehouse, contracts, landing, clean_entity, monkeypatch
):
    c = contracts["day_read"]
    clean_entity(c)
    h.write_readings(landing, h.DAY, h.reading_rows(h.DAY, 100))
    before = ingest_entity(c, *h.interval(), cfg=warehouse)
    h.write_readings(landing, h.DAY, h.reading_rows(h.DAY, 30_000, start=1000))
    monkeypatch.setattr("grid_appeals.load.writer.COPY_CHUNK", 64 * 1024)
    crash, sent = h.crash_on_chunk(3, "injected: worker killed mid-COPY")

    with pytest.raises(BatchFailed, match="injected"):
        ingest_entity(c, *h.interval(), cfg=warehouse, after_copy_chunk=crash)
    assert len(sent) == 3  # the COPY was really under way
    # nothing of the new batch is visible; the previous load is intact
    assert _q(warehouse, "select count(*) from raw_fixture.day_read") == [(100,)]
    status = _q(
        warehouse, "select status, error from ops.load_log where entity = 'day_read' order by attempt"
    )
    assert status[0][0] == "success" and status[1][0] == "failed" and "injected" in status[1][1]
    monkeypatch.setattr("grid_appeals.load.writer.COPY_CHUNK", 1 << 20)
    h.write_readings(landing, h.DAY, h.reading_rows(h.DAY, 100))
    again = ingest_entity(c, *h.interval(), cfg=warehouse)
    assert again.checksum == before.checksum


def test_truncated_gzip_fails_the_batch_naming_file_and_position(
    h, warehouse, contracts, landing, clean_entity
):
    c = contracts["day_read"]
    clean_entity(c)
    path = h.write_readings(landing, h.DAY, h.reading_rows(h.DAY, 2000), truncate=True)
    with pytest.raises(BatchFailed) as info:
        ingest_entity(c, *h.interval(), cfg=warehouse)
    msg = str(info.value)
    assert str(path) in msg and "truncated gzip" in msg and "compressed byte" in msg
    assert _q(warehouse, "select count(*) from raw_fixture.day_read") == [(0,)]
    assert _q(warehouse, "select status from ops.load_log where entity = 'day_read'") == [("failed",)]


def test_schema_drift_fails_naming_file_table_and_columns(h, warehouse, contracts, landing, clean_entity):
    c = contracts["day_read"]
    clean_entity(c)
    path = h.write_readings(
        landing,
        h.DAY,
        h.reading_rows(h.DAY, 5),
        header=h.READ_HEADER.replace("pap_r1", "pap_r_1") + ",extra_col",
    )
    with pytest.raises(BatchFailed) as info:
        ingest_entity(c, *h.interval(), cfg=warehouse)
    msg = str(info.value)
    for part in (
        str(path),
        "raw_fixture.day_read",
        "pap_r1 → pap_r_1",
        "missing column(s) ['pap_r1']",
        "'extra_col'",
    ):
        assert part in msg, (part, msg)


def test_empty_file_and_too_many_bad_rows_fail_and_load_nothing(
    h, warehouse, contracts, landing, clean_entity
):
    c = contracts["day_read"]
    clean_entity(c)
    path = landing / f"metering/{h.DAY:%Y-%m-%d}/e_mp_day_read_{h.DAY:%Y%m%d}.csv.gz"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"")
    with pytest.raises(BatchFailed, match="empty file"):
        ingest_entity(c, *h.interval(), cfg=warehouse)
    bad = [f"33000X{i:04d},{h.DAY},{h.DAY} 01:00:00,1,1,33401" for i in range(10)]
    h.write_readings(landing, h.DAY, h.reading_rows(h.DAY, 10) + bad)
    with pytest.raises(BatchFailed, match=r"bad-row share 50.0% .* exceeds"):
        ingest_entity(c, *h.interval(), cfg=warehouse)
    assert _q(warehouse, "select count(*) from raw_fixture.day_read") == [(0,)]
    assert _q(warehouse, f'select count(*) from quarantine."{c.quarantine_table}"') == [(0,)]
    # the failed batch's expectation results are kept
    assert _q(
        warehouse, "select count(*) > 0 from ops.dq_result where entity = 'day_read' and not success"
    ) == [(True,)]


def test_missing_file_fails_clearly(h, warehouse, contracts, landing, clean_entity):
    c = contracts["day_read"]
    clean_entity(c)
    with pytest.raises(BatchFailed, match=r"no file for fixture\.day_read on 2024-07-15"):
        ingest_entity(c, *h.interval(), cfg=warehouse)


def test_gbk_and_bom_files_codes_and_interval_for_events(h, warehouse, contracts, landing, clean_entity):
    c = contracts["terminal_event"]
    clean_entity(c)
    folder = landing / f"metering/{h.DAY:%Y-%m-%d}"
    folder.mkdir(parents=True)
    header = "EVENT_ID,TG_NAME,ERC_CODE,EVENT_TIME\n"  # upper-case headers as real exports have
    gbk = header + f"1,城关一号台区,ERC14,{h.DAY} 03:00:00\n2,城关二号台区,ERC99,{h.DAY} 04:00:00\n"
    bom = (
        header + f"3,东门台区,ERC24,{h.DAY} 05:00:00\n4,东门台区,ERC13,{h.DAY - timedelta(days=1)} 23:59:59\n"
    )
    (folder / f"e_event_{h.DAY:%Y%m%d}_a.csv").write_bytes(gbk.encode("gbk"))
    (folder / f"e_event_{h.DAY:%Y%m%d}_b.csv").write_bytes(b"\xef\xbb\xbf" + bom.encode("utf-8"))
    r = ingest_entity(c, *h.interval(), cfg=warehouse)
    assert (r.rows_loaded, r.rows_quarantined) == (2, 2)
    names = _q(warehouse, "select tg_name from raw_fixture.terminal_event order by event_id")
    assert names == [("城关一号台区",), ("东门台区",)]
    reasons = {tuple(x[0]) for x in _q(warehouse, f'select failures from quarantine."{c.quarantine_table}"')}
    assert reasons == {
        ("expect_column_values_to_be_in_set(erc_code)",),
        ("expect_column_values_to_be_between(event_time)[in_interval]",),
    }
    # month partition created on demand
    assert _q(warehouse, "select to_regclass('raw_fixture.terminal_event_p202407') is not null") == [(True,)]


def test_mixed_encoding_lines_are_quarantined_not_mojibaked(h, warehouse, contracts, landing, clean_entity):
    c = contracts["terminal_event"]
    clean_entity(c)
    folder = landing / f"metering/{h.DAY:%Y-%m-%d}"
    folder.mkdir(parents=True)
    good = f"EVENT_ID,TG_NAME,ERC_CODE,EVENT_TIME\n1,城关一号台区,ERC14,{h.DAY} 03:00:00\n".encode()
    broken = f"2,城关二号台区,ERC14,{h.DAY} 04:00:00\n".encode("gbk")
    (folder / f"e_event_{h.DAY:%Y%m%d}.csv").write_bytes(good + broken)
    r = ingest_entity(c, *h.interval(), cfg=warehouse)
    assert (r.rows_loaded, r.rows_quarantined) == (1, 1)
    failures = _q(warehouse, f'select failures from quarantine."{c.quarantine_table}"')[0][0]
    assert failures == ["undecodable_line(encoding)"]


def test_excel_workbooks_are_read(h, warehouse, contracts, landing, clean_entity):
    import pandas as pd

    c = contracts["hall_ticket"]
    clean_entity(c)
    folder = landing / f"hall/{h.DAY:%Y-%m-%d}"
    folder.mkdir(parents=True)
    for hall, n in (("城关营业厅", 3), ("东门营业厅", 2)):
        pd.DataFrame(
            {
                "ticket_no": [f"{hall[:2]}{i:03d}" for i in range(n)],
                "hall_name": [hall] * n,
                "ticket_time": [pd.Timestamp(f"{h.DAY} 09:0{i}:00") for i in range(n)],
                "wait_min": [5 + i for i in range(n - 1)] + [-3],
            }
        ).to_excel(folder / f"{hall}.xlsx", index=False)
    r = ingest_entity(c, *h.interval(), cfg=warehouse)
    assert (r.rows_received, r.rows_loaded, r.rows_quarantined) == (5, 3, 2)
    assert _q(warehouse, "select count(distinct hall_name) from raw_fixture.hall_ticket") == [(2,)]
