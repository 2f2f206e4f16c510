"""Great Expectations 1.x, called directly: one ephemeral context per process, suites from JSON.

Why not the Airflow GX provider: it does not support GX 1.24 with Airflow 3. We validate in-process
with ``result_format=COMPLETE`` so GX returns the unexpected row indices, which become quarantine
rows.

Why one session per process (:func:`gx_session`): a context, its datasource config (re-serialised
as YAML on every asset added), the suites and the Jinja templates of the Data Docs renderer cost
~1 s per batch when rebuilt for every batch; a backfill worker or an Airflow task process now pays
that once. Suites are cached by name and content, all frames go through one whole-dataframe batch
definition, and validation runs through GX's ``Validator`` directly, so no result is serialised into
a store the batch does not need. The session keeps the batch's GX results (:meth:`take_results`);
the caller decides whether they go to the Data Docs (:mod:`grid_appeals.quality.data_docs`).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from grid_appeals.quality.outcome import Outcome

log = logging.getLogger(__name__)

RESULT_FORMAT = {
    "result_format": "COMPLETE",
    "return_unexpected_index_query": False,
    "partial_unexpected_count": 0,
    "include_unexpected_rows": False,
}

_SESSION: GxSession | None = None


def gx_session() -> GxSession:
    """The process-wide session, created on first use (GX is imported lazily, it takes seconds)."""
    global _SESSION
    if _SESSION is None:
        _SESSION = GxSession()
    return _SESSION


class GxSession:
    """An ephemeral GX context with one pandas dataframe asset, reused for every batch.

    ``docs_dir`` is accepted for callers of the per-batch API and ignored: Data Docs are rendered
    by :class:`grid_appeals.quality.data_docs.DataDocs` from the results this session hands out.
    """

    def __init__(self, docs_dir: Path | None = None) -> None:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        del docs_dir
        logging.getLogger("great_expectations").setLevel(logging.WARNING)
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        self._datasource = self.context.data_sources.add_pandas("grid")
        self._batch_definition = self._datasource.add_dataframe_asset(
            "frame"
        ).add_batch_definition_whole_dataframe("frame")
        self._suites: dict[str, Any] = {}
        self._results: list[Any] = []

    def _suite(self, name: str, expectations: list[dict[str, Any]]) -> Any:
        from great_expectations.core.expectation_suite import ExpectationSuite

        spec = [{"type": e["type"], "kwargs": e["kwargs"], "meta": e.get("meta", {})} for e in expectations]
        key = name + "\x00" + json.dumps(spec, sort_keys=True, default=str)
        suite = self._suites.get(key)
        if suite is None:
            suite = self._suites[key] = ExpectationSuite(name=name, expectations=spec)
        return suite

    def validate(
        self, name: str, expectations: list[dict[str, Any]], frame: pd.DataFrame, params: dict[str, Any]
    ) -> list[Outcome]:
        """Run ``expectations`` on ``frame`` (RangeIndex) and convert GX results to outcomes."""
        if not expectations:
            return []
        from great_expectations.validator.v1_validator import Validator

        suite = self._suite(name, expectations)
        validator = Validator(
            batch_definition=self._batch_definition,
            batch_parameters={"dataframe": frame},
            result_format=RESULT_FORMAT,
        )
        result = validator.validate_expectation_suite(suite, params)
        self._results.append(result)
        outcomes = []
        for exp, r in zip(expectations, _align(expectations, result.results), strict=True):
            res = r.result or {}
            failed = None
            if "unexpected_index_list" in res:
                failed = np.zeros(len(frame), dtype=bool)
                idx = res.get("unexpected_index_list") or []
                if idx:
                    failed[np.asarray(idx, dtype=np.int64)] = True
            exc = (r.exception_info or {}).get("exception_message") if r.exception_info else None
            outcomes.append(
                Outcome(
                    exp["type"],
                    exp["kwargs"],
                    exp.get("meta", {}),
                    success=bool(r.success),
                    unexpected_count=int(res.get("unexpected_count") or 0),
                    failed=failed,
                    observed=res.get("observed_value"),
                    engine="gx",
                    details={"exception": exc} if exc else {},
                )
            )
        return outcomes

    def take_results(self) -> list[Any]:
        """The GX suite results produced since the last call, forgotten by the session.

        Also drops the execution engine's cached batch, which would otherwise keep the last
        validated frame alive until the next batch of the process.
        """
        results, self._results = self._results, []
        manager = self._datasource.get_execution_engine().batch_manager
        manager.reset_batch_cache()
        manager.batch_data_cache.clear()
        return results


def _align(expectations: list[dict[str, Any]], results: list[Any]) -> list[Any]:
    """GX results in the order of ``expectations``.

    GX 1.x does not return results in suite order (it groups them by metric), so pairing them by
    position attributes failures to the wrong expectation: a null check would be blamed for a
    regex failure. Pair each expectation with the result whose configuration has its type and
    kwargs; GX normalises some kwargs (list order, substituted parameters, added ``batch_id``), so
    values are compared loosely and, failing that, by type and column.
    """
    import json

    def norm(value: Any) -> Any:
        if isinstance(value, list | tuple | set):
            return sorted((norm(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True, default=str))
        if isinstance(value, dict):
            return {k: norm(v) for k, v in value.items()}
        return value

    def key(kind: str, kwargs: dict[str, Any], names: Any) -> str:
        return kind + json.dumps({k: norm(kwargs.get(k)) for k in sorted(names)}, sort_keys=True, default=str)

    remaining = list(results)
    ordered = []
    for exp in expectations:
        names = exp["kwargs"].keys()
        wanted = key(exp["type"], exp["kwargs"], names)
        same_type = [r for r in remaining if r.expectation_config.type == exp["type"]]
        match = next(
            (r for r in same_type if key(exp["type"], dict(r.expectation_config.kwargs), names) == wanted),
            None,
        )
        if match is None:
            column = exp["kwargs"].get("column")
            match = next(
                (r for r in same_type if dict(r.expectation_config.kwargs).get("column") == column), None
            )
        if match is None:
            raise RuntimeError(f"GX returned no result for {exp['type']} {exp['kwargs']}")
        remaining.remove(match)
        ordered.append(match)
    return ordered
