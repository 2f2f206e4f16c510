"""``airflow backfill create`` against a running scheduler, and waiting for its runs to finish.

The scheduler only starts queued runs of *unpaused* DAGs (backfill runs included), so the DAG is
unpaused first. With ``CronDataIntervalTimetable`` a backfill run's logical date is the start of
its data interval, i.e. local midnight of the day it covers: ``--from-date 2024-07-01 --to-date
2024-07-02`` loads exactly the days 07-01 and 07-02.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from grid_appeals.orchestration.dag_defaults import TZ
from grid_appeals.orchestration.local_stack import LocalStack, StackError

TERMINAL = {"success", "failed"}
# a task in one of these states means the backfill will not succeed soon (retries wait minutes)
BAD_TASK_STATES = ("failed", "up_for_retry", "upstream_failed")
LOCKED_RETRIES = 3  # "database is locked" from a racing SQLite write: retried this many times


@dataclass(frozen=True)
class BackfillRun:
    """One DAG run of a backfill as the metadata DB records it (times are aware UTC)."""

    run_id: str
    state: str
    logical_date: datetime
    data_interval_start: datetime
    data_interval_end: datetime

    @property
    def day(self) -> date:
        """The local day the run covers (its data interval start in Asia/Shanghai)."""
        return self.data_interval_start.astimezone(ZoneInfo(TZ)).date()


def _utc(value: datetime | str) -> datetime:
    """Metadata timestamps: datetimes from Postgres, naive-UTC strings from SQLite."""
    dt = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def create_backfill(stack: LocalStack, dag_id: str, first: date, last: date) -> None:
    """Unpause ``dag_id`` and ``airflow backfill create`` the days ``first``..``last`` (inclusive)."""
    stack.airflow("dags", "unpause", dag_id)
    args = ("backfill", "create", "--dag-id", dag_id, "--from-date", first.isoformat(), "--to-date", last.isoformat())
    for attempt in range(LOCKED_RETRIES + 1):
        try:
            stack.airflow(*args)
            return
        except StackError as err:
            # SQLite metadata (the embedded default): a write that races the scheduler's own commit
            # fails at once with "database is locked" (SQLITE_BUSY_SNAPSHOT in WAL mode — the busy
            # timeout does not apply). The command's transaction is rolled back, so it is retried;
            # if a backfill of this DAG did get recorded, it is not created twice.
            if "database is locked" not in str(err) or attempt == LOCKED_RETRIES:
                raise
            if stack.metadata_query("select id from backfill where dag_id = :dag_id", dag_id=dag_id):
                return
            time.sleep(1 + attempt)


def backfill_runs(stack: LocalStack, dag_id: str) -> list[BackfillRun]:
    rows = stack.metadata_query(
        "select run_id, state, logical_date, data_interval_start, data_interval_end from dag_run "
        "where dag_id = :dag_id and run_type = 'backfill' order by data_interval_start",
        dag_id=dag_id,
    )
    return [
        BackfillRun(
            r["run_id"],
            r["state"],
            _utc(r["logical_date"]),
            _utc(r["data_interval_start"]),
            _utc(r["data_interval_end"]),
        )
        for r in rows
    ]


def _bad_tasks(stack: LocalStack, dag_id: str) -> list[dict]:
    marks = ", ".join(f"'{s}'" for s in BAD_TASK_STATES)
    return stack.metadata_query(
        f"select run_id, task_id, try_number, state from task_instance where dag_id = :dag_id "
        f"and state in ({marks})",
        dag_id=dag_id,
    )


def _open_backfills(stack: LocalStack, dag_id: str) -> int:
    """Backfills the scheduler has not marked completed yet (only one may be open per DAG)."""
    rows = stack.metadata_query(
        "select count(*) as n from backfill where dag_id = :dag_id and completed_at is null", dag_id=dag_id
    )
    return int(rows[0]["n"])


def _task_log_tail(stack: LocalStack, dag_id: str, ti: dict, lines: int = 30) -> str:
    """The errors of a task's latest attempt log (Airflow 3 writes JSON lines), else its tail."""
    folder = Path(stack.environment()["AIRFLOW__LOGGING__BASE_LOG_FOLDER"]) / f"dag_id={dag_id}"
    logs = sorted(folder.glob(f"run_id={ti['run_id']}/task_id={ti['task_id']}/attempt=*.log"))
    if not logs:
        return f"(no task log under {folder})"
    text = logs[-1].read_text(errors="replace").splitlines()
    errors = []
    for line in text:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("level") in ("error", "critical"):
            details = "; ".join(
                f"{d.get('exc_type')}: {d.get('exc_value')}" for d in event.get("error_detail") or []
            )
            errors.append(f"{event.get('event')} {details}".strip())
    return f"--- {logs[-1]} ---\n" + "\n".join(errors[-5:] or text[-lines:])


def wait_for_backfill(
    stack: LocalStack, dag_id: str, expected_runs: int, *, timeout: float = 600, poll: float = 3
) -> list[BackfillRun]:
    """Poll until ``expected_runs`` backfill runs of ``dag_id`` are finished; return them.

    Fails fast (with the failing task's log) as soon as a task fails or waits for a retry — the
    DAGs retry after minutes, far beyond any test's patience — and on timeout with the scheduler's
    log tail, so a hung stack says why.
    """
    deadline = time.monotonic() + timeout
    runs: list[BackfillRun] = []
    while time.monotonic() < deadline:
        stack.check_alive()
        runs = backfill_runs(stack, dag_id)
        bad = _bad_tasks(stack, dag_id)
        if bad:
            time.sleep(poll)  # the state is set before the task's supervisor has flushed its log
            detail = "\n".join(_task_log_tail(stack, dag_id, ti) for ti in bad[:2])
            raise StackError(
                f"backfill of {dag_id}: task(s) not successful: {bad}\n{detail}\n"
                f"{stack.log_tail(20, ['scheduler'])}"
            )
        if (
            len(runs) >= expected_runs
            and all(r.state in TERMINAL for r in runs)
            and not _open_backfills(stack, dag_id)
        ):
            return runs
        time.sleep(poll)
    raise StackError(
        f"backfill of {dag_id} not finished after {timeout:.0f}s: runs "
        f"{[(r.run_id, r.state) for r in runs]}\n{stack.log_tail(40, ['scheduler'])}"
    )
