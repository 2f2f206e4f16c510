"""A real ``dbt build`` (models + tests) against the warehouse."""

from __future__ import annotations

import psycopg
import pytest

from grid_appeals.orchestration.selfcheck import record_heartbeat
from grid_appeals.transform.run_dbt import DbtError, run_dbt


def test_dbt_build_green_and_tests_bite(warehouse) -> None:
    from datetime import datetime, timedelta, timezone

    tz = timezone(timedelta(hours=8))
    record_heartbeat(
        "dbt_build_test", "2026-01-05", datetime(2026, 1, 5, tzinfo=tz), datetime(2026, 1, 6, tzinfo=tz)
    )
    run_dbt(["build", "--select", "+fct_platform_runs"], cfg=warehouse)
    with psycopg.connect(warehouse.url()) as conn:
        n = conn.execute(
            "select count(*) from marts.fct_platform_runs where dag_id = 'dbt_build_test'"
        ).fetchone()[0]
        assert n == 1
        # a 12-hour interval violates the accepted_values test: dbt build must fail, naming the test
        conn.execute(
            "insert into ops.pipeline_heartbeat (dag_id, run_date, interval_start, interval_end) "
            "values ('dbt_bad', '2026-01-07', '2026-01-07 00:00+08', '2026-01-07 12:00+08')"
        )
        conn.commit()
    try:
        with pytest.raises(DbtError, match="accepted_values"):
            run_dbt(["build", "--select", "+fct_platform_runs"], cfg=warehouse)
    finally:
        with psycopg.connect(warehouse.url(), autocommit=True) as conn:
            conn.execute("delete from ops.pipeline_heartbeat where dag_id in ('dbt_bad', 'dbt_build_test')")
