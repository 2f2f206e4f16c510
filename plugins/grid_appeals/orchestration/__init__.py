"""Helpers shared by the thin DAG files: defaults, timetables, connection lookup."""
