"""Contracts parse strictly; files decode as UTF-8/BOM/GB18030 and fail loudly when they cannot."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from grid_appeals.sources.batch import SchemaDriftError, check_columns
from grid_appeals.sources.contracts import ContractError, load_contracts, parse_contract_file
from grid_appeals.sources.encoding import SourceFileError, decode, gunzip
from grid_appeals.sources.sql import resolve_conn_url

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "contracts"


def test_fixture_contracts_parse_with_derived_properties():
    contracts = {c.name: c for c in load_contracts(directory=FIXTURES)}
    wkst, reads = contracts["wkst"], contracts["day_read"]
    assert wkst.updatable and not reads.updatable
    assert wkst.pii_columns == ["calling_no"]
    assert wkst.column("cust_no").regex == r"^\d{10}$"  # 户号 = 10 digits
    assert reads.raw_schema == "raw_fixture" and reads.partition == "day"
    assert reads.env_override_name() == "GRID_SRC_FIXTURE_DAY_READ_PATH"


def test_repo_contracts_parse():
    for c in load_contracts():  # whatever per-source contracts are checked in must be valid
        assert c.primary_key


@pytest.mark.parametrize(
    ("snippet", "error"),
    [
        ("columns: [{name: a, type: text, colour: red}]\n    primary_key: [a]", "unknown column keys"),
        ("columns: [{name: a, type: varchar}]\n    primary_key: [a]", "unknown type"),
        ("columns: [{name: a, format: fax}]\n    primary_key: [a]", "unknown format"),
        ("columns: [{name: a}]\n    primary_key: [b]", "primary_key"),
        ("columns: [{name: a}]\n    primary_key: [a]\n    event_time: t", "event_time"),
    ],
)
def test_malformed_contracts_are_rejected(tmp_path, snippet, error):
    path = tmp_path / "bad.yml"
    path.write_text(
        f"source: bad\nentities:\n  - name: e\n    connector: files\n    path: x.csv\n    {snippet}\n"
    )
    with pytest.raises(ContractError, match=error):
        parse_contract_file(path)


def test_decode_utf8_bom_and_gbk():
    text = "户号,名称\n3301234567,城关供电所\n"
    assert decode(text.encode(), ("utf-8", "gb18030"), "f").encoding == "utf-8"
    bom = decode(b"\xef\xbb\xbf" + text.encode(), ("utf-8", "gb18030"), "f")
    assert bom.encoding == "utf-8-sig" and bom.data.decode() == text
    gbk = decode(text.encode("gbk"), ("utf-8", "gb18030"), "f")
    assert gbk.encoding == "gb18030" and gbk.data.decode() == text


def test_gbk_not_accepted_names_file_and_position():
    with pytest.raises(SourceFileError, match=r"hall\.csv: undecodable .* at byte 0 \(line 1\)"):
        decode("户号".encode("gbk") + b"\n", ("utf-8",), "hall.csv")


def test_mixed_file_replaces_only_broken_lines():
    data = "a,城关\n".encode() + "b,东门\n".encode("gbk") + "c,西门\n".encode()
    out = decode(data, ("utf-8", "gb18030"), "f")
    assert out.replaced_lines == 1 and out.data.decode().splitlines()[2] == "c,西门"


def test_truncated_gzip_reports_offset():
    blob = gzip.compress(b"x,y\n" * 10000)
    assert gunzip(blob + gzip.compress(b"z\n"), "ok.gz").endswith(b"z\n")  # multi-member
    with pytest.raises(SourceFileError, match=r"t\.gz: truncated gzip .* compressed byte 40"):
        gunzip(blob[:40], "t.gz")


def test_schema_drift_message_names_where_and_columns():
    with pytest.raises(SchemaDriftError) as info:
        check_columns(
            ["app_no", "caller", "status", "x"],
            ["app_no", "calling_no", "status"],
            where="95598.csv",
            table="raw_95598.wkst",
        )
    msg = str(info.value)
    assert "95598.csv" in msg and "raw_95598.wkst" in msg and "calling_no → caller" in msg and "'x'" in msg
    check_columns(["b", "a"], ["a", "b"], where="f", table="t")  # order does not matter


def test_conn_id_resolution_order(cfg, monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_SRC_95598", raising=False)
    assert resolve_conn_url("src_95598", cfg) == cfg.url("src_95598")
    monkeypatch.setenv("AIRFLOW_CONN_SRC_95598", "postgresql://u:p@db:5432/wk")
    assert resolve_conn_url("src_95598", cfg) == "postgresql://u:p@db:5432/wk"
    monkeypatch.setenv(
        "AIRFLOW_CONN_SRC_95598",
        '{"conn_type": "postgres", "host": "db", "port": 5433, '
        '"login": "u", "password": "p@ss", "schema": "wk"}',
    )
    assert resolve_conn_url("src_95598", cfg) == "postgresql://u:p%40ss@db:5433/wk"
    assert resolve_conn_url("src_95598", cfg, lambda cid: f"x://{cid}") == "x://src_95598"


def test_ascii_file_is_utf8_without_decoding_and_corrupt_gzip_names_the_offset():
    assert decode(b"a,b\n1,2\n", ("utf-8",), "f").encoding == "utf-8"
    assert decode(b"a,b\n1,2\n", ("gb18030",), "f").encoding == "gb18030"  # no UTF-8 accepted: decoded
    blob = bytearray(gzip.compress(bytes(range(256)) * 4000))
    blob[200:220] = b"\xff" * 20
    with pytest.raises(SourceFileError, match=r"c\.gz: corrupt gzip data at compressed byte 0"):
        gunzip(bytes(blob), "c.gz")


@pytest.mark.parametrize("quoted", [True, False])
def test_csv_rows_with_and_without_quoted_line_breaks(tmp_path, quoted):
    """Without any quote the parser splits blocks in parallel; a quoted line break stays in its value."""
    from grid_appeals.sources.contracts import load_contracts
    from grid_appeals.sources.files import read_file

    contract = {c.name: c for c in load_contracts(directory=FIXTURES)}["terminal_event"]
    body = "".join(f"{i},台区{i},ERC13,2024-07-15 08:00:00\n" for i in range(200_000))
    tail = (
        '7,"台区\n第二行, 有逗号",ERC14,2024-07-15 09:00:00\n'
        if quoted
        else "7,台区7,ERC14,2024-07-15 09:00:00\n"
    )
    path = tmp_path / "e.csv"
    path.write_text("event_id,tg_name,erc_code,event_time\n" + body + tail, encoding="utf-8")
    frame, _, _ = read_file(path, contract)
    assert len(frame) == 200_001
    assert frame["tg_name"].iloc[-1] == ("台区\n第二行, 有逗号" if quoted else "台区7")
    assert frame["_source_row"].iloc[-1] == 200_001 and frame["event_id"].iloc[123_456] == "123456"


def test_rows_name_their_file_relative_to_the_landing_dir(tmp_path, monkeypatch):
    """``_source_file`` is stored on every row: the landing-relative name, not the deploy path;
    the batch's file list (the ledger's) keeps absolute paths; files outside keep theirs."""
    from datetime import date

    from grid_appeals.config import Settings
    from grid_appeals.sources.files import extract_files, source_label

    cfg = Settings(warehouse_url=None, db_prefix="t", var_dir=tmp_path / "var")
    contract = {c.name: c for c in load_contracts(directory=FIXTURES)}["terminal_event"]
    day = date(2024, 7, 15)
    drop = cfg.landing_dir / "metering/2024-07-15/e_event_20240715_a.csv"
    drop.parent.mkdir(parents=True)
    drop.write_text(
        "event_id,tg_name,erc_code,event_time\n1,台区1,ERC13,2024-07-15 08:00:00\n", encoding="utf-8"
    )
    batch = extract_files(contract, day, cfg)
    assert set(batch.frame["_source_file"]) == {"metering/2024-07-15/e_event_20240715_a.csv"}
    assert batch.files == [str(drop)]
    outside = tmp_path / "share" / "e_event_20240715.csv"
    assert source_label(outside, cfg) == str(outside)
    monkeypatch.setenv(contract.env_override_name(), str(outside))
    outside.parent.mkdir()
    outside.write_bytes(drop.read_bytes())
    assert set(extract_files(contract, day, cfg).frame["_source_file"]) == {str(outside)}
