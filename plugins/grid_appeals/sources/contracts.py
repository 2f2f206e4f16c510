"""Source contracts: what each source entity must look like, kept as YAML data in the repo.

Why data and not code: the simulator today and the real 95598 / SG186 / metering / hall systems
tomorrow differ only in *where* they live (an Airflow connection id, a landing path pattern), and
reviewers should see a schema change as a diff of one YAML file. Everything downstream — raw DDL,
the GX suite JSON, extraction queries, validation, load mode — is derived from an
:class:`EntityContract`.

A contract file (``sources/contracts/<source>.yml``) looks like::

    source: metering
    raw_schema: raw_metering          # default raw_<source>
    timezone: Asia/Shanghai           # zone of the source's naive timestamps
    entities:
      - name: e_mp_day_read
        connector: files              # files | sql
        path: "metering/{date:%Y-%m-%d}/e_mp_day_read_{date:%Y%m%d}.csv.gz"
        format: csv                   # csv | excel (files only)
        encodings: [utf-8, gb18030]
        partition: day                # day | month | none (declarative range partitions)
        primary_key: [mp_id, data_date]
        event_time: coll_time
        bad_row_threshold: 0.05
        row_count: {min: 1, max: 5000000}
        columns:
          - {name: mp_id, type: text, required: true, format: mp_id}
          - {name: pap_r, type: numeric, min: 0, max: 1.0e7}

SQL entities use ``conn_id`` (an Airflow connection id) and ``table`` instead of ``path``.
``GRID_CONTRACTS_DIR`` points the loader at another folder of contracts (tests, a real site).

Further entity keys (see ``tests/fixtures/contracts/fixture.yml`` and the real contracts):

- ``mode``: how rows of an interval are selected.
  ``incremental`` (default) — by ``updated_at`` / ``event_time`` in the interval;
  ``snapshot`` — the whole table on every run (small reference tables), upserted by key so only
  changed rows are rewritten; ``changed`` — rows whose ``changed_columns`` (dates, or a
  last-change timestamp) fall in the interval, plus a full snapshot when the raw table is empty
  or on ``full_snapshot_weekday`` (0 = Monday): avoids copying 10 M customers a day while still
  catching edits that bypass those columns.
- ``lookback_days``: also select rows whose event time lies up to N days before the interval
  (insert-only tables that receive late rows, files that carry the previous day's late rows);
  such entities are upserted by key, an unchanged row is not rewritten.
- ``header_map``: source header → contract column (a legacy export with Chinese headers lands
  with the same English names); ``sheet`` picks an Excel sheet.
- ``allow_missing``: a day without any file is an empty batch, not a failure (halls are closed on
  Sundays and at 春节); the ledger records the day with 0 rows and a note.
- ``checks``: cross-column rules evaluated on a derived numeric value, e.g. the TOU registers
  must add up to the total (``difference`` of ``a`` and the sum of ``b``) or a ticket must be
  called after it was taken; they become ordinary GX ``expect_column_values_to_be_between``
  expectations on a derived ``_chk_<name>`` column.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

CONTRACTS_DIR = Path(__file__).resolve().parent / "contracts"

ColumnType = Literal["text", "integer", "bigint", "numeric", "date", "timestamp", "boolean"]
COLUMN_TYPES: tuple[str, ...] = ("text", "integer", "bigint", "numeric", "date", "timestamp", "boolean")

# Named formats usable as ``format: <name>`` (a column may also give ``regex:`` directly).
# Mobile 1[3-9]xxxxxxxxx, or a landline with a real area code (010, 02x, 0[3-9]xx), optional
# dash, no extension. The area-code shape matters: "0" + a mobile (013812345678) is a typical
# entry error that a lax 0\d{2,3}-?\d{7,8} would accept.
NAMED_FORMATS: dict[str, str] = {
    "phone": r"^(?:1[3-9]\d{9}|0(?:10|2\d|[3-9]\d{2})-?\d{7,8})$",
    "mobile": r"^1[3-9]\d{9}$",
    "cons_no": r"^\d{10}$",  # 户号: 10 digits
    "mp_id": r"^\d{10,16}$",
    "org_no": r"^\d{5,11}$",
    "id_card": r"^\d{17}[\dXx]$",
}


@dataclass(frozen=True)
class DerivedCheck:
    """A cross-column rule: ``value = a - (sum of b)`` must lie in [min, max] (nulls are skipped).

    ``unit`` (``seconds``/``days``) applies when the operands are timestamps; ``a_day: true``
    truncates ``a`` to its date; ``b_date_prefix`` reads ``b`` as a text column whose first 8
    characters are a ``YYYYMMDD`` date (a work-order number carries its creation day).
    """

    name: str
    a: str
    b: tuple[str, ...]
    min: float | None = None
    max: float | None = None
    unit: str | None = None
    a_day: bool = False
    b_date_prefix: bool = False
    description: str = ""

    @property
    def column(self) -> str:
        return f"_chk_{self.name}"


class ContractError(ValueError):
    """A contract file is malformed (unknown key, type, missing primary key, ...)."""


@dataclass(frozen=True)
class ColumnSpec:
    """One business column. ``required`` → not null; ``codes`` → value set; ``regex`` → format."""

    name: str
    type: str = "text"
    required: bool = False
    pii: bool = False
    codes: tuple[str, ...] | None = None
    regex: str | None = None
    min: float | None = None
    max: float | None = None
    in_interval: bool = False  # timestamp must fall inside the run's [start, end)
    not_future: bool = False  # timestamp must not be after the run's interval end
    description: str = ""

    @property
    def is_temporal(self) -> bool:
        return self.type in ("date", "timestamp")

    @property
    def is_numeric(self) -> bool:
        return self.type in ("integer", "bigint", "numeric")


@dataclass(frozen=True)
class EntityContract:
    """Everything the engine needs to extract, validate and load one source entity."""

    source: str
    name: str
    connector: Literal["sql", "files"]
    columns: tuple[ColumnSpec, ...]
    primary_key: tuple[str, ...]
    event_time: str | None = None
    updated_at: str | None = None
    # where it lives
    conn_id: str | None = None
    table: str | None = None  # sql: source table (optionally schema-qualified)
    path: str | None = None  # files: pattern relative to the landing dir, formatted with date=
    format: Literal["csv", "excel"] = "csv"
    sheet: str | int | None = 0
    encodings: tuple[str, ...] = ("utf-8", "gb18030")
    csv_delimiter: str = ","
    # warehouse side
    raw_schema: str = ""
    partition: Literal["day", "month", "none"] = "none"
    timezone: str = "Asia/Shanghai"
    # quality
    bad_row_threshold: float = 0.05
    bad_row_min: int = 10  # fewer bad rows than this never fail a batch (they are quarantined)
    row_count_min: int = 0
    row_count_max: int | None = None
    description: str = ""
    mode: Literal["incremental", "snapshot", "changed"] = "incremental"
    changed_columns: tuple[str, ...] = ()
    full_snapshot_weekday: int | None = None
    lookback_days: int = 0
    header_map: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    allow_missing: bool = False
    checks: tuple[DerivedCheck, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    # ---- derived --------------------------------------------------------------------------
    @property
    def key(self) -> str:
        """``<source>.<entity>``: the name used in ledgers, suites and quarantine."""
        return f"{self.source}.{self.name}"

    @property
    def raw_table(self) -> str:
        return self.name

    @property
    def quarantine_table(self) -> str:
        """Quarantine tables live in one schema, named ``<source>__<entity>`` to stay unique."""
        return f"{self.source}__{self.name}"

    @property
    def suite_name(self) -> str:
        return f"raw_{self.source}.{self.name}"

    @property
    def updatable(self) -> bool:
        """Updatable entities (work orders) are upserted by key keeping the latest ``updated_at``."""
        return self.updated_at is not None

    @property
    def upsert(self) -> bool:
        """Loaded by key instead of replacing the run date: updatable, snapshot/changed, SQL lookback.

        A file entity's lookback only widens the accepted event dates (a day's file may carry the
        previous day's late rows); the file is still the unit that a run replaces as a whole.
        """
        return (
            self.updatable
            or self.mode != "incremental"
            or (self.lookback_days > 0 and self.connector == "sql")
        )

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def pii_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.pii]

    def column(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def env_override_name(self) -> str:
        """Env var that relocates a file entity: ``GRID_SRC_<SOURCE>_<ENTITY>_PATH``."""
        return f"GRID_SRC_{self.source}_{self.name}_PATH".upper()


_COLUMN_KEYS = {f for f in ColumnSpec.__dataclass_fields__} | {"format"}
_ENTITY_KEYS = {
    "name",
    "connector",
    "columns",
    "primary_key",
    "event_time",
    "updated_at",
    "conn_id",
    "table",
    "path",
    "format",
    "sheet",
    "encodings",
    "csv_delimiter",
    "partition",
    "bad_row_threshold",
    "bad_row_min",
    "row_count",
    "description",
    "raw_schema",
    "timezone",
    "extra",
    "mode",
    "changed_columns",
    "full_snapshot_weekday",
    "lookback_days",
    "header_map",
    "allow_missing",
    "checks",
}
_CHECK_KEYS = {f for f in DerivedCheck.__dataclass_fields__}


def _bound(data: dict[str, Any], where: str) -> None:
    """Make ``min``/``max`` numbers in place.

    Why: YAML 1.1 (PyYAML) reads ``1.0e9`` (no exponent sign) as the *string* ``"1.0e9"``; a string
    bound ends up in the suite JSON, where GX happens to coerce it but the vectorised twin crashes
    comparing floats to text. Numeric strings are converted, anything else is a contract error.
    """
    for k in ("min", "max"):
        v = data.get(k)
        if v is None or (isinstance(v, int | float) and not isinstance(v, bool)):
            continue
        try:
            if not isinstance(v, str):
                raise ValueError(v)
            data[k] = float(v)
        except ValueError as exc:
            raise ContractError(f"{where}: {k} must be a number, got {v!r}") from exc


def _check(raw: dict[str, Any], names: list[str], where: str) -> DerivedCheck:
    unknown = set(raw) - _CHECK_KEYS
    if unknown:
        raise ContractError(f"{where}: unknown check keys {sorted(unknown)}")
    data = dict(raw)
    _bound(data, where)
    b = data.get("b")
    data["b"] = tuple([b] if isinstance(b, str) else (b or ()))
    chk = DerivedCheck(**data)
    for col in (chk.a, *chk.b):
        if col not in names:
            raise ContractError(f"{where}: check {chk.name!r} refers to unknown column {col!r}")
    if chk.unit not in (None, "seconds", "days"):
        raise ContractError(f"{where}: check {chk.name!r} unit must be seconds or days")
    return chk


def _column(raw: dict[str, Any], where: str) -> ColumnSpec:
    unknown = set(raw) - _COLUMN_KEYS
    if unknown:
        raise ContractError(f"{where}: unknown column keys {sorted(unknown)}")
    data = dict(raw)
    _bound(data, where)
    fmt = data.pop("format", None)
    if fmt is not None:
        if fmt not in NAMED_FORMATS:
            raise ContractError(f"{where}: unknown format {fmt!r} (known: {sorted(NAMED_FORMATS)})")
        data.setdefault("regex", NAMED_FORMATS[fmt])
    if data.get("type", "text") not in COLUMN_TYPES:
        raise ContractError(f"{where}: unknown type {data.get('type')!r} (known: {COLUMN_TYPES})")
    if data.get("codes") is not None:
        data["codes"] = tuple(str(c) for c in data["codes"])
    return ColumnSpec(**data)


def _entity(source: str, defaults: dict[str, Any], raw: dict[str, Any], where: str) -> EntityContract:
    unknown = set(raw) - _ENTITY_KEYS
    if unknown:
        raise ContractError(f"{where}: unknown entity keys {sorted(unknown)}")
    data = {**defaults, **raw}
    columns = tuple(_column(c, f"{where}.{c.get('name', '?')}") for c in data.pop("columns"))
    names = [c.name for c in columns]
    if len(set(names)) != len(names):
        raise ContractError(f"{where}: duplicate column names")
    pk = tuple(data.pop("primary_key", None) or ())
    if not pk or not set(pk) <= set(names):
        raise ContractError(f"{where}: primary_key {pk} must name contract columns")
    for ref in ("event_time", "updated_at"):
        if data.get(ref) and data[ref] not in names:
            raise ContractError(f"{where}: {ref} {data[ref]!r} is not a column")
    connector = data.get("connector")
    if connector == "sql" and not (data.get("conn_id") and data.get("table")):
        raise ContractError(f"{where}: sql entities need conn_id and table")
    if connector == "files" and not data.get("path"):
        raise ContractError(f"{where}: file entities need path")
    if connector not in ("sql", "files"):
        raise ContractError(f"{where}: connector must be sql or files")
    rc = data.pop("row_count", None) or {}
    if "encodings" in data:
        data["encodings"] = tuple(data["encodings"])
    if data.get("mode", "incremental") not in ("incremental", "snapshot", "changed"):
        raise ContractError(f"{where}: mode must be incremental, snapshot or changed")
    data["changed_columns"] = tuple(data.get("changed_columns") or ())
    if (
        data.get("mode") == "changed"
        and not data["changed_columns"]
        and data.get("full_snapshot_weekday") is None
    ):
        raise ContractError(f"{where}: mode changed needs changed_columns or full_snapshot_weekday")
    if not set(data["changed_columns"]) <= set(names):
        raise ContractError(f"{where}: changed_columns must name contract columns")
    data["checks"] = tuple(_check(c, names, f"{where}.checks") for c in data.get("checks") or ())
    hm = data.get("header_map") or {}
    if not set(hm.values()) <= set(names):
        raise ContractError(
            f"{where}: header_map targets {sorted(set(hm.values()) - set(names))} are not columns"
        )
    data["header_map"] = {str(k): str(v) for k, v in hm.items()}
    return EntityContract(
        source=source,
        columns=columns,
        primary_key=pk,
        row_count_min=int(rc.get("min", 0)),
        row_count_max=int(rc["max"]) if rc.get("max") is not None else None,
        raw_schema=data.pop("raw_schema", None) or f"raw_{source}",
        **data,
    )


def parse_contract_file(path: Path) -> list[EntityContract]:
    """Parse one ``<source>.yml`` into its entity contracts (validating every key).

    Cached by (path, mtime, size): a backfill asks for contracts once per batch, and parsing the
    YAML each time cost more than loading a small table. An edited file is re-read.
    """
    stat = path.stat()
    return list(_parse_cached(str(path), stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=64)
def _parse_cached(path_str: str, _mtime_ns: int, _size: int) -> tuple[EntityContract, ...]:
    path = Path(path_str)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    doc = yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or {}
    source = doc.get("source") or path.stem
    defaults = {k: doc[k] for k in ("raw_schema", "timezone", "conn_id", "encodings") if k in doc}
    return tuple(
        _entity(source, defaults, e, f"{path.name}:{e.get('name', '?')}") for e in doc.get("entities", [])
    )


def contracts_dir() -> Path:
    return Path(os.environ.get("GRID_CONTRACTS_DIR") or CONTRACTS_DIR)


def load_contracts(source: str | None = None, *, directory: Path | None = None) -> list[EntityContract]:
    """All entity contracts (of one ``source`` if given), from ``directory`` or the repo's folder."""
    directory = directory or contracts_dir()
    out: list[EntityContract] = []
    for path in sorted(directory.glob("*.yml")):
        out += [c for c in parse_contract_file(path) if source is None or c.source == source]
    return out


def get_contract(key: str, *, directory: Path | None = None) -> EntityContract:
    """One contract by ``<source>.<entity>``."""
    source, _, name = key.partition(".")
    for c in load_contracts(source, directory=directory):
        if c.name == name:
            return c
    raise KeyError(f"no contract {key!r} in {directory or contracts_dir()}")
