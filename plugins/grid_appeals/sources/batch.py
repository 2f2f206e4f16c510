"""The extracted batch: every source, SQL or file, arrives as the same string-typed frame.

Why strings: validation must see the value exactly as the source sent it (a phone with a letter,
a date like 2024-02-30, a 户号 with 9 digits) so that quarantine can keep the original, and the
final cast to warehouse types happens once, in Postgres, from text that already passed the checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

SOURCE_FILE = "_source_file"
SOURCE_ROW = "_source_row"
# pyarrow parses CSV blocks on all cores: 4 MB blocks keep both busy (16 MB left one idle on a
# 60 MB day of readings: 0.21 s instead of 0.08 s)
CSV_BLOCK_BYTES = 1 << 22


class SchemaDriftError(RuntimeError):
    """The source's columns differ from the contract: the batch fails and nothing loads."""


@dataclass
class ExtractedBatch:
    """Business columns (contract order, str dtype, nulls as NaN) plus ``_source_file``/``_source_row``.

    ``_source_row`` is the 1-based data row number in its file (header excluded), or the row's
    ordinal in the SQL result; ``files`` lists what was read, ``notes`` how (encodings, ...).
    """

    frame: pd.DataFrame
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    encoding_replaced_rows: int = 0

    @property
    def rows(self) -> int:
        return len(self.frame)


def constant_column(value: str, n: int) -> pd.Categorical:
    """``value`` on ``n`` rows as a one-category categorical (lineage such as the source file).

    Why: a plain string column repeats a full file path a million times — building it, and every
    slice of the batch afterwards, copies all of them; the categorical is one byte per row.
    """
    return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[value])


def read_csv_strings(
    data: bytes,
    names: list[str],
    *,
    skip_rows: int = 0,
    delimiter: str = ",",
    quoted_null: bool = True,
    null_values: list[str] | None = None,
) -> pd.DataFrame:
    """CSV bytes as a frame of string columns ``names`` (no type guessing: a 户号 keeps its zeros).

    Parsed by pyarrow from a zero-copy buffer (blocks read without the GIL) in
    :data:`CSV_BLOCK_BYTES` blocks on all cores, as ``large_string`` (pandas' storage: no cast).
    The columns stay chunked by block: combining them copied the whole batch into fresh memory
    (0.02-0.25 s per million readings, page faults included), while the validation and encoding
    kernels only ever combine the slice they work on (a stream chunk spans at most two blocks).
    ``quoted_null``: does ``""`` read as null too; ``null_values``: pyarrow's defaults when None.
    Raises ``pyarrow.ArrowInvalid``.
    """
    table = pacsv.read_csv(
        pa.BufferReader(data),
        read_options=pacsv.ReadOptions(column_names=names, skip_rows=skip_rows, block_size=CSV_BLOCK_BYTES),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=may_quote_newlines(data)),
        convert_options=pacsv.ConvertOptions(
            column_types={c: pa.large_string() for c in names},
            strings_can_be_null=True,
            quoted_strings_can_be_null=quoted_null,
            **({} if null_values is None else {"null_values": null_values}),
        ),
    )
    return table.to_pandas()


def may_quote_newlines(data: bytes) -> bool:
    """Could a value in this CSV hold a line break? Only inside quotes, so not without a ``"``.

    Why ask: pyarrow's ``newlines_in_values`` chunker must track quotes serially; without any quote
    in the data a newline always ends a row and blocks are split and parsed in parallel.
    """
    return b'"' in data


def check_columns(found: list[str], expected: list[str], *, where: str, table: str) -> None:
    """Raise :class:`SchemaDriftError` naming file/table and the missing, extra, renamed columns."""
    found_set, expected_set = set(found), set(expected)
    if found_set == expected_set and len(found) == len(expected):
        return
    missing = [c for c in expected if c not in found_set]
    extra = [c for c in found if c not in expected_set]
    dupes = sorted({c for c in found if found.count(c) > 1})
    parts = []
    # a missing column whose position now holds an unexpected one was probably renamed
    renamed = [(m, found[i]) for m in missing if (i := expected.index(m)) < len(found) and found[i] in extra]
    if renamed:
        parts.append("renamed column(s)? " + ", ".join(f"{m} → {e}" for m, e in renamed))
    if missing:
        parts.append(f"missing column(s) {missing}")
    if extra:
        parts.append(f"unexpected column(s) {extra}")
    if dupes:
        parts.append(f"duplicated column(s) {dupes}")
    raise SchemaDriftError(f"schema drift in {where} for table {table}: " + "; ".join(parts))


def normalise_header(name: object) -> str:
    """Source headers are matched case- and space-insensitively (APP_NO == app_no)."""
    return str(name).replace("\ufeff", "").strip().lower()
