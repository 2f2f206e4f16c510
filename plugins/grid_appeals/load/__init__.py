"""Loading the raw layer: DDL from contracts, COPY-based idempotent loads, quarantine, ledger."""
