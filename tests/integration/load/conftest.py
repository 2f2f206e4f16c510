"""Fixtures and helpers for ingestion tests: the fixture contracts, a source DB, and a landing folder in tmp."""

from __future__ import annotations

import gzip
import sys
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest

from grid_appeals.config import Settings
from grid_appeals.sources.contracts import EntityContract, load_contracts
from grid_appeals.warehouse.connection import ensure_database

FIXTURE_CONTRACTS = Path(__file__).resolve().parents[2] / "fixtures" / "contracts"
TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2024, 7, 15)

READ_HEADER = "mp_id,data_date,coll_time,pap_r,pap_r1,org_no"


def interval(day: date = DAY) -> tuple[datetime, datetime]:
    """The Airflow-style data interval of ``day`` in UTC (aware), as a DAG would pass it."""
    start = datetime(day.year, day.month, day.day, tzinfo=TZ)
    return start.astimezone(ZoneInfo("UTC")), (start + timedelta(days=1)).astimezone(ZoneInfo("UTC"))


@pytest.fixture(scope="session")
def contracts() -> dict[str, EntityContract]:
    return {c.name: c for c in load_contracts(directory=FIXTURE_CONTRACTS)}


@pytest.fixture()
def landing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, contracts: dict[str, EntityContract]) -> Path:
    """Point every fixture file entity at tmp_path via the contract's env override."""
    for c in contracts.values():
        if c.connector == "files":
            monkeypatch.setenv(c.env_override_name(), str(tmp_path / (c.path or "")))
    return tmp_path


def reading_rows(day: date, n: int, start: int = 0) -> list[str]:
    return [
        f"{3300000000 + i},{day},{day} 01:{i % 60:02d}:00,{1000 + i * 0.5:.2f},{400 + i * 0.25:.2f},33401"
        for i in range(start, start + n)
    ]


def write_readings(
    landing: Path, day: date, lines: list[str], *, header: str = READ_HEADER, truncate: bool = False
) -> Path:
    path = landing / f"metering/{day:%Y-%m-%d}/e_mp_day_read_{day:%Y%m%d}.csv.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = gzip.compress(("\n".join([header, *lines]) + "\n").encode("utf-8"))
    path.write_bytes(data[: len(data) // 2] if truncate else data)
    return path


@pytest.fixture(scope="session")
def source_db(warehouse: Settings) -> str:
    """The fixture SQL source ``src_fixture`` (conn_id) with an empty work-order table."""
    name = warehouse.db_name("src_fixture")
    ensure_database(name, cfg=warehouse)
    with psycopg.connect(warehouse.url("src_fixture"), autocommit=True) as conn:
        conn.execute("""create table if not exists public.arc_s_95598_wkst (
            app_no text primary key, busi_type_code text, cust_no text, calling_no text,
            handle_time timestamp, status text, update_time timestamp, accept_content text)""")
    return name


@pytest.fixture()
def wkst_source(source_db: str, warehouse: Settings) -> Iterator[psycopg.Connection]:
    """A connection to the source table, emptied before each test."""
    with psycopg.connect(warehouse.url("src_fixture"), autocommit=True) as conn:
        conn.execute("truncate public.arc_s_95598_wkst")
        yield conn


@pytest.fixture()
def clean_entity(warehouse: Settings, contracts: dict[str, EntityContract]):
    """Drop an entity's raw/quarantine tables and ledger rows so a test starts from nothing."""

    def clean(contract: EntityContract) -> None:
        from grid_appeals.load.ddl import ensure_tables

        with psycopg.connect(warehouse.url("warehouse"), autocommit=True) as conn:
            conn.execute(f'drop table if exists "{contract.raw_schema}"."{contract.raw_table}" cascade')
            conn.execute(f'drop table if exists quarantine."{contract.quarantine_table}"')
            ensure_tables(contract, conn)
            for t in ("load_log", "dq_result"):
                conn.execute(
                    f"delete from ops.{t} where source = %s and entity = %s", (contract.source, contract.name)
                )

    return clean


D1 = DAY + timedelta(days=1)


def crash_on_chunk(n: int, message: str) -> tuple[Callable[[int], None], list[int]]:
    """An ``after_copy_chunk`` hook raising ``OSError(message)`` after the ``n``-th COPY chunk, and
    the list of byte counts it saw (so a test can check the COPY was really under way)."""
    sent: list[int] = []

    def crash(nbytes: int) -> None:
        sent.append(nbytes)
        if len(sent) == n:
            raise OSError(message)

    return crash, sent


@pytest.fixture()
def h():
    """The helpers of this module (DAY, interval, write_readings, ...): with --import-mode=importlib
    test modules cannot import a sibling module, so they reach the helpers through this fixture."""
    return sys.modules[__name__]
