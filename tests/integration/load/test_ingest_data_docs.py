"""Data Docs from real loads: a task renders its own batch; a backfill saves per batch, renders once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from grid_appeals.load.ingest import ingest_entity
from grid_appeals.quality.data_docs import DataDocs, build_data_docs


def _pages(docs: DataDocs, batch_id: str) -> list[str]:
    return [str(p) for p in docs.site_dir.glob("validations/**/*.html") if f"/{batch_id}/" in str(p)]


def _stored(docs: DataDocs, batch_id: str) -> list[str]:
    return [str(p) for p in docs.results_dir.glob("**/*.json") if f"/{batch_id}/" in str(p)]


def test_task_renders_its_batch_and_backfill_renders_once(
    h, warehouse, contracts, landing, clean_entity, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("GRID_GX_DATA_DOCS", "issues")
    c = contracts["day_read"]
    clean_entity(c)
    docs = DataDocs(warehouse.deploy_dir)
    bad = f"3300000900,{h.DAY},{h.DAY} 01:00:00,-5.00,1.00,33401"  # negative: quarantined → docs wanted
    h.write_readings(landing, h.DAY, [*h.reading_rows(h.DAY, 10), bad])

    task = ingest_entity(c, *h.interval(), cfg=warehouse)  # an Airflow task: renders its own batch
    assert task.rows_quarantined == 1
    assert _stored(docs, task.batch_id) and _pages(docs, task.batch_id)
    assert task.batch_id in (docs.site_dir / "index.html").read_text(encoding="utf-8")

    started = datetime.now(UTC)
    deferred = [ingest_entity(c, *h.interval(), cfg=warehouse, build_docs=False) for _ in range(2)]
    for r in deferred:  # saved, not rendered yet
        assert _stored(docs, r.batch_id) and not _pages(docs, r.batch_id)
    assert build_data_docs(warehouse.deploy_dir, since=started) == sum(
        len(_stored(docs, r.batch_id)) for r in deferred
    )
    index = (docs.site_dir / "index.html").read_text(encoding="utf-8")
    for r in (task, *deferred):
        assert r.batch_id in index
    assert all(_pages(docs, r.batch_id) for r in deferred)


def test_clean_batch_saves_nothing_by_default(
    h, warehouse, contracts, landing, clean_entity, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("GRID_GX_DATA_DOCS", raising=False)
    c = contracts["day_read"]
    clean_entity(c)
    h.write_readings(landing, h.DAY, h.reading_rows(h.DAY, 10))
    r = ingest_entity(c, *h.interval(), cfg=warehouse)
    assert r.rows_quarantined == 0
    assert not _stored(DataDocs(warehouse.deploy_dir), r.batch_id)
