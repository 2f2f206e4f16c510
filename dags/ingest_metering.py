"""Airflow DAG — Daily ingestion of the metering source into raw_metering (see grid_appeals.orchestration.ingest_dag)."""

from grid_appeals.orchestration.ingest_dag import build_ingest_dag

dag = build_ingest_dag("metering")
