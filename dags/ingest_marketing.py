"""Airflow DAG — Daily ingestion of the marketing source into raw_marketing (see grid_appeals.orchestration.ingest_dag)."""

from grid_appeals.orchestration.ingest_dag import build_ingest_dag

dag = build_ingest_dag("marketing")
