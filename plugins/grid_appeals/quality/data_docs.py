"""GX Data Docs of the raw loads: results saved per batch, the site rendered once per run, race-free.

Why split saving from rendering: rendering costs ~0.4 s even for one page (Jinja compiles GX's
templates per context), and concurrent loads (backfill workers, parallel Airflow tasks) that each
rendered into the same folder overwrote each other's ``index.html`` — every batch's index listed
only itself. Now a batch *saves* its GX suite results into a filesystem validation-results store
(one JSON per suite result, keyed by suite, run = the batch id, and time, so writers never touch the
same file), and the site is *built* once per backfill (after its pool finished) or once per Airflow
task, from the store, under an exclusive file lock; saves take the lock shared so a build never reads
a half-written result. The index lists the most recent :data:`INDEX_LIMIT` results of every run.

Layout under ``cfg.deploy_dir``: ``data_docs/`` (the site, open ``index.html``), ``gx_results/``
(the store), ``.data_docs.lock``.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SITE_NAME = "grid_raw"
INDEX_LIMIT = 1000
_CONTEXTS: dict[Path, Any] = {}  # one ephemeral GX context per docs root and process


def _share_compiled_templates() -> None:
    """Give every Jinja environment GX's renderers create one in-process bytecode cache.

    Why: each page/section/index view builds its own ``jinja2.Environment``, so every build
    recompiled GX's ~35 templates (~0.3 s of a ~0.35 s single-page build). A bytecode cache keys
    the compiled code by template name and source checksum; filters and globals stay each
    environment's own, so pages render exactly as before.
    """
    from great_expectations.render.view import view
    from jinja2 import BytecodeCache

    init = view.DefaultJinjaView.__init__
    if getattr(init, "_grid_shared_templates", False):
        return

    class _MemoryCache(BytecodeCache):
        def __init__(self) -> None:
            self._code: dict[str, bytes] = {}

        def load_bytecode(self, bucket: Any) -> None:
            code = self._code.get(bucket.key)
            if code is not None:
                bucket.bytecode_from_string(code)

        def dump_bytecode(self, bucket: Any) -> None:
            self._code[bucket.key] = bucket.bytecode_to_string()

    cache = _MemoryCache()

    def shared_init(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self.env.bytecode_cache = cache

    shared_init._grid_shared_templates = True  # type: ignore[attr-defined]
    view.DefaultJinjaView.__init__ = shared_init  # type: ignore[method-assign]


class DataDocs:
    """The Data Docs site and its result store below ``root`` (``cfg.deploy_dir``)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.site_dir = root / "data_docs"
        self.results_dir = root / "gx_results"
        self._context: Any = None

    @contextmanager
    def _lock(self, mode: int) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".data_docs.lock", "a+") as fh:
            fcntl.flock(fh, mode)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _ctx(self) -> Any:
        """An ephemeral context whose validation-results store is the folder, with the site
        (created once per root and process: the stores read the folders on every call)."""
        self.results_dir.mkdir(parents=True, exist_ok=True)
        self.site_dir.mkdir(parents=True, exist_ok=True)
        if self._context is None:
            self._context = _CONTEXTS.get(self.root.resolve())
        if self._context is None:
            import great_expectations as gx
            from great_expectations.data_context.types.base import (
                DataContextConfig,
                InMemoryStoreBackendDefaults,
                ProgressBarsConfig,
            )

            defaults = InMemoryStoreBackendDefaults()
            stores = dict(defaults.stores)
            stores[defaults.validation_results_store_name] = {
                "class_name": "ValidationResultsStore",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(self.results_dir),
                },
            }
            site = {
                "class_name": "SiteBuilder",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(self.site_dir),
                },
                "site_index_builder": {
                    "class_name": "DefaultSiteIndexBuilder",
                    "validation_results_limit": INDEX_LIMIT,
                },
            }
            config = DataContextConfig(
                store_backend_defaults=defaults,
                stores=stores,
                data_docs_sites={SITE_NAME: site},
                progress_bars=ProgressBarsConfig(globally=False),
            )
            self._context = gx.get_context(project_config=config, mode="ephemeral")
            _CONTEXTS[self.root.resolve()] = self._context
            _share_compiled_templates()
        return self._context

    def save(self, run_name: str, results: Iterable[Any]) -> int:
        """Store one batch's GX suite results under run ``run_name`` (the batch id); returns how many."""
        from great_expectations.core.run_identifier import RunIdentifier
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
            ValidationResultIdentifier,
        )

        results = list(results)
        if not results:
            return 0
        run_id = RunIdentifier(run_name=run_name, run_time=datetime.now(UTC))
        with self._lock(fcntl.LOCK_SH):
            store = self._ctx().validation_results_store
            for i, result in enumerate(results):
                result.meta["run_id"] = run_id
                result.meta["validation_time"] = run_id.run_time
                key = ValidationResultIdentifier(
                    expectation_suite_identifier=ExpectationSuiteIdentifier(name=result.suite_name),
                    run_id=run_id,
                    batch_identifier=f"{i:02d}",
                )
                store.set(key, result)
        return len(results)

    def build(self, run_names: Iterable[str] | None = None, *, since: datetime | None = None) -> int:
        """Render the pages of the runs ``run_names`` and/or saved at or after ``since`` (aware), plus
        the index; with neither, every stored run. Returns the number of result pages rendered.

        Never raises: docs are a convenience and must not fail a load or a backfill.
        """
        wanted = None if run_names is None else set(run_names)
        try:
            with self._lock(fcntl.LOCK_EX):
                ctx = self._ctx()
                keys = [
                    k
                    for k in ctx.validation_results_store.list_keys()
                    if (wanted is None or k.run_id.run_name in wanted)
                    and (since is None or k.run_id.run_time >= since)
                ]
                if not keys:
                    return 0
                ctx.build_data_docs(site_names=[SITE_NAME], resource_identifiers=keys)
                return len(keys)
        except Exception:
            log.warning("building GX data docs failed", exc_info=True)
            return 0


def build_data_docs(root: Path, *, since: datetime | None = None) -> int:
    """Render the site below ``root`` for the results saved since ``since`` (a backfill's start)."""
    return DataDocs(root).build(since=since)
