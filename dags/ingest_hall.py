"""Airflow DAG — Daily ingestion of the hall source into raw_hall (see grid_appeals.orchestration.ingest_dag)."""

from grid_appeals.orchestration.ingest_dag import build_ingest_dag

dag = build_ingest_dag("hall")
