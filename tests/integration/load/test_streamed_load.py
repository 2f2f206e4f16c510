"""Streamed loads (rows COPYed while the rest of the batch is still validated) keep every guarantee.

The twin validates the rows when a batch exceeds ``GRID_GX_MAX_ROWS``; forcing that on small files
with tiny chunks (``GRID_STREAM_CHUNK_ROWS``) puts duplicates, defects and late batch-level
failures across chunk boundaries, and the result must equal the load validated before the COPY.
"""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from grid_appeals.load.ingest import BatchFailed, ingest_entity


def _q(cfg, query, *params):
    with psycopg.connect(cfg.url("warehouse")) as conn:
        return conn.execute(query, params).fetchall()


def _state(cfg, contract, day) -> tuple[list[tuple], list[tuple]]:
    rows = _q(
        cfg,
        "select mp_id, data_date, coll_time, pap_r, pap_r1, org_no, _source_file, _source_row, _batch_id "
        f"from raw_fixture.{contract.raw_table} where _data_date = %s order by _source_row",
        day,
    )
    quarantine = _q(
        cfg,
        f'select _source_row, failures, row from quarantine."{contract.quarantine_table}" '
        "where _data_date = %s order by _source_row",
        day,
    )
    return rows, quarantine


def _day_loaded_then_streaming(h, warehouse, c, landing, clean_entity, monkeypatch):
    """The day loaded once (100 rows; its result returned), then settings that stream the next
    load of it: the twin checks rows above 1 000, chunks of 1 000, 16 kB COPY writes."""
    clean_entity(c)
    h.write_readings(landing, h.DAY, h.reading_rows(h.DAY, 100))
    before = ingest_entity(c, *h.interval(), cfg=warehouse)
    monkeypatch.setenv("GRID_GX_MAX_ROWS", "1000")
    monkeypatch.setenv("GRID_STREAM_CHUNK_ROWS", "1000")
    monkeypatch.setattr("grid_appeals.load.writer.COPY_CHUNK", 16 * 1024)
    return before


def _defects(h) -> list[str]:
    good = h.reading_rows(h.DAY, 20)
    past = h.DAY - timedelta(days=3)
    return [
        *good[:9],
        good[0],  # exact duplicate of row 1, in another chunk
        *good[9:],
        f"3300000001,{h.DAY},{h.DAY} 02:00:00,9999.00,1.00,33401",  # duplicate key, later → kept
        f"3300000100,{h.DAY},{h.DAY} 01:00:00,,1.00,33401",  # missing required pap_r
        f"33000X0101,{h.DAY},{h.DAY} 01:00:00,10.00,1.00,33401",  # malformed mp_id
        f"3300000102,{h.DAY},{h.DAY} 01:00:00,-5.00,1.00,33401",  # negative reading
        f"3300000104,{past},{past} 01:00:00,10.00,1.00,33401",  # late row for a past day
        f"3300000106,2024-02-30,{h.DAY} 01:00:00,10.00,1.00,33401",  # impossible date
        f"3300000107,{h.DAY},{h.DAY} 01:00:00,abc,1.00,33401",  # not a number
        f"3300000005,{h.DAY},{h.DAY} 03:00:00,-1.00,1.00,33401",  # key of row 6 but bad: row 6 stays
    ]


def test_streamed_load_equals_the_load_validated_before_the_copy(
    h, warehouse, contracts, landing, clean_entity, monkeypatch
):
    c = contracts["day_read"]
    clean_entity(c)
    h.write_readings(landing, h.DAY, _defects(h))
    monkeypatch.setenv("GRID_GX_MAX_ROWS", "0")  # the twin checks the rows: the streamed path
    monkeypatch.setenv("GRID_STREAM_CHUNK_ROWS", "4")
    results, states = {}, {}
    for mode in ("0", "1", "0"):  # validated first, streamed, validated first again
        monkeypatch.setenv("GRID_LOAD_STREAM", mode)
        r = ingest_entity(c, *h.interval(), cfg=warehouse)
        rows, quarantine = _state(warehouse, c, h.DAY)
        assert {str(row[8]) for row in rows} == {r.batch_id}  # the latest batch replaced the day
        results[mode] = (r.rows_received, r.rows_loaded, r.rows_quarantined, r.duplicates_dropped, r.checksum)
        states[mode] = ([row[:8] for row in rows], quarantine)
    assert results["1"] == results["0"]
    assert results["1"][:4] == (29, 20, 7, 2)
    assert states["1"] == states["0"]
    loaded = {row[0]: row for row in states["1"][0]}
    assert float(loaded["3300000001"][3]) == 9999.0  # the later row of the repeated key won
    assert float(loaded["3300000005"][3]) == 1002.5  # a bad row never displaces a good one


def test_crash_mid_streamed_copy_leaves_previous_state(
    h, warehouse, contracts, landing, clean_entity, monkeypatch
):
    c = contracts["day_read"]
    clean_entity(c)
    h.write_readings(landing, h.DAY, h.reading_rows(h.DAY, 100))
    before = ingest_entity(c, *h.interval(), cfg=warehouse)
    monkeypatch.setenv("GRID_GX_MAX_ROWS", "1000")
    monkeypatch.setenv("GRID_STREAM_CHUNK_ROWS", "2000")
    h.write_readings(landing, h.DAY, h.reading_rows(h.DAY, 30_000, start=1000))
    monkeypatch.setattr("grid_appeals.load.writer.COPY_CHUNK", 16 * 1024)
    monkeypatch.setattr("grid_appeals.load.writer.SEND_ROWS", 1000)
    crash, sent = h.crash_on_chunk(3, "injected: worker killed mid-COPY")

    with pytest.raises(BatchFailed, match="injected"):
        ingest_entity(c, *h.interval(), cfg=warehouse, after_copy_chunk=crash)
    assert len(sent) == 3
    assert _q(warehouse, f"select count(*) from raw_fixture.{c.raw_table}") == [(100,)]
    status = _q(
        warehouse, "select status, error from ops.load_log where entity = 'day_read' order by attempt"
    )
    assert [s for s, _ in status] == ["success", "failed"] and "injected" in status[1][1]
    h.write_readings(landing, h.DAY, h.reading_rows(h.DAY, 100))
    assert ingest_entity(c, *h.interval(), cfg=warehouse).checksum == before.checksum


def test_batch_failure_found_after_rows_were_streamed_loads_nothing(
    h, warehouse, contracts, landing, clean_entity, monkeypatch
):
    c = contracts["day_read"]
    before = _day_loaded_then_streaming(h, warehouse, c, landing, clean_entity, monkeypatch)
    good = h.reading_rows(h.DAY, 6000, start=1000)
    bad = [f"{3300100000 + i},{h.DAY},{h.DAY} 01:00:00,-1.00,1.00,33401" for i in range(4000)]
    h.write_readings(landing, h.DAY, good + bad)  # 40 % bad > the contract's 30 %, found at the end
    sent: list[int] = []
    with pytest.raises(BatchFailed, match="bad-row share"):
        ingest_entity(c, *h.interval(), cfg=warehouse, after_copy_chunk=sent.append)
    assert sent and sent[-1] > 100_000  # good rows really went to the COPY before the verdict
    assert _q(warehouse, f"select count(*), min(_batch_id::text) from raw_fixture.{c.raw_table}") == [
        (100, before.batch_id)
    ]
    assert _q(warehouse, f'select count(*) from quarantine."{c.quarantine_table}"') == [(0,)]
    last = _q(
        warehouse,
        "select status, rows_loaded, rows_quarantined from ops.load_log where entity = 'day_read' "
        "order by attempt desc limit 1",
    )
    assert last == [("failed", 0, 4000)]


def test_gx_batch_verdict_given_after_the_stream_still_rejects_the_load(
    h, warehouse, contracts, landing, clean_entity, monkeypatch
):
    """GX's batch-level verdicts on a streamed batch come while the backend finishes the COPY,
    after the twin let the rows go: a GX failure there must still roll the whole load back."""
    from grid_appeals.quality import validate as validate_module

    c = contracts["day_read"]
    before = _day_loaded_then_streaming(h, warehouse, c, landing, clean_entity, monkeypatch)
    h.write_readings(landing, h.DAY, h.reading_rows(h.DAY, 5000, start=1000))
    real, stages = validate_module._gx_batch, []

    def gx_fails_the_key(gx, name, exps, *args, **kwargs):
        out = real(gx, name, exps, *args, **kwargs)
        stages.append(name.rsplit(".", 1)[-1])
        for o in out:
            if name.endswith(".loaded") and o.expectation_type.endswith("_to_be_unique"):
                o.success, o.unexpected_count = False, 1
        return out

    monkeypatch.setattr(validate_module, "_gx_batch", gx_fails_the_key)
    sent: list[int] = []
    with pytest.raises(BatchFailed, match="to_be_unique"):
        ingest_entity(c, *h.interval(), cfg=warehouse, after_copy_chunk=sent.append)
    assert sent  # rows were in the COPY before GX's verdict
    assert stages == ["received", "loaded"]  # GX was asked once per stage, both deferred
    assert _q(warehouse, f"select count(*), min(_batch_id::text) from raw_fixture.{c.raw_table}") == [
        (100, before.batch_id)
    ]
    last = _q(
        warehouse,
        "select l.status, l.rows_loaded, r.engine, r.success from ops.load_log l "
        "join ops.dq_result r on r.batch_id = l.batch_id and r.expectation_type like '%%_to_be_unique' "
        "where l.entity = 'day_read' order by l.attempt desc limit 1",
    )
    assert last == [("failed", 0, "gx", False)]  # GX's outcome, not the twin's, was recorded
