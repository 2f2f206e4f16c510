"""Factory for the daily mart DAG: wait for the day's loads, mine text, dbt build, score, gate, publish.

Time-scheduled (not Asset-triggered) on purpose: asset-triggered runs have no logical date, and the
mart must be backfillable by date like the loads it waits for.
"""

from __future__ import annotations

from datetime import timedelta

from grid_appeals.orchestration.dag_defaults import DEFAULT_ARGS, START_DATE, daily_timetable

DOC = """### Customer-appeal mart (客户诉求)
For the run's day: wait until the ledger (`ops.load_log`) shows that day's required source loads
succeeded → jieba text mining into `nlp.appeal_text` → `dbt build` (models + tests) with the day as
`date_from`/`date_to` → complaint-propensity scoring → dbt build of the propensity mart → Great
Expectations gate on `marts.fct_appeals` → publish (`ops.publish_log`). Re-running a day rewrites
exactly that day's partitions.
"""


def build_mart_dag():
    from airflow.sdk import Asset, dag, task

    @dag(dag_id="appeal_mart", schedule=daily_timetable(), start_date=START_DATE, catchup=True,
         max_active_runs=1, default_args=DEFAULT_ARGS, tags=["mart", "dbt", "nlp"], doc_md=DOC)
    def appeal_mart():
        @task.sensor(poke_interval=300, timeout=int(timedelta(hours=12).total_seconds()), mode="reschedule")
        def wait_for_sources(data_interval_start=None) -> bool:
            from grid_appeals.pipeline.dates import local_day
            from grid_appeals.pipeline.mart_tasks import sources_loaded

            return not sources_loaded(local_day(data_interval_start))

        @task
        def mine_text(data_interval_start=None) -> list:
            from grid_appeals.pipeline.dates import local_day
            from grid_appeals.pipeline.mart_tasks import mine_text as run

            day = local_day(data_interval_start)
            return run(day, day)

        @task
        def dbt_build(data_interval_start=None) -> None:
            from grid_appeals.pipeline.dates import local_day
            from grid_appeals.pipeline.mart_tasks import build_marts

            day = local_day(data_interval_start)
            build_marts(day, day)

        @task
        def score_propensity(data_interval_start=None) -> list:
            from grid_appeals.pipeline.dates import local_day
            from grid_appeals.pipeline.mart_tasks import build_propensity_mart
            from grid_appeals.pipeline.mart_tasks import score_propensity as run

            day = local_day(data_interval_start)
            out = run(day, day)
            build_propensity_mart(day, day)
            return out

        @task
        def gate(data_interval_start=None) -> dict:
            from grid_appeals.pipeline.dates import local_day
            from grid_appeals.pipeline.mart_gate import check_marts

            day = local_day(data_interval_start)
            return check_marts(day, day)

        @task(outlets=[Asset(name="warehouse.marts.fct_appeals")])
        def publish(data_interval_start=None) -> dict:
            from grid_appeals.pipeline.dates import local_day
            from grid_appeals.pipeline.mart_gate import publish as run

            day = local_day(data_interval_start)
            return run(day, day)

        wait_for_sources() >> mine_text() >> dbt_build() >> score_propensity() >> gate() >> publish()

    return appeal_mart()
