"""Binary COPY loads exactly what the CSV COPY loaded, falls back to CSV when a value does not fit
the binary form, and refuses a raw table whose column types drifted from the contract."""

from __future__ import annotations

import psycopg
import pytest

from grid_appeals.load.ingest import BatchFailed, ingest_entity

COLUMNS = "mp_id, data_date, coll_time::text, pap_r::text, pap_r1::text, org_no, _source_row"


def _q(cfg, query, *params):
    with psycopg.connect(cfg.url("warehouse")) as conn:
        return conn.execute(query, params).fetchall()


def _edge_rows(h) -> list[str]:
    d = h.DAY
    return [
        f"3300000001,{d},{d} 01:00:00,1.50,0.000,33401",  # scale kept
        f"3300000002,{d},{d}T02:00:00,007,,33401",  # leading zeros, null optional numeric
        f"3300000003,{d},{d} 03:04:05.123456,.5,5.,",  # fractions, no integer part, no fraction
        f"3300000004,{d},{d}T23:59,+3.25,-0.00,33401",  # T without seconds, plus sign, negative zero
        f"3300000005,{d},{d} 00:00:00,99999.9999999999,0,12345678901",  # 16 chars, 10 decimals
        f"3300000006,{d},{d} 12:00:00,123456.7,0.0001,33401",
        f"3300000007,{d},{d} 24:00:00,1,1,33401",  # out-of-range hour → quarantined
        f"3300000008,2024-02-30,{d} 01:00:00,1,1,33401",  # impossible date → quarantined
    ]


def _load(h, c, warehouse, monkeypatch, binary: str):
    monkeypatch.setenv("GRID_LOAD_BINARY", binary)
    result = ingest_entity(c, *h.interval(), cfg=warehouse)
    rows = _q(
        warehouse, f"select {COLUMNS} from raw_fixture.day_read where _data_date = %s order by 1", h.DAY
    )
    quarantined = _q(
        warehouse,
        f'select _source_row, failures from quarantine."{c.quarantine_table}" where _data_date = %s order by 1',
        h.DAY,
    )
    return result, rows, quarantined


@pytest.mark.parametrize("twin", [False, True], ids=["gx-rows", "twin-streamed"])
@pytest.mark.parametrize("extra", [[], ["3300000009,2024-07-15,2024-07-15 01:00:00,1.5e2,1,33401"]])
def test_binary_copy_loads_what_csv_loads(
    h, warehouse, contracts, landing, clean_entity, monkeypatch, extra, twin
):
    """``twin``: the vectorised twin checks the rows and streams them, so the binary encoder takes
    the dates/timestamps validation already parsed instead of parsing the text again."""
    if twin:
        monkeypatch.setenv("GRID_GX_MAX_ROWS", "0")
    c = contracts["day_read"]
    clean_entity(c)
    h.write_readings(landing, h.DAY, [*_edge_rows(h), *extra])
    by_csv = _load(h, c, warehouse, monkeypatch, "0")
    by_binary = _load(h, c, warehouse, monkeypatch, "1")
    # an exponent does not fit the binary form: that batch falls back to CSV (and the server's checksum)
    assert by_csv[0].timings["copy_format"] == "csv"
    assert by_binary[0].timings["copy_format"] == ("csv" if extra else "binary")
    assert by_binary[1:] == by_csv[1:]
    assert by_binary[0].checksum == by_csv[0].checksum
    assert (by_binary[0].rows_loaded, by_binary[0].rows_quarantined) == (6 + len(extra), 2)
    loaded = {r[0]: r for r in by_binary[1]}
    assert loaded["3300000001"][3:5] == ("1.50", "0.000")
    assert loaded["3300000002"][2:5] == ("2024-07-15 02:00:00", "7", None)
    assert loaded["3300000003"][2:6] == ("2024-07-15 03:04:05.123456", "0.5", "5", None)
    assert loaded["3300000004"][2:5] == ("2024-07-15 23:59:00", "3.25", "0.00")
    assert loaded["3300000005"][3] == "99999.9999999999"
    assert [r[0] for r in by_binary[2]] == [7, 8]


def test_drifted_column_type_fails_the_batch_and_loads_nothing(
    h, warehouse, contracts, landing, clean_entity
):
    c = contracts["day_read"]
    clean_entity(c)
    h.write_readings(landing, h.DAY, h.reading_rows(h.DAY, 5))
    with psycopg.connect(warehouse.url("warehouse"), autocommit=True) as conn:
        conn.execute("alter table raw_fixture.day_read alter column pap_r type text")
    with pytest.raises(BatchFailed, match=r"pap_r is text, the contract says numeric"):
        ingest_entity(c, *h.interval(), cfg=warehouse)
    assert _q(warehouse, "select count(*) from raw_fixture.day_read") == [(0,)]
    assert _q(warehouse, "select status from ops.load_log where entity = 'day_read'") == [("failed",)]
