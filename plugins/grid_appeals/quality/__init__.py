"""Data quality: GX suites generated from contracts, row/batch validation, DQ result storage."""
