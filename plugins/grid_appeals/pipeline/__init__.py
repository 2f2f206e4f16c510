"""Runs of the platform's steps by date, shared by the DAGs and the in-process CLI backfill."""
