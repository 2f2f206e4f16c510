"""Airflow DAG — Daily ingestion of the 95598 source into raw_95598 (see grid_appeals.orchestration.ingest_dag)."""

from grid_appeals.orchestration.ingest_dag import build_ingest_dag

dag = build_ingest_dag("95598")
