"""Airflow DAG — Daily customer-appeal mart (see grid_appeals.orchestration.mart_dag)."""

from grid_appeals.orchestration.mart_dag import build_mart_dag

dag = build_mart_dag()
