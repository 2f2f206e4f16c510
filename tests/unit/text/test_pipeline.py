from __future__ import annotations

import json

import pytest

from grid_appeals.text.keywords import IdfModel
from grid_appeals.text.pipeline import process_batch, process_parallel

RECORD = {
    "app_no": "A1",
    "accept_content": "【停电报修】客户张建国第三次来电反映西安市雁塔区长安南路12号停电三个多小时，"
    "家中老人用呼吸机，电话13812345678，要求尽快处理。",
    "handle_opinion": "已派抢修人员，联系客户13912345678。",
}


def test_process_batch_output() -> None:
    from grid_appeals.text.seed_corpus import load_seed_corpus
    from grid_appeals.text.segmenter import tokenize

    idf = IdfModel.fit(tokenize(row.text) for row in load_seed_corpus())
    [out] = process_batch([RECORD], idf)
    json.dumps(out, ensure_ascii=False)  # everything is JSON-able
    assert out["tag"] == "停电报修"
    assert "13812345678" not in out["accept_text"] and "13912345678" not in out["opinion_text"]
    assert "张建国" not in out["accept_text"]
    assert out["pii_masked"]["mobile"] == 2
    assert "停电" in out["tokens"] and "呼吸机" in out["keywords"]["tfidf"][:3]
    assert not {"张某", "西安市", "雁塔区"} & set(out["keywords"]["textrank"])
    kinds = {e["kind"] for e in out["entities"]}
    assert {"repeat", "address", "duration"} <= kinds
    assert "重复诉求" in out["topics"]
    assert out["sentiment_level"] == "high" and any(c["cue"] == "medical" for c in out["sentiment_cues"])
    assert "predictions" not in out


def test_parallel_matches_serial_order() -> None:
    records = [
        dict(RECORD, app_no=f"A{i}", accept_content=f"第{i}号：客户反映停电{i}小时") for i in range(60)
    ]
    idf = IdfModel.fit([["停电"], ["电表"]])
    serial = process_batch(records, idf)
    parallel = process_parallel(records, processes=2, idf=idf, chunk_size=10)
    assert [r["app_no"] for r in parallel] == [r["app_no"] for r in records]
    assert parallel == serial


class _PidModel:
    """Predicts the process id, slowly (so that forked workers get chunks); fails in workers
    if asked to (``fail_outside``: the pid of the one process where it works)."""

    version = "pid"

    def __init__(self, fail_outside: int | None = None) -> None:
        self.fail_outside = fail_outside

    def predict_docs(self, docs: list) -> list:
        import os
        import time

        if self.fail_outside is not None and os.getpid() != self.fail_outside:
            raise ValueError("boom in a worker")
        time.sleep(0.1)
        return [{"pid": os.getpid()} for _ in docs]


def test_parallel_work_is_shared_by_caller_and_worker() -> None:
    records = [dict(RECORD, app_no=f"A{i}", accept_content=f"第{i}号：客户反映停电") for i in range(60)]
    out = process_parallel(records, processes=2, model=_PidModel(), chunk_size=6)
    assert [r["app_no"] for r in out] == [r["app_no"] for r in records]
    assert len({r["predictions"]["pid"] for r in out}) == 2


def test_parallel_worker_failure_is_raised_not_hung() -> None:
    import os

    records = [dict(RECORD, app_no=f"A{i}", accept_content=f"第{i}号：客户反映停电") for i in range(60)]
    with pytest.raises(RuntimeError, match="boom in a worker"):
        process_parallel(records, processes=2, model=_PidModel(fail_outside=os.getpid()), chunk_size=6)
    # the worker is gone and a later run works
    assert len(process_parallel(records, processes=2, chunk_size=10)) == 60


def test_parallel_with_three_processes_keeps_order() -> None:
    records = [
        dict(RECORD, app_no=f"A{i}", accept_content=f"第{i}号：客户反映停电{i}小时") for i in range(45)
    ]
    serial = process_batch(records)
    assert process_parallel(records, processes=3, chunk_size=7) == serial
