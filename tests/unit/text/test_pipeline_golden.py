"""The optimised pipeline returns exactly what the unoptimised one returned (saved fixture).

``data/pipeline_golden.json.gz`` holds inputs and outputs written by ``make_pipeline_golden.py``
from the code before the throughput work (see that script's docstring for when it is rewritten).
A lexicon change makes the fixture stale: the tests then fail (never skip), naming the command that
regenerates it.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from grid_appeals.text.features import Doc, doc_pinyin
from grid_appeals.text.keywords import IdfModel
from grid_appeals.text.lexicons import lexicon_fingerprint
from grid_appeals.text.pipeline import clear_caches, process_batch, process_parallel

GOLDEN = Path(__file__).resolve().parent / "data" / "pipeline_golden.json.gz"


@pytest.fixture(scope="module")
def golden() -> dict[str, Any]:
    with gzip.open(GOLDEN, "rt", encoding="utf-8") as handle:
        data = json.load(handle)
    if data["lexicon_fingerprint"] != lexicon_fingerprint():
        pytest.fail(
            "the lexicon files changed since the fixture was written, so its expected outputs are stale: "
            "review the output changes and regenerate the fixture with "
            "'.venv/bin/python tests/unit/text/make_pipeline_golden.py' (see its docstring)"
        )
    return data


def _idf(data: dict[str, Any]) -> IdfModel:
    return IdfModel(data["idf"]["idf"], data["idf"]["n_docs"], data["idf"]["default_idf"])


def _roundtrip(outputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return json.loads(json.dumps(outputs, ensure_ascii=False))


def _first_difference(got: list[dict[str, Any]], expected: list[dict[str, Any]]) -> str:
    for new, old in zip(got, expected, strict=True):
        for key in sorted({*new, *old}):
            if new.get(key) != old.get(key):
                return f"{old.get('app_no')} {key}: {new.get(key)!r} != {old.get(key)!r}"
    return ""


def test_serial_output_equals_fixture(golden: dict[str, Any]) -> None:
    clear_caches()
    got = _roundtrip(process_batch(golden["records"], _idf(golden)))
    assert len(got) == len(golden["outputs"])
    assert not _first_difference(got, golden["outputs"])
    # a second pass over warm caches must not change anything either
    again = _roundtrip(process_batch(golden["records"], _idf(golden)))
    assert not _first_difference(again, golden["outputs"])


def test_parallel_output_equals_fixture(golden: dict[str, Any]) -> None:
    clear_caches()
    got = _roundtrip(process_parallel(golden["records"], processes=2, idf=_idf(golden), chunk_size=128))
    assert not _first_difference(got, golden["outputs"])


def test_pinyin_features_equal_fixture(golden: dict[str, Any]) -> None:
    for out, expected in zip(golden["outputs"], golden["pinyin"], strict=True):
        assert doc_pinyin(Doc(out["accept_text"], tuple(out["tokens"]))) == expected
