"""Bootstrap is idempotent and the bi_reader role sees marts only."""

import psycopg
import pytest
from psycopg import errors

from grid_appeals.config import Settings
from grid_appeals.warehouse.bootstrap import BI_ROLE, SCHEMAS, bootstrap

CATALOG_SNAPSHOT = """
select 'schema' as kind, nspname::text as name, coalesce(nspacl::text, '') as acl
  from pg_namespace where nspname = any(%(schemas)s)
union all
select 'role', rolname::text, rolcanlogin::text from pg_roles where rolname like 'grid\\_%%' or rolname = 'bi_reader'
union all
select 'default_acl', defaclnamespace::regnamespace::text || ':' || defaclrole::regrole::text || ':' || defaclobjtype::text,
       defaclacl::text from pg_default_acl
order by 1, 2, 3
"""


def _snapshot(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(CATALOG_SNAPSHOT, {"schemas": list(SCHEMAS)}).fetchall()


def test_bootstrap_is_idempotent(warehouse: Settings) -> None:
    before = _snapshot(warehouse.url())
    assert {r[1] for r in before if r[0] == "schema"} == set(SCHEMAS)
    result = bootstrap(warehouse)
    assert result["databases_created"] == 0
    assert _snapshot(warehouse.url()) == before


def test_bi_reader_reads_marts_only(warehouse: Settings) -> None:
    with psycopg.connect(warehouse.url(), autocommit=True) as conn:
        for schema in ("raw_95598", "quarantine", "marts"):
            conn.execute(f"drop table if exists {schema}.acl_probe")
            conn.execute(f"create table {schema}.acl_probe as select 1 as x")  # created AFTER bootstrap
    try:
        with psycopg.connect(warehouse.url()) as conn:
            conn.execute(f"set role {BI_ROLE}")
            # default privileges cover a mart table created after the bootstrap
            assert conn.execute("select x from marts.acl_probe").fetchone() == (1,)
            for schema in ("raw_95598", "quarantine"):
                with pytest.raises(errors.InsufficientPrivilege), conn.transaction():
                    conn.execute(f"select x from {schema}.acl_probe")
            with pytest.raises(errors.InsufficientPrivilege), conn.transaction():
                conn.execute("create table marts.bi_cannot_write (x int)")
            with pytest.raises(errors.InsufficientPrivilege), conn.transaction():
                conn.execute("insert into marts.acl_probe values (2)")
    finally:
        with psycopg.connect(warehouse.url(), autocommit=True) as conn:
            for schema in ("raw_95598", "quarantine", "marts"):
                conn.execute(f"drop table if exists {schema}.acl_probe")
