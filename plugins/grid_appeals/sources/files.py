"""File connector: the day's drops (gzip CSV, GBK CSV, Excel workbooks) read into one string frame.

Where files live is configuration: the contract's ``path`` is a pattern relative to the landing dir,
formatted with ``date=`` (the run's local date) and may contain glob characters (one workbook per
hall); ``GRID_SRC_<SOURCE>_<ENTITY>_PATH`` overrides the pattern (absolute, or relative to the
landing dir) so a real landing share is switched in without editing the repo. CSV is parsed with
pyarrow's multi-threaded reader into string columns (no type guessing: a 户号 keeps its leading
zeros); Excel with pandas' calamine engine.
"""

from __future__ import annotations

import csv
import glob
import os
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from grid_appeals.config import Settings
from grid_appeals.sources.batch import (
    SOURCE_FILE,
    SOURCE_ROW,
    ExtractedBatch,
    check_columns,
    constant_column,
    normalise_header,
    read_csv_strings,
)
from grid_appeals.sources.contracts import EntityContract
from grid_appeals.sources.encoding import REPLACEMENT, SourceFileError, decode, read_bytes


def path_pattern(contract: EntityContract) -> str:
    return os.environ.get(contract.env_override_name()) or contract.path or ""


def resolve_paths(contract: EntityContract, data_date: date, cfg: Settings) -> list[Path]:
    """The existing files of ``data_date`` (sorted), or an error naming the pattern searched."""
    pattern = path_pattern(contract).format(date=data_date)
    full = Path(pattern) if Path(pattern).is_absolute() else cfg.landing_dir / pattern
    paths = sorted(Path(p) for p in glob.glob(str(full)))
    if not paths:
        raise SourceFileError(f"no file for {contract.key} on {data_date}: nothing matches {full}")
    return paths


def _map_header(header: list[str], contract: EntityContract) -> list[str]:
    """Normalised source headers renamed through the contract's ``header_map`` (legacy exports)."""
    mapping = {normalise_header(k): v for k, v in contract.header_map.items()}
    return [mapping.get(h, h) for h in (normalise_header(x) for x in header)]


def _csv_frame(data: bytes, contract: EntityContract, name: str) -> tuple[pd.DataFrame, list[str]]:
    end = data.find(b"\n")  # not split(): that would copy the whole rest of the file
    first_line = (data if end < 0 else data[:end]).decode("utf-8", errors="replace").rstrip("\r")
    header = next(csv.reader([first_line], delimiter=contract.csv_delimiter), [])
    header = _map_header(header, contract)
    if not header or header == [""]:
        raise SourceFileError(f"{name}: empty file (no header line)")
    check_columns(
        header, contract.column_names, where=name, table=f"{contract.raw_schema}.{contract.raw_table}"
    )
    try:
        frame = read_csv_strings(
            data, header, skip_rows=1, delimiter=contract.csv_delimiter, null_values=[""]
        )
    except pa.ArrowInvalid as exc:
        raise SourceFileError(f"{name}: malformed CSV: {exc}") from exc
    return frame, header


def _excel_frame(path: Path, contract: EntityContract) -> tuple[pd.DataFrame, list[str]]:
    try:
        frame = pd.read_excel(path, engine="calamine", sheet_name=contract.sheet, dtype=str)
    except Exception as exc:  # calamine raises its own error types for corrupt workbooks
        raise SourceFileError(f"{path}: unreadable workbook: {exc}") from exc
    header = _map_header(list(frame.columns), contract)
    check_columns(
        header, contract.column_names, where=str(path), table=f"{contract.raw_schema}.{contract.raw_table}"
    )
    frame.columns = header
    frame = frame.replace("", np.nan).astype("str").where(frame.notna())
    return frame, header


def source_label(path: Path, cfg: Settings) -> str:
    """The file as its rows name it in ``_source_file``: relative to the landing dir when under it.

    Why not the absolute path: it is stored on every row, and a deploy directory's path (~90
    bytes) made a day of a million readings 205 MB instead of 167 MB, and its COPY as much longer; the ledger (``ops.load_log.files``) keeps the absolute paths of the batch. Relative names
    are also the same on every machine that loads the same drop. Files outside the landing dir (an
    absolute ``GRID_SRC_..._PATH`` override) keep their absolute path.
    """
    try:
        return path.resolve().relative_to(cfg.landing_dir.resolve()).as_posix()
    except ValueError:
        return str(path)


def read_file(
    path: Path, contract: EntityContract, label: str | None = None
) -> tuple[pd.DataFrame, str, int]:
    """One file as a frame in contract column order; returns (frame, encoding, replaced lines).

    ``label``: the ``_source_file`` of its rows (default: the path as given)."""
    if contract.format == "excel":
        frame, _ = _excel_frame(path, contract)
        encoding, replaced = "xlsx", 0
    else:
        raw = read_bytes(path)
        if not raw or raw.isspace():
            raise SourceFileError(f"{path}: empty file (0 data bytes)")
        text = decode(raw, contract.encodings, str(path))
        frame, _ = _csv_frame(text.data, contract, str(path))
        encoding, replaced = text.encoding, text.replaced_lines
    frame = frame[contract.column_names]
    frame[SOURCE_FILE] = constant_column(label or str(path), len(frame))
    frame[SOURCE_ROW] = np.arange(1, len(frame) + 1, dtype=np.int64)
    return frame, encoding, replaced


def extract_files(contract: EntityContract, data_date: date, cfg: Settings) -> ExtractedBatch:
    """All of the day's files for the entity, concatenated; fails on the first unreadable file."""
    frames, notes, replaced = [], [], 0
    try:
        paths = resolve_paths(contract, data_date, cfg)
    except SourceFileError as exc:
        if not contract.allow_missing:
            raise
        empty = pd.DataFrame({c: pd.Series([], dtype=object) for c in contract.column_names})
        empty[SOURCE_FILE] = pd.Series([], dtype=object)
        empty[SOURCE_ROW] = pd.Series([], dtype=np.int64)
        return ExtractedBatch(empty, files=[], notes=[f"{exc} (allowed: loaded as an empty day)"])
    for path in paths:
        frame, encoding, bad = read_file(path, contract, source_label(path, cfg))
        frames.append(frame)
        notes.append(
            f"{path.name}: {len(frame)} rows, {encoding}"
            + (f", {bad} undecodable line(s) replaced" if bad else "")
        )
        replaced += bad
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return ExtractedBatch(frame, files=[str(p) for p in paths], notes=notes, encoding_replaced_rows=replaced)


def has_replacement_char(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """Rows holding U+FFFD, i.e. lines that were not valid in the file's encoding."""
    mask = pd.Series(False, index=frame.index)
    for c in columns:
        mask |= frame[c].str.contains(REPLACEMENT, regex=False).fillna(False).astype(bool)
    return mask
