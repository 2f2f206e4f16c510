"""The process-wide GX session is reused across batches without keeping them alive, and Data Docs
are saved per batch and rendered once, race-free, with every run in the index."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import textwrap
import time
import weakref
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from grid_appeals.quality.data_docs import DataDocs, build_data_docs
from grid_appeals.quality.gx_engine import gx_session

BETWEEN = [
    {
        "type": "expect_column_values_to_be_between",
        "kwargs": {"column": "a", "min_value": 0, "max_value": 5},
        "meta": {"level": "row"},
    }
]


def test_session_is_reused_and_forgets_each_batch():
    session = gx_session()
    assert gx_session() is session
    refs = []
    for n in (10, 20):
        frame = pd.DataFrame({"a": np.arange(float(n))})
        [outcome] = session.validate("unit.session", BETWEEN, frame, {})
        assert outcome.unexpected_count == n - 6  # 6..n-1 are above 5
        assert outcome.failed is not None and outcome.failed[6:].all() and not outcome.failed[:6].any()
        refs.append(weakref.ref(frame))
        assert len(session.take_results()) == 1
        assert session.take_results() == []
        del frame
    gc.collect()
    assert [r() for r in refs] == [None, None]  # GX's batch cache must not pin a batch's frame


def test_changed_suite_under_the_same_name_is_not_served_from_the_cache():
    session = gx_session()
    frame = pd.DataFrame({"a": np.arange(10.0)})
    [first] = session.validate("unit.cache", BETWEEN, frame, {})
    wider = [{**BETWEEN[0], "kwargs": {"column": "a", "min_value": 0, "max_value": 8}}]
    [second] = session.validate("unit.cache", wider, frame, {})
    session.take_results()
    assert (first.unexpected_count, second.unexpected_count) == (4, 1)


def _save_runs(docs: DataDocs, runs: list[str]) -> None:
    session = gx_session()
    for i, run in enumerate(runs):
        session.validate(f"unit.docs.{i % 2}", BETWEEN, pd.DataFrame({"a": np.arange(8.0)}), {})
        docs.save(run, session.take_results())


def test_results_saved_per_batch_and_site_built_once_with_all_runs(tmp_path: Path):
    docs = DataDocs(tmp_path)
    t0 = datetime.now(UTC)
    _save_runs(docs, ["run-a", "run-b", "run-c"])
    assert not (docs.site_dir / "index.html").exists()  # saving renders nothing
    assert build_data_docs(tmp_path, since=t0) == 3
    index = (docs.site_dir / "index.html").read_text(encoding="utf-8")
    assert all(run in index for run in ("run-a", "run-b", "run-c"))
    assert len(list((docs.site_dir / "validations").rglob("*.html"))) == 3
    # a later build of only new runs keeps the earlier ones in the index
    _save_runs(docs, ["run-d"])
    assert docs.build(["run-d"]) == 1
    index = (docs.site_dir / "index.html").read_text(encoding="utf-8")
    assert "run-a" in index and "run-d" in index
    assert build_data_docs(tmp_path, since=datetime.now(UTC)) == 0


WORKER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    import numpy as np, pandas as pd
    from grid_appeals.quality.data_docs import DataDocs
    from grid_appeals.quality.gx_engine import gx_session
    root, tag = Path(sys.argv[1]), sys.argv[2]
    docs, s = DataDocs(root), gx_session()
    exps = [{"type": "expect_column_values_to_be_between",
             "kwargs": {"column": "a", "min_value": 0, "max_value": 5}, "meta": {}}]
    print("ready", flush=True)
    for i in range(6):
        s.validate(f"unit.race.{tag}", exps, pd.DataFrame({"a": np.arange(8.0)}), {})
        run = f"{tag}-{i}"
        docs.save(run, s.take_results())
        assert docs.build([run]) == 1, run
    """
)


def test_concurrent_processes_saving_and_building_lose_nothing(tmp_path: Path):
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(tmp_path), tag], stderr=subprocess.PIPE, text=True
        )
        for tag in ("w1", "w2", "w3")
    ]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-2000:]
    docs = DataDocs(tmp_path)
    stored = list(docs.results_dir.rglob("*.json"))
    assert len(stored) == 18
    for path in stored:
        json.loads(path.read_text(encoding="utf-8"))  # every result complete, none half-written
    # builds are serialised and each follows its own save, so the last one to run saw every run:
    # the index the workers left behind lists all 18 (overlapping renders would drop some)
    index = (docs.site_dir / "index.html").read_text(encoding="utf-8")
    assert all(f"{tag}-{i}" in index for tag in ("w1", "w2", "w3") for i in range(6))
    assert len(list((docs.site_dir / "validations").rglob("*.html"))) == 18


def test_a_save_waits_while_the_site_is_being_rendered(tmp_path: Path):
    """The protocol behind race-freedom: a render holds the lock exclusively, saves take it shared."""
    import fcntl

    docs = DataDocs(tmp_path)
    with docs._lock(fcntl.LOCK_EX):  # what build() holds while rendering
        proc = subprocess.Popen(
            [sys.executable, "-c", WORKER, str(tmp_path), "w9"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        time.sleep(3)  # ample time for one save (a few ms) had it not waited for the lock
        assert proc.poll() is None and not list(docs.results_dir.rglob("*.json"))
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-2000:]
    assert len(list(docs.results_dir.rglob("*.json"))) == 6


def test_rebuilding_in_one_process_reuses_the_compiled_templates(tmp_path: Path, monkeypatch):
    """Every build creates new Jinja environments; GX's templates are compiled once per process."""
    import jinja2

    docs = DataDocs(tmp_path)
    _save_runs(docs, ["run-x"])
    assert DataDocs(tmp_path).build(["run-x"]) == 1
    first = (docs.site_dir / "index.html").read_text(encoding="utf-8")
    compiled: list[str | None] = []
    original = jinja2.Environment.compile

    def counting(self, source, name=None, filename=None, *args, **kwargs):
        compiled.append(name)
        return original(self, source, name, filename, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    _save_runs(docs, ["run-y"])
    assert DataDocs(tmp_path).build(["run-y"]) == 1  # a new DataDocs, as each ingest_entity makes
    assert [n for n in compiled if n is not None] == []
    index = (docs.site_dir / "index.html").read_text(encoding="utf-8")
    assert "run-x" in index and "run-y" in index and len(index) > len(first) // 2
