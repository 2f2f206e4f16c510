"""Factory for the per-source ingestion DAGs (one task per contract entity).

The DAG files stay thin (wiring only); the entity list comes from the source contract YAML, so a
new entity is a contract change, not a code change.
"""

from __future__ import annotations

from grid_appeals.orchestration.dag_defaults import DEFAULT_ARGS, START_DATE, daily_timetable

SOURCE_DOCS = {
    "95598": "95598 work-order system (SQL): work orders upserted by update time, call records.",
    "marketing": "Marketing system SG186 (SQL): customers, org tree, payments, business expansion.",
    "metering": "Electricity-information collection (daily gzip CSV drops): readings and terminal events.",
    "hall": "Business-hall queue system (daily Excel workbook, GBK CSV from old halls).",
}


def raw_asset(entity_key: str):
    from airflow.sdk import Asset

    source, entity = entity_key.split(".", 1)
    return Asset(name=f"warehouse.raw_{source}.{entity}")


def build_ingest_dag(source: str):
    """Daily DAG ``ingest_<source>``: data interval = one local day, catchup on."""
    from airflow.sdk import dag, task, teardown

    from grid_appeals.sources.contracts import load_contracts

    contracts = load_contracts(source)
    doc = (f"### Ingest {source}\n{SOURCE_DOCS.get(source, '')}\n\n"
           "Each task extracts one entity for the run's data interval, validates it with its "
           "Great Expectations suite, quarantines bad rows, and replaces/upserts that day in raw "
           "in one transaction, writing one `ops.load_log` row per attempt. Re-run or backfill any "
           "date: the result is the same. `data_docs` (a teardown: it runs after failed loads too, and "
           "does not decide the run's state) then renders the GX Data Docs of the run's batches "
           "once.\n\nEntities: "
           + ", ".join(f"`{c.key}`" for c in contracts))

    @dag(dag_id=f"ingest_{source}", schedule=daily_timetable(), start_date=START_DATE, catchup=True,
         max_active_runs=2, default_args=DEFAULT_ARGS, tags=["ingest", source], doc_md=doc)
    def ingest_dag():
        loads = []
        for contract in contracts:
            @task(task_id=f"load_{contract.name}", outlets=[raw_asset(contract.key)])
            def load(entity_key: str = contract.key, data_interval_start=None, data_interval_end=None) -> dict:
                from grid_appeals.pipeline.ingest_tasks import ingest

                return ingest(entity_key, data_interval_start, data_interval_end, build_docs=False)

            loads.append(load())

        @teardown  # runs after the loads whatever their outcome, and is ignored for the run's state:
        @task(task_id="data_docs")  # a failed load still fails the DAG run
        def data_docs(dag_run=None) -> int:
            """Render the GX Data Docs once for the run's batches, failed ones included."""
            from grid_appeals.pipeline.ingest_tasks import render_data_docs

            return render_data_docs(since=getattr(dag_run, "start_date", None))

        loads >> data_docs()

    return ingest_dag()
