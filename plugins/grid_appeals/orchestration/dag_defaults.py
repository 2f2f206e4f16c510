"""Defaults every DAG shares: daily local-day data intervals, retries, tags."""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum

TZ = "Asia/Shanghai"
# First day the scheduler catches up from (DAGs are created paused; unpausing starts catchup).
# Backfills may go further back. Deployment setting, not code: GRID_START_DATE=YYYY-MM-DD.
START_DATE = pendulum.parse(os.environ.get("GRID_START_DATE", "2024-01-01"), tz=TZ)

DEFAULT_ARGS = {
    "owner": "data-platform",
    "retries": 2,
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": True,
}


def daily_timetable():
    """Data interval = one local calendar day [00:00, 24:00) Asia/Shanghai.

    A plain cron ``schedule`` in Airflow 3 yields zero-width intervals; partitioned loads need the
    whole day as the interval, so we use CronDataIntervalTimetable explicitly.
    """
    from airflow.sdk import CronDataIntervalTimetable

    return CronDataIntervalTimetable("0 0 * * *", timezone=TZ)


def run_date_of(data_interval_start) -> str:
    """The local date (YYYY-MM-DD) a run covers, from its data interval (never from now())."""
    return pendulum.instance(data_interval_start).in_timezone(TZ).date().isoformat()
