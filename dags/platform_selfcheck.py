"""Platform self-check: one heartbeat row per day in the warehouse, then dbt build over it."""

from __future__ import annotations

from airflow.sdk import Asset, dag, task

from grid_appeals.orchestration.dag_defaults import DEFAULT_ARGS, START_DATE, daily_timetable

HEARTBEAT = Asset(name="warehouse.ops.pipeline_heartbeat")


@dag(
    dag_id="platform_selfcheck",
    schedule=daily_timetable(),
    start_date=START_DATE,
    catchup=False,
    default_args=DEFAULT_ARGS,
    tags=["platform", "selfcheck"],
    doc_md=__doc__,
)
def platform_selfcheck():
    @task
    def bootstrap_warehouse() -> dict:
        from grid_appeals.warehouse.bootstrap import bootstrap

        return bootstrap()

    @task(outlets=[HEARTBEAT])
    def write_heartbeat(data_interval_start=None, data_interval_end=None, dag=None) -> int:
        from grid_appeals.orchestration.dag_defaults import run_date_of
        from grid_appeals.orchestration.selfcheck import record_heartbeat

        return record_heartbeat(dag.dag_id, run_date_of(data_interval_start),
                                data_interval_start, data_interval_end)

    @task
    def dbt_build() -> None:
        from grid_appeals.transform.run_dbt import run_dbt

        run_dbt(["build", "--select", "+fct_platform_runs"])

    bootstrap_warehouse() >> write_heartbeat() >> dbt_build()


platform_selfcheck()
