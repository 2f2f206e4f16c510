"""Validation of one extracted batch against its suite: dedup rules, row and batch expectations.

Order matters and is deliberate:
1. exact duplicate rows collapse to one (so a doubled bad row is not quarantined twice);
2. row-level expectations run on the received rows; failing rows go to quarantine;
3. among the passing rows, duplicate keys collapse to one — for updatable entities the row with the
   latest updated-at, otherwise the last one sent — so a good row is never displaced by a bad one;
4. batch-level expectations: columns and row count on what was received, key uniqueness on what
   will be loaded, and the bad-row share against the contract's threshold.
Every row ends up in exactly one of loaded / quarantined / duplicates, which the ledger checks.

Streaming (``on_loadable``): when the twin evaluates the rows, they are checked in chunks of
``GRID_STREAM_CHUNK_ROWS`` and each chunk's rows that are sure to load — passing, and with a key
that occurs once in the batch — are handed to the loader at once, so the COPY of a large batch runs
while the rest is still being checked. Rows whose key repeats wait for the end (dedup needs all of
them); batch-level verdicts come at the end too, and the loader rolls back if one fails.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from grid_appeals.quality import vectorised
from grid_appeals.quality.gx_engine import GxSession
from grid_appeals.quality.outcome import Outcome, derived_view, key_codes, repeated_codes, typed_view
from grid_appeals.quality.outcome import key_codes as codes_of
from grid_appeals.quality.suites import INTERVAL_END, INTERVAL_START, LOOKBACK_START
from grid_appeals.sources.batch import SOURCE_FILE, SOURCE_ROW
from grid_appeals.sources.contracts import EntityContract
from grid_appeals.sources.files import has_replacement_char

ENCODING_REASON = "undecodable_line(encoding)"


GX_MAX_ROWS = 10_000


def gx_max_rows() -> int:
    """Batches up to this size are validated row by row by GX itself (``GRID_GX_MAX_ROWS``).

    Why 10 000: above it GX's row-level pass (unexpected-index lists per expectation) costs more
    than loading the rows (~1.5 s for 100 000 work orders); larger batches still get GX's verdict
    on the batch-level expectations (stored in ``ops.dq_result`` and the Data Docs) while the
    vectorised twin, which the tests hold to GX's verdicts row by row, checks the rows.
    """
    return int(os.environ.get("GRID_GX_MAX_ROWS", str(GX_MAX_ROWS)))


def rows_by_gx(received: int, gx: GxSession | None) -> bool:
    """Does GX itself evaluate the row-level expectations of a batch of ``received`` rows?"""
    return gx is not None and received <= gx_max_rows()


def stream_chunk_rows() -> int:
    """Rows checked per chunk when validation streams loadable rows (``GRID_STREAM_CHUNK_ROWS``).

    Small enough that the COPY starts after a fraction of the batch, large enough that the per-call
    cost of the ~15 vectorised checks stays negligible (65 536 measured best of 16k-256k).
    """
    return max(1, int(os.environ.get("GRID_STREAM_CHUNK_ROWS", "65536")))


def stream_chunks(rows: int) -> Iterator[tuple[int, int]]:
    """``(start, stop)`` of the chunks validation streams: 1/8 of :func:`stream_chunk_rows` first,
    doubling up to it. Why: the backend waits idle until the first chunk is checked; a small first
    chunk starts it after ~1/8 of the time (0.06 s earlier on 100 000 work orders), the full-size
    chunks that follow keep the per-chunk cost negligible."""
    size = stream_chunk_rows()
    step = max(1, size // 8)
    start = 0
    while True:
        yield start, start + step
        start += step
        if start >= rows:
            return
        step = min(size, 2 * step)


@dataclass
class ValidationReport:
    """What validation decided for a batch (indexes refer to the received frame's rows)."""

    received: int
    frame: pd.DataFrame  # the received rows (RangeIndex)
    load_rows: np.ndarray  # positions in ``frame`` of the rows to load, ascending
    quarantined: pd.DataFrame  # received rows that failed, with a ``_failures`` column (list[str])
    exact_duplicates: int
    key_duplicates: int
    outcomes: list[Outcome]
    batch_errors: list[str] = field(default_factory=list)
    engine: str = "vectorised"
    # set when GX's batch-level verdicts were deferred (``defer_gx_batch``): evaluates them, puts
    # them in ``outcomes`` in place of the twin's and recomputes ``batch_errors``
    confirm_batch: Callable[[], None] | None = None

    @property
    def duplicates(self) -> int:
        return self.exact_duplicates + self.key_duplicates

    @cached_property
    def loadable(self) -> pd.DataFrame:
        """The rows to load, sliced on first use (a streamed load never needs the slice)."""
        if len(self.load_rows) == len(self.frame):
            return self.frame
        return self.frame.take(self.load_rows).reset_index(drop=True)


def interval_parameters(start_local: datetime, end_local: datetime, lookback_days: int = 0) -> dict[str, Any]:
    """Suite parameters of one run: the interval and its start widened by the entity's lookback."""
    return {
        INTERVAL_START: pd.Timestamp(start_local),
        INTERVAL_END: pd.Timestamp(end_local),
        LOOKBACK_START: pd.Timestamp(start_local) - pd.Timedelta(days=lookback_days),
    }


def _row_outcomes(
    suite: dict[str, Any],
    frame: pd.DataFrame,
    contract: EntityContract,
    params: dict[str, Any],
    gx: GxSession | None,
    on_typed: Callable[[pd.DataFrame], None] | None = None,
) -> list[Outcome]:
    row_exps = [e for e in suite["expectations"] if e.get("meta", {}).get("level") == "row"]
    matches: dict[tuple[str, str], np.ndarray] = {}
    typed, cast_failed = typed_view(frame, contract, matches)
    if on_typed is not None:
        on_typed(typed)
    derived = derived_view(frame, typed, contract)
    if gx is None:
        typed_all = pd.concat([typed, derived], axis=1) if len(derived.columns) else typed
        return [vectorised.evaluate_row(e, frame, typed_all, cast_failed, params, matches) for e in row_exps]
    text_exps = [e for e in row_exps if e["meta"].get("view") == "text"]
    typed_exps = [e for e in row_exps if e["meta"].get("view") == "typed"]
    derived_exps = [e for e in row_exps if e["meta"].get("view") == "derived"]
    business = frame[contract.column_names]
    outcomes = gx.validate(f"{suite['name']}.rows.text", text_exps, business, params)
    outcomes += gx.validate(f"{suite['name']}.rows.typed", typed_exps, typed[contract.column_names], params)
    outcomes += gx.validate(f"{suite['name']}.rows.derived", derived_exps, derived, params)
    for o in outcomes:  # values that look right but do not cast (2024-02-30) fail the type check
        col = o.kwargs.get("column")
        if o.meta.get("check") == "type" and col in cast_failed and o.failed is not None:
            o.failed = o.failed | cast_failed[col]
            o.unexpected_count = int(o.failed.sum())
            o.success = o.unexpected_count == 0
    return outcomes


def _failure_labels(
    outcomes: list[Outcome], n: int, extra: dict[str, np.ndarray]
) -> tuple[np.ndarray, pd.Series]:
    """Combined mask and, for failing rows only, the list of failed expectation labels."""
    masks = [(o.reason, o.failed) for o in outcomes if o.failed is not None and o.unexpected_count]
    masks += [(k, m) for k, m in extra.items() if m.any()]
    failed = np.zeros(n, dtype=bool)
    for _, m in masks:
        failed |= m
    idx = np.flatnonzero(failed)
    labels = pd.Series([[] for _ in range(len(idx))], index=idx, dtype=object)
    for reason, m in masks:
        for i in np.flatnonzero(m):
            labels.at[i].append(reason)
    return failed, labels


def _exact_duplicates(
    frame: pd.DataFrame, contract: EntityContract, codes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Rows equal in every business column to an earlier row (``codes``: the rows' primary keys),
    and the mask of rows whose key occurs more than once.

    Equal rows have equal keys, so only rows whose key repeats are compared column by column —
    usually a handful, instead of hashing every row of the batch.
    """
    exact = np.zeros(len(frame), dtype=bool)
    repeated = repeated_codes(codes)
    candidates = np.flatnonzero(repeated)
    if len(candidates):
        full = key_codes(frame.take(candidates), contract.column_names)
        exact[candidates] = pd.Series(full).duplicated(keep="first").to_numpy()
    return exact, repeated


def _merge_chunks(chunks: list[list[Outcome]]) -> list[Outcome]:
    """Row-level outcomes of consecutive chunks as the outcomes of the whole frame."""
    merged = []
    for parts in zip(*chunks, strict=True):
        first = parts[0]
        failed = np.concatenate([o.failed for o in parts]) if first.failed is not None else None
        n = sum(o.unexpected_count for o in parts)
        merged.append(
            Outcome(
                first.expectation_type,
                first.kwargs,
                first.meta,
                success=n == 0,
                unexpected_count=n,
                failed=failed,
                engine=first.engine,
            )
        )
    return merged


def _streamed_row_outcomes(
    suite: dict[str, Any],
    frame: pd.DataFrame,
    contract: EntityContract,
    params: dict[str, Any],
    held: np.ndarray,
    extra: np.ndarray | None,
    on_loadable: Callable[[np.ndarray], None],
    on_typed: Callable[[int, pd.DataFrame], None] | None = None,
) -> list[Outcome]:
    """The twin's row outcomes over ``frame``, chunk by chunk; after each chunk its passing rows
    not ``held`` (key repeats) go to ``on_loadable`` (after its typed view to ``on_typed(start,
    view)``). Row rules are row-local, so the merged outcomes equal a whole-frame evaluation."""
    chunks = []
    for start, stop in stream_chunks(len(frame)):
        part = frame.iloc[start:stop]
        hand_over = None if on_typed is None else (lambda typed, at=start: on_typed(at, typed))
        outcomes = _row_outcomes(suite, part, contract, params, None, hand_over)
        chunks.append(outcomes)
        bad = held[start:stop].copy()
        if extra is not None:
            bad |= extra[start:stop]
        for o in outcomes:
            if o.failed is not None and o.unexpected_count:
                bad |= o.failed
        ready = np.flatnonzero(~bad)
        if len(ready):
            on_loadable(ready + start)
    return _merge_chunks(chunks)


def _dedup_positions(
    frame: pd.DataFrame, rows: np.ndarray, codes: np.ndarray, contract: EntityContract
) -> np.ndarray:
    """Of the passing ``rows`` (positions in ``frame``, ascending; ``codes`` their keys) those that
    stay: one per key — the latest updated-at for updatable entities, else the last one sent."""
    dup = repeated_codes(codes)
    if not dup.any():
        return rows
    if not contract.updated_at:
        return rows[~pd.Series(codes).duplicated(keep="last").to_numpy()]
    # only rows sharing a key compete; the order is parsed for those alone
    sub = frame.take(rows[dup])
    order = pd.to_datetime(sub[contract.updated_at], format="ISO8601", errors="coerce")
    ranked = pd.DataFrame(
        {"k": codes[dup], "o": order.to_numpy(), "r": sub[SOURCE_ROW].to_numpy(), "p": rows[dup]}
    ).sort_values(["o", "r"], kind="stable", na_position="first")
    winners = ranked["p"].to_numpy()[~ranked["k"].duplicated(keep="last").to_numpy()]
    return np.sort(np.concatenate([rows[~dup], winners]))


def validate_batch(
    frame: pd.DataFrame,
    contract: EntityContract,
    suite: dict[str, Any],
    start_local: datetime,
    end_local: datetime,
    *,
    gx: GxSession | None = None,
    encoding_suspect: bool = False,
    on_loadable: Callable[[np.ndarray], None] | None = None,
    on_typed: Callable[[int, pd.DataFrame], None] | None = None,
    defer_gx_batch: bool = False,
) -> ValidationReport:
    """Apply the dedup rules and the suite to ``frame`` (see module doc); never raises on bad data.

    Row positions are tracked as integer arrays into the received frame, which is sliced once for
    the quarantined rows and, if asked for, once for the loadable ones (``report.loadable``):
    slicing a million rows of text costs ~0.1 s per column on this hardware.

    ``on_loadable(positions)``: receives, before this returns, the position in ``frame`` of every
    row in ``report.load_rows`` exactly once (ascending within a call), streamed chunk by chunk
    when the twin checks the rows (see module doc), else in one call at the end; never called when
    a received-stage batch expectation failed (the batch is rejected). Its exceptions propagate.
    ``on_typed(start, view)``: when rows are streamed, each chunk's typed view (numbers and
    dates as cast for the checks; rows ``start`` …) before its rows go to ``on_loadable``.
    ``defer_gx_batch``: when GX evaluates only the batch-level expectations (a batch above
    :func:`gx_max_rows`), the twin's verdicts decide here and GX's are left to
    ``report.confirm_batch()`` — the loader runs it while the backend finishes the COPY, and
    rejects the batch if GX fails it. Why: GX's ~0.15 s per million rows is then off the load's
    critical path (the Python side is otherwise idle until the backend has caught up).
    """
    params = interval_parameters(start_local, end_local, contract.lookback_days)
    received = len(frame)
    frame = frame.reset_index(drop=True)
    # Row-level expectations run in GX up to gx_max_rows; above it the vectorised twin evaluates
    # them from the same suite JSON. Batch-level expectations always run in GX: above the limit on
    # narrow projections (see _gx_batch), because GX fingerprints whatever frame it is handed
    # (pandas hashing of every cell, ~3 s per million rows of 8 string columns).
    gx_batch = gx
    use_gx_rows = rows_by_gx(received, gx)
    gx = gx if use_gx_rows else None
    deferred = gx_batch if defer_gx_batch and not use_gx_rows else None
    if deferred is not None:
        gx_batch = None  # the twin decides now; GX confirms in report.confirm_batch

    batch_received = [
        e
        for e in suite["expectations"]
        if e["meta"].get("level") == "batch" and e["meta"].get("stage") == "received"
    ]

    def gx_received(session: GxSession) -> list[Outcome]:  # narrow projections: columns, row count
        return _gx_batch(session, f"{suite['name']}.received", batch_received, frame, contract, None, params)

    if gx is not None:
        outcomes = gx.validate(
            f"{suite['name']}.received", batch_received, frame[contract.column_names], params
        )
    elif gx_batch is not None:
        outcomes = gx_received(gx_batch)
    else:
        outcomes = [vectorised.evaluate_batch(e, frame) for e in batch_received]

    # factorise the key once (the costly part on a million rows): exact duplicates, dedup and the
    # uniqueness check below then work on integer codes
    all_codes = key_codes(frame, list(contract.primary_key))
    exact, repeated = _exact_duplicates(frame, contract, all_codes)
    kept_rows = np.flatnonzero(~exact)  # positions (in frame) of the unique rows
    bad_encoding = (
        has_replacement_char(frame, contract.column_names).to_numpy(dtype=bool) if encoding_suspect else None
    )
    if not all(o.success for o in outcomes):
        on_loadable = None  # wrong columns or row count: the batch is rejected, send nothing
    streamed = on_loadable is not None and not use_gx_rows
    if use_gx_rows:  # GX evaluates exactly the unique rows
        unique = frame.take(kept_rows).reset_index(drop=True) if exact.any() else frame
        row_outcomes = _row_outcomes(suite, unique, contract, params, gx)
    else:  # row-local rules: evaluate every received row once, keep the unique rows' verdicts
        if streamed:
            row_outcomes = _streamed_row_outcomes(
                suite, frame, contract, params, repeated, bad_encoding, on_loadable, on_typed
            )
        else:
            row_outcomes = _row_outcomes(suite, frame, contract, params, None)
        if exact.any():
            for o in row_outcomes:
                if o.failed is not None:
                    o.failed = o.failed[kept_rows]
                    o.unexpected_count = int(o.failed.sum())
                    o.success = o.unexpected_count == 0
    n_unique = len(kept_rows)
    extra = {}
    if bad_encoding is not None:
        extra[ENCODING_REASON] = bad_encoding[kept_rows]
    failed, labels = _failure_labels(row_outcomes, n_unique, extra)
    quarantined = frame.take(kept_rows[failed]).reset_index(drop=True)
    quarantined = quarantined.assign(_failures=labels.to_numpy() if len(labels) else [])
    good_rows = kept_rows[~failed]
    load_rows = _dedup_positions(frame, good_rows, all_codes[good_rows], contract)
    loaded_codes = all_codes[load_rows]
    key_dups = len(good_rows) - len(load_rows)
    if on_loadable is not None:  # the rest: all rows (not streamed), or the repeated keys' winners
        rest = load_rows[repeated[load_rows]] if streamed else load_rows
        if len(rest):
            on_loadable(rest)

    batch_loaded = [
        e
        for e in suite["expectations"]
        if e["meta"].get("level") == "batch" and e["meta"].get("stage") == "loaded"
    ]
    report = ValidationReport(
        received=received,
        frame=frame,
        load_rows=load_rows,
        quarantined=quarantined,
        exact_duplicates=int(exact.sum()),
        key_duplicates=key_dups,
        outcomes=outcomes,
        engine="gx"
        if use_gx_rows
        else ("gx(batch)+vectorised(rows)" if (gx_batch or deferred) is not None else "vectorised"),
    )

    def gx_loaded(session: GxSession) -> list[Outcome]:  # narrow projections: count, columns, key codes
        name = f"{suite['name']}.loaded"
        return _gx_batch(
            session, name, batch_loaded, frame, contract, loaded_codes, params, n_rows=len(load_rows)
        )

    if use_gx_rows:
        outcomes += gx.validate(  # type: ignore[union-attr]
            f"{suite['name']}.loaded", batch_loaded, report.loadable[contract.column_names], params
        )
    elif gx_batch is not None:
        outcomes += gx_loaded(gx_batch)
    else:
        outcomes += [
            vectorised.evaluate_batch(e, frame, key_codes=loaded_codes, n_rows=len(load_rows))
            for e in batch_loaded
        ]
    n_batch = len(outcomes)
    outcomes += row_outcomes
    report.batch_errors = _batch_errors(outcomes, quarantined, n_unique, contract)
    if deferred is not None:

        def confirm_batch() -> None:
            report.outcomes[:n_batch] = gx_received(deferred) + gx_loaded(deferred)
            report.batch_errors = _batch_errors(report.outcomes, quarantined, n_unique, contract)
            report.confirm_batch = None

        report.confirm_batch = confirm_batch
    return report


def _batch_errors(
    outcomes: list[Outcome], quarantined: pd.DataFrame, n_unique: int, contract: EntityContract
) -> list[str]:
    """Why the batch is rejected: failed batch-level expectations, bad-row share over the contract's."""
    errors = [_batch_error(o, contract) for o in outcomes if o.level == "batch" and not o.success]
    share = len(quarantined) / max(n_unique, 1)
    # a share is meaningless on a handful of rows (1 bad of 2 changed customers is 50 %): a batch
    # fails only when it is both above the share AND above the contract's absolute floor
    if len(quarantined) >= contract.bad_row_min and share > contract.bad_row_threshold:
        errors.append(
            f"bad-row share {share:.1%} ({len(quarantined)} of {n_unique} rows) exceeds the "
            f"contract threshold {contract.bad_row_threshold:.1%} for {contract.key}; top reasons: "
            + _top_reasons(quarantined)
        )
    return errors


def _gx_batch(
    gx: GxSession,
    name: str,
    exps: list[dict[str, Any]],
    frame: pd.DataFrame,
    contract: EntityContract,
    key_codes: np.ndarray | None,
    params: dict[str, Any],
    *,
    n_rows: int | None = None,
) -> list[Outcome]:
    """Batch-level expectations evaluated by GX on narrow projections of a large batch.

    ``n_rows``: the row count to check when ``frame`` holds more rows than the stage (the loaded
    rows are a subset of the received frame, whose columns are theirs; they are not sliced).

    What GX sees: the column set on a zero-row frame with the batch's columns; the row count on a
    one-column int8 frame of the batch's length; key uniqueness on the factorised key (one int64
    per row — equal keys ⇔ equal codes, so the compound-key expectation is evaluated as
    ``expect_column_values_to_be_unique`` on that column and reported under the suite's own
    expectation). Same verdicts, but GX hashes 1–8 bytes per row instead of every string cell.
    """
    out: list[Outcome] = []
    n = len(frame) if n_rows is None else n_rows
    for e in exps:
        etype = e["type"]
        if etype == "expect_table_columns_to_match_set":
            view = frame[[c for c in frame.columns if not str(c).startswith("_")]].iloc[:0]
            out += gx.validate(f"{name}.columns", [e], view, params)
        elif etype == "expect_table_row_count_to_be_between":
            out += gx.validate(f"{name}.rows", [e], pd.DataFrame({"_row": np.zeros(n, np.int8)}), params)
        elif etype in ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"):
            codes = key_codes if key_codes is not None else codes_of(frame, list(contract.primary_key))
            proxy = {
                "type": "expect_column_values_to_be_unique",
                "kwargs": {"column": "_key"},
                "meta": e.get("meta", {}),
            }
            [o] = gx.validate(
                f"{name}.key", [proxy], pd.DataFrame({"_key": np.asarray(codes, np.int64)}), params
            )
            o.expectation_type, o.kwargs = etype, e["kwargs"]
            o.details["evaluated_on"] = "factorised key codes"
            out.append(o)
        else:
            out.append(vectorised.evaluate_batch(e, frame, key_codes=key_codes, n_rows=n_rows))
    return out


def _batch_error(o: Outcome, contract: EntityContract) -> str:
    if o.expectation_type == "expect_table_row_count_to_be_between":
        return (
            f"{contract.key}: row count {o.observed} outside the expected "
            f"[{o.kwargs.get('min_value')}, {o.kwargs.get('max_value')}]"
        )
    if o.expectation_type == "expect_table_columns_to_match_set":
        return f"{contract.key}: columns {o.observed} do not match the contract {o.kwargs.get('column_set')}"
    detail = o.details.get("exception") or f"{o.unexpected_count} unexpected"
    return f"{contract.key}: {o.expectation_type}({o.column}) failed: {detail}"


def _top_reasons(quarantined: pd.DataFrame, k: int = 3) -> str:
    counts = pd.Series([r for rs in quarantined["_failures"] for r in rs]).value_counts().head(k)
    return ", ".join(f"{r} ×{n}" for r, n in counts.items())


def quarantine_records(report: ValidationReport, contract: EntityContract) -> pd.DataFrame:
    """Quarantine rows: original values (as sent, by column), failures, source file and row."""
    q = report.quarantined
    return pd.DataFrame(
        {
            "row": q[contract.column_names].to_dict(orient="records") if len(q) else [],
            "failures": list(q["_failures"]) if len(q) else [],
            SOURCE_FILE: q[SOURCE_FILE].to_numpy() if len(q) else [],
            SOURCE_ROW: q[SOURCE_ROW].to_numpy() if len(q) else [],
        }
    )
