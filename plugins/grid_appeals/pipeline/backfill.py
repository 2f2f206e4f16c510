"""In-process backfill: the same task bodies the DAGs run, date by date, without a scheduler.

For the embedded default (no scheduler running) and for operators who want one command to take a
window from the source systems to the marts. Each (date, entity) is independent and idempotent, so
a failed date can simply be re-run.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from tqdm import tqdm

from grid_appeals.config import Settings, settings
from grid_appeals.pipeline.dates import day_interval, days

log = logging.getLogger(__name__)

SOURCES = ("95598", "marketing", "metering", "hall")


@dataclass
class BackfillReport:
    ok: list[tuple[date, str]] = field(default_factory=list)
    failed: list[tuple[date, str, str]] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    mart: dict | None = None

    def summary(self) -> str:
        lines = [f"{len(self.ok)} steps succeeded, {len(self.failed)} failed"]
        lines += [f"  loaded {n:>10,} rows into {k}" for k, n in sorted(self.rows.items())]
        lines += [f"  FAILED {d} {what}: {why}" for d, what, why in self.failed]
        return "\n".join(lines)


def _ingest_one(key: str, day: date, cfg: Settings) -> tuple[date, str, dict | None, str | None]:
    """One (entity, day) load in a worker process; failures come back as messages."""
    from grid_appeals.load.ingest import BatchFailed
    from grid_appeals.pipeline.ingest_tasks import ingest

    start, end = day_interval(day)
    try:
        return day, key, ingest(key, start, end, cfg=cfg, build_docs=False), None
    except BatchFailed as exc:
        return day, key, None, str(exc)


def backfill(first: date, last: date, *, sources: Sequence[str] = SOURCES, cfg: Settings | None = None,
             progress: bool = True, mart: bool = True, jobs: int = 2) -> BackfillReport:
    """Ingest every entity of ``sources`` for every day in [first, last], then (``mart``) run the
    mart step once for the whole window: text mining per day, ONE dbt build for the range, the
    propensity scores per day, the GX gate and publish."""
    from grid_appeals.sources.contracts import load_contracts

    cfg = cfg or settings()
    started = datetime.now(UTC)  # docs: render the GX results saved from here on, once, at the end
    unknown = set(sources) - set(SOURCES)
    if unknown:
        raise ValueError(f"unknown source(s) {sorted(unknown)}; choose from {SOURCES}")
    entities = [c.key for s in sources for c in load_contracts(s)]
    dates = list(days(first, last))
    report = BackfillReport()
    bar = tqdm(total=len(dates) * len(entities), unit="batch", disable=not progress)
    work = [(key, day) for day in dates for key in entities]

    def record(day: date, key: str, row: dict | None, error: str | None) -> None:
        if error is None and row is not None:
            report.ok.append((day, key))
            report.rows[key] = report.rows.get(key, 0) + int(row.get("rows_loaded", 0))
        else:
            report.failed.append((day, key, error or "unknown error"))
        bar.set_description(f"{day} {key}")
        bar.update(1)

    if jobs <= 1:
        for key, day in work:
            record(*_ingest_one(key, day, cfg))
    else:
        # batches are independent and idempotent (advisory locks serialise the same entity+day),
        # so the CPU-bound validation of different batches can use both cores
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            for result in pool.map(_ingest_one, *zip(*work, strict=True), [cfg] * len(work)):
                record(*result)
    bar.close()
    from grid_appeals.quality.data_docs import build_data_docs

    build_data_docs(cfg.deploy_dir, since=started)  # once, after the pool: no concurrent renders
    if mart and not report.failed:
        from grid_appeals.pipeline.mart_tasks import run_mart_window

        try:
            report.mart = run_mart_window(first, last, cfg=cfg)
            report.ok.append((last, "mart"))
        except Exception as exc:  # reported, not swallowed: the command exits non-zero
            log.exception("mart step failed")
            report.failed.append((last, "mart", f"{type(exc).__name__}: {exc}"))
    elif mart:
        report.failed.append((last, "mart", "skipped: some source loads failed (fix them and re-run)"))
    return report
