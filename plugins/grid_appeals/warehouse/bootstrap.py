"""Idempotent warehouse bootstrap: databases, layer schemas, and the three access roles.

Running it again changes nothing: every statement is ``if not exists`` or a grant, which Postgres
treats as a no-op when already held. Roles are NOLOGIN groups; real users (Airflow's connection,
dbt, a BI tool's login) are granted membership, so the privileges live in one place.
"""

from __future__ import annotations

from psycopg import sql

from grid_appeals.config import Settings, settings
from grid_appeals.warehouse.connection import connect, ensure_database

RAW_SCHEMAS = ("raw_95598", "raw_marketing", "raw_metering", "raw_hall")
LOADER_SCHEMAS = (*RAW_SCHEMAS, "quarantine", "ops", "nlp", "ml")
DBT_SCHEMAS = ("staging", "intermediate", "marts", "snapshots")
SCHEMAS = (*LOADER_SCHEMAS, *DBT_SCHEMAS)

LOADER_ROLE = "grid_loader"  # writes raw_*, quarantine, ops, nlp, ml
TRANSFORMER_ROLE = "grid_transformer"  # dbt: reads the loader's schemas, owns staging..marts
BI_ROLE = "bi_reader"  # BI tools: SELECT on marts only
ROLES = (LOADER_ROLE, TRANSFORMER_ROLE, BI_ROLE)

DATABASES = ("warehouse", "src_95598", "src_marketing", "sim_truth")


def _ident(name: str) -> sql.Identifier:
    return sql.Identifier(name)


def _statements(owner: str) -> list[sql.Composable]:
    stmts: list[sql.Composable] = []
    for schema in SCHEMAS:
        stmts.append(sql.SQL("create schema if not exists {}").format(_ident(schema)))
    for role in ROLES:
        stmts.append(sql.SQL(
            "do $$ begin if not exists (select from pg_roles where rolname = {lit}) then "
            "create role {role} nologin; end if; "
            "exception when duplicate_object then null; end $$").format(lit=sql.Literal(role), role=_ident(role)))
    for schema in LOADER_SCHEMAS:
        s = _ident(schema)
        stmts += [
            sql.SQL("grant usage, create on schema {} to {}").format(s, _ident(LOADER_ROLE)),
            sql.SQL("grant usage on schema {} to {}").format(s, _ident(TRANSFORMER_ROLE)),
            sql.SQL("grant select on all tables in schema {} to {}").format(s, _ident(TRANSFORMER_ROLE)),
        ]
        for grantor in (owner, LOADER_ROLE):
            stmts.append(sql.SQL(
                "alter default privileges for role {} in schema {} grant select on tables to {}").format(
                _ident(grantor), s, _ident(TRANSFORMER_ROLE)))
    for schema in DBT_SCHEMAS:
        s = _ident(schema)
        stmts.append(sql.SQL("grant usage, create on schema {} to {}").format(s, _ident(TRANSFORMER_ROLE)))
    marts = _ident("marts")
    stmts += [
        sql.SQL("grant usage on schema {} to {}").format(marts, _ident(BI_ROLE)),
        sql.SQL("grant select on all tables in schema {} to {}").format(marts, _ident(BI_ROLE)),
    ]
    for grantor in (owner, TRANSFORMER_ROLE):
        stmts.append(sql.SQL(
            "alter default privileges for role {} in schema {} grant select on tables to {}").format(
            _ident(grantor), marts, _ident(BI_ROLE)))
    # nobody but the owner may create objects in public
    stmts.append(sql.SQL("revoke create on schema public from public"))
    return stmts


def ensure_platform_tables(conn) -> int:
    """Tables the platform owns outside dbt (raw/quarantine per source contract, ledger, nlp, ml,
    heartbeat), created empty so dbt sources resolve on a fresh warehouse before any load."""
    from grid_appeals.analytics.propensity import DDL as PROPENSITY_DDL
    from grid_appeals.load.ddl import ensure_tables
    from grid_appeals.orchestration.selfcheck import DDL as HEARTBEAT_DDL
    from grid_appeals.sources.contracts import load_contracts
    from grid_appeals.text.appeal_text_task import DDL as APPEAL_TEXT_DDL

    for ddl in (HEARTBEAT_DDL, APPEAL_TEXT_DDL, PROPENSITY_DDL):
        conn.execute(ddl)
    contracts = load_contracts()
    for contract in contracts:
        ensure_tables(contract, conn)
    return len(contracts)


def bootstrap(cfg: Settings | None = None, *, tables: bool = True) -> dict[str, int]:
    """Create the deployment's databases, schemas, roles (and, with ``tables``, the platform's
    own tables). Safe to run any number of times."""
    cfg = cfg or settings()
    created = sum(ensure_database(cfg.db_name(db), cfg=cfg) for db in DATABASES)
    with connect("warehouse", cfg=cfg, autocommit=True) as conn:
        owner = conn.execute("select current_user").fetchone()[0]
        # serialise concurrent bootstraps (parallel test workers, two DAG runs)
        conn.execute("select pg_advisory_lock(hashtext('grid_appeals.bootstrap'))")
        try:
            for stmt in _statements(owner):
                conn.execute(stmt)
            entities = ensure_platform_tables(conn) if tables else 0
        finally:
            conn.execute("select pg_advisory_unlock(hashtext('grid_appeals.bootstrap'))")
    return {"databases_created": created, "schemas": len(SCHEMAS), "roles": len(ROLES),
            "source_entities": entities}
