"""Great Expectations 1.x, called directly: ephemeral context, pandas datasource, suite from JSON.

Why not the Airflow GX provider: it does not support GX 1.24 with Airflow 3. We validate in-process
with ``result_format=COMPLETE`` so GX returns the unexpected row indices, which become quarantine
rows. Data Docs are built into ``cfg.deploy_dir / "data_docs"`` from the same context.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from grid_appeals.quality.outcome import Outcome

log = logging.getLogger(__name__)

RESULT_FORMAT = {"result_format": "COMPLETE", "return_unexpected_index_query": False,
                 "partial_unexpected_count": 0, "include_unexpected_rows": False}


class GxSession:
    """One ephemeral GX context per batch: suites, a pandas datasource, optional Data Docs site."""

    def __init__(self, docs_dir: Path | None = None) -> None:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        logging.getLogger("great_expectations").setLevel(logging.WARNING)
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        self.datasource = self.context.data_sources.add_pandas(f"grid_{uuid.uuid4().hex[:8]}")
        self.docs_dir = docs_dir
        if docs_dir is not None:
            docs_dir.mkdir(parents=True, exist_ok=True)
            self.context.add_data_docs_site(site_name="grid_raw", site_config={
                "class_name": "SiteBuilder",
                "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                                  "base_directory": str(docs_dir)},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            })

    def validate(self, name: str, expectations: list[dict[str, Any]], frame: pd.DataFrame,
                 params: dict[str, Any]) -> list[Outcome]:
        """Run ``expectations`` on ``frame`` (RangeIndex) and convert GX results to outcomes."""
        if not expectations:
            return []
        from great_expectations import ValidationDefinition
        from great_expectations.core.expectation_suite import ExpectationSuite

        suite = self.context.suites.add(ExpectationSuite(
            name=name, expectations=[{"type": e["type"], "kwargs": e["kwargs"], "meta": e.get("meta", {})}
                                     for e in expectations]))
        asset = self.datasource.add_dataframe_asset(name)
        batch_def = asset.add_batch_definition_whole_dataframe(name)
        vd = self.context.validation_definitions.add(ValidationDefinition(name=name, data=batch_def, suite=suite))
        result = vd.run(batch_parameters={"dataframe": frame}, expectation_parameters=params,
                        result_format=RESULT_FORMAT)
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
            outcomes.append(Outcome(
                exp["type"], exp["kwargs"], exp.get("meta", {}), success=bool(r.success),
                unexpected_count=int(res.get("unexpected_count") or 0), failed=failed,
                observed=res.get("observed_value"), engine="gx",
                details={"exception": exc} if exc else {}))
        return outcomes

    def build_docs(self) -> None:
        if self.docs_dir is None:
            return
        try:
            self.context.build_data_docs(site_names=["grid_raw"])
        except Exception:  # docs are a convenience: never fail a load because rendering failed
            log.warning("building GX data docs failed", exc_info=True)


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
        match = next((r for r in same_type
                      if key(exp["type"], dict(r.expectation_config.kwargs), names) == wanted), None)
        if match is None:
            column = exp["kwargs"].get("column")
            match = next((r for r in same_type if dict(r.expectation_config.kwargs).get("column") == column), None)
        if match is None:
            raise RuntimeError(f"GX returned no result for {exp['type']} {exp['kwargs']}")
        remaining.remove(match)
        ordered.append(match)
    return ordered
