"""SQL-source ingestion: interval extraction, upsert keeping the latest state, connection config."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from grid_appeals.load.ingest import BatchFailed, ingest_entity
from grid_appeals.load.writer import partition_checksum

INSERT = """insert into public.arc_s_95598_wkst values (%s, %s, %s, %s, %s, %s, %s, %s)
            on conflict (app_no) do update set status = excluded.status, update_time = excluded.update_time"""


def _order(app_no, status, handle, updated, *, busi="01", cust="3301234567", phone="13812345678"):
    return (app_no, busi, cust, phone, handle, status, updated, "【停电报修】客户来电反映家中停电")


def _raw(cfg, query, *params):
    with psycopg.connect(cfg.url("warehouse")) as conn:
        return conn.execute(query, params).fetchall()


def test_upsert_keeps_latest_state_and_late_changes_land(h, warehouse, contracts, wkst_source, clean_entity):
    c = contracts["wkst"]
    clean_entity(c)
    src = wkst_source
    src.execute(INSERT, _order("A1", "受理", f"{h.DAY} 08:00", f"{h.DAY} 08:00"))
    src.execute(INSERT, _order("A2", "派单", f"{h.DAY} 09:00", f"{h.DAY} 10:00"))
    src.execute(INSERT, _order("A3", "受理", f"{h.DAY} 11:00", f"{h.DAY} 11:00", busi="99"))  # bad code
    src.execute(
        INSERT, _order("A4", "受理", f"{h.DAY} 12:00", f"{h.DAY} 12:00", phone="1381234")
    )  # bad phone
    src.execute(INSERT, _order("A5", "受理", f"{h.DAY} 12:00", f"{h.DAY} 12:00", cust="123"))  # bad 户号
    src.execute(INSERT, _order("A7", "受理", f"{h.DAY} 13:00", f"{h.DAY} 13:00", phone="0571-88886666"))
    src.execute(INSERT, _order("A8", "受理", f"{h.DAY} 23:59:59", f"{h.DAY} 23:59:59"))
    src.execute(
        INSERT,
        _order("X0", "受理", f"{h.DAY - timedelta(days=1)} 08:00", f"{h.DAY - timedelta(days=1)} 08:00"),
    )
    first = ingest_entity(c, *h.interval(h.DAY), cfg=warehouse)
    assert (first.rows_received, first.rows_loaded, first.rows_quarantined) == (7, 4, 3)
    # next day: A1 changes status (a late status change of an order created yesterday), A6 is new
    src.execute(INSERT, _order("A1", "办结", f"{h.DAY} 08:00", f"{h.D1} 07:00"))
    src.execute(INSERT, _order("A6", "受理", f"{h.D1} 09:00", f"{h.D1} 09:00"))
    second = ingest_entity(c, *h.interval(h.D1), cfg=warehouse)
    assert (second.rows_received, second.rows_loaded) == (2, 2)
    rows = dict(_raw(warehouse, "select app_no, status from raw_fixture.wkst"))
    assert rows == {"A1": "办结", "A2": "派单", "A6": "受理", "A7": "受理", "A8": "受理"}
    # re-running the first day later must not bring back the old state of A1
    again = ingest_entity(c, *h.interval(h.DAY), cfg=warehouse)
    assert again.rows_received == 6  # A1 is no longer the day's (its update is on h.D1)
    assert dict(_raw(warehouse, "select app_no, status from raw_fixture.wkst"))["A1"] == "办结"
    assert _raw(warehouse, "select _data_date from raw_fixture.wkst where app_no = 'A1'") == [(h.D1,)]
    assert again.identity_holds()


def test_stale_row_is_superseded_not_applied(h, warehouse, contracts, wkst_source, clean_entity):
    c = contracts["wkst"]
    clean_entity(c)
    wkst_source.execute(INSERT, _order("B1", "办结", f"{h.DAY} 08:00", f"{h.D1} 08:00"))
    ingest_entity(c, *h.interval(h.D1), cfg=warehouse)
    # the source goes back in time (restored from an older backup): its row must not win
    wkst_source.execute(
        "update public.arc_s_95598_wkst set status = '受理', update_time = %s", (f"{h.DAY} 09:00",)
    )
    r = ingest_entity(c, *h.interval(h.DAY), cfg=warehouse)
    assert (r.rows_received, r.rows_loaded, r.rows_superseded, r.duplicates_dropped) == (1, 0, 1, 1)
    assert _raw(warehouse, "select status from raw_fixture.wkst") == [("办结",)]
    # the row sent was not written: the date's checksum is read back, not taken from the payload
    assert r.timings["checksum_from"] == "table"
    with psycopg.connect(warehouse.url("warehouse")) as conn:
        assert r.checksum == partition_checksum(conn, c, h.DAY)


def test_conn_id_resolves_from_airflow_env(h, warehouse, contracts, wkst_source, clean_entity, monkeypatch):
    c = contracts["wkst"]
    clean_entity(c)
    wkst_source.execute(INSERT, _order("C1", "受理", f"{h.DAY} 08:00", f"{h.DAY} 08:00"))
    monkeypatch.setenv("AIRFLOW_CONN_SRC_FIXTURE", warehouse.url("src_fixture"))
    assert ingest_entity(c, *h.interval(), cfg=warehouse).rows_loaded == 1
    monkeypatch.setenv("AIRFLOW_CONN_SRC_FIXTURE", warehouse.url("no_such_source_db"))
    with pytest.raises(BatchFailed, match="no_such_source_db"):
        ingest_entity(c, *h.interval(), cfg=warehouse)


def test_warehouse_follows_the_airflow_connection(
    h, warehouse, contracts, wkst_source, clean_entity, monkeypatch
):
    """AIRFLOW_CONN_WAREHOUSE alone decides where a load lands (config only, like the sources):
    pointed at a missing database the task fails naming it, and nothing reaches the configured one."""
    c = contracts["wkst"]
    clean_entity(c)
    wkst_source.execute(INSERT, _order("W1", "受理", f"{h.DAY} 08:00", f"{h.DAY} 08:00"))
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", warehouse.url("no_such_warehouse_db"))
    with pytest.raises(psycopg.OperationalError, match="no_such_warehouse_db"):
        ingest_entity(c, *h.interval(), cfg=warehouse)
    assert _raw(warehouse, "select count(*) from raw_fixture.wkst") == [(0,)]
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", warehouse.url("warehouse"))
    assert ingest_entity(c, *h.interval(), cfg=warehouse).rows_loaded == 1


def test_source_table_drift_names_table_and_columns(h, warehouse, contracts, wkst_source, clean_entity):
    c = contracts["wkst"]
    clean_entity(c)
    wkst_source.execute("alter table public.arc_s_95598_wkst rename column calling_no to caller_no")
    try:
        with pytest.raises(BatchFailed) as info:
            ingest_entity(c, *h.interval(), cfg=warehouse)
    finally:
        wkst_source.execute("alter table public.arc_s_95598_wkst rename column caller_no to calling_no")
    msg = str(info.value)
    assert "src_fixture:public.arc_s_95598_wkst" in msg and "calling_no → caller_no" in msg


def test_ledger_identity_holds_for_every_successful_batch(h, warehouse):
    bad = _raw(
        warehouse,
        "select batch_id from ops.load_log where status = 'success' and "
        "rows_received <> rows_loaded + rows_quarantined + duplicates_dropped",
    )
    assert bad == []


def _digit_orders(day, first: int, n: int, *, status="受理", updated_hour=9):
    return [
        _order(f"{day:%Y%m%d}00{first + i:07d}", status, f"{day} 08:00", f"{day} {updated_hour:02d}:00")
        for i in range(n)
    ]


def _table_state(cfg):
    return _raw(
        cfg,
        "select app_no, busi_type_code, cust_no, calling_no, handle_time, status, update_time, accept_content, "
        "_source_file, _source_row, _data_date from raw_fixture.wkst order by app_no",
    )


@pytest.mark.parametrize("gx_rows", ["0", "100000"])
def test_direct_upsert_of_new_keys_equals_the_temp_table_path(
    h, warehouse, contracts, wkst_source, clean_entity, monkeypatch, gx_rows
):
    """New digit keys are COPYed straight into the table, existing ones go through the temp table:
    the raw table, the ledger counts and the checksum equal those of the temp-table path."""
    c = contracts["wkst"]
    monkeypatch.setenv("GRID_GX_MAX_ROWS", gx_rows)
    states, results = {}, {}
    for mode in ("1", "0"):
        monkeypatch.setenv("GRID_LOAD_DIRECT_UPSERT", mode)
        clean_entity(c)
        wkst_source.execute("truncate public.arc_s_95598_wkst")
        for row in _digit_orders(h.DAY, 0, 300):
            wkst_source.execute(INSERT, row)
        day1 = ingest_entity(c, *h.interval(h.DAY), cfg=warehouse)
        # next day: 100 of yesterday's orders change status (existing keys), 200 new orders
        for row in _digit_orders(h.DAY, 0, 100)[::1]:
            wkst_source.execute(
                "update public.arc_s_95598_wkst set status = '办结', update_time = %s where app_no = %s",
                (f"{h.D1} 10:00", row[0]),
            )
        for row in _digit_orders(h.D1, 0, 200):
            wkst_source.execute(INSERT, row)
        day2 = ingest_entity(c, *h.interval(h.D1), cfg=warehouse)
        again = ingest_entity(c, *h.interval(h.D1), cfg=warehouse)  # every key exists now
        lineage = _raw(
            warehouse,
            "select count(distinct _batch_id), count(distinct _loaded_at), min(_batch_id::text) "
            "from raw_fixture.wkst where _data_date = %s",
            h.D1,
        )
        assert lineage == [(1, 1, again.batch_id)]
        direct = [r.timings.get("direct_rows") for r in (day1, day2, again)]
        assert direct == ([300, 200, 0] if mode == "1" else [None, None, None])
        states[mode] = _table_state(warehouse)
        results[mode] = [
            (r.rows_received, r.rows_loaded, r.rows_quarantined, r.duplicates_dropped, r.checksum)
            for r in (day1, day2, again)
        ]
    assert results["1"] == results["0"]
    assert results["1"][1][:2] == (300, 300)
    assert states["1"] == states["0"] and len(states["1"]) == 500


def test_crash_during_a_direct_upsert_leaves_the_table_as_it_was(
    h, warehouse, contracts, wkst_source, clean_entity, monkeypatch
):
    c = contracts["wkst"]
    clean_entity(c)
    wkst_source.execute("truncate public.arc_s_95598_wkst")
    for row in _digit_orders(h.DAY, 0, 50):
        wkst_source.execute(INSERT, row)
    ingest_entity(c, *h.interval(h.DAY), cfg=warehouse)
    before = _table_state(warehouse)
    for row in _digit_orders(h.D1, 0, 2000):
        wkst_source.execute(INSERT, row)
    monkeypatch.setattr("grid_appeals.load.writer.COPY_CHUNK", 8 * 1024)
    crash, sent = h.crash_on_chunk(3, "injected: killed mid direct COPY")

    with pytest.raises(BatchFailed, match="injected"):
        ingest_entity(c, *h.interval(h.D1), cfg=warehouse, after_copy_chunk=crash)
    assert len(sent) == 3  # the direct COPY was really under way
    assert _table_state(warehouse) == before
    r = ingest_entity(c, *h.interval(h.D1), cfg=warehouse)
    assert (r.rows_loaded, r.timings["direct_rows"]) == (2000, 2000)


def test_upsert_checksum_is_the_dates_own_whichever_way_it_is_computed(
    h, warehouse, contracts, wkst_source, clean_entity
):
    """An upsert that wrote every row it sent, with no other batch's row left on the date, is
    checksummed from its COPY payloads; a row of an earlier attempt left on the date (gone from the
    source) or a stale row not applied make it read the date back. Either way: the date's checksum."""
    c = contracts["wkst"]
    clean_entity(c)
    wkst_source.execute("truncate public.arc_s_95598_wkst")
    for row in _digit_orders(h.DAY, 0, 40):
        wkst_source.execute(INSERT, row)

    def load_and_check() -> str:
        result = ingest_entity(c, *h.interval(h.DAY), cfg=warehouse)
        with psycopg.connect(warehouse.url("warehouse")) as conn:
            assert result.checksum == partition_checksum(conn, c, h.DAY)
        return result.timings["checksum_from"]

    assert load_and_check() == "payloads"
    assert load_and_check() == "payloads"  # a re-run rewrites every row of the date
    wkst_source.execute(
        "delete from public.arc_s_95598_wkst where app_no = %s", (_digit_orders(h.DAY, 0, 1)[0][0],)
    )
    assert load_and_check() == "table"  # the deleted order's row stays on the date (upserts never delete)
    assert _raw(warehouse, "select count(*) from raw_fixture.wkst where _data_date = %s", h.DAY) == [(40,)]
