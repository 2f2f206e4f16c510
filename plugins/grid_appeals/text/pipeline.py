"""Appeal text → structured record, for one batch or in parallel over CPU cores.

``process_batch`` is what the Airflow task calls on a page of orders; ``process_parallel`` splits a
large backfill into chunks for a process pool (jieba's ``enable_parallel`` only covers ``cut`` on
the global tokenizer, so parallelism is done here, each worker building its tokenizer once).
Topics, entities and urgency are read from 受理内容 (the customer's words); 处理意见 is
normalised and masked too so it can be stored and searched safely.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from grid_appeals.text.entities import extract_entities
from grid_appeals.text.features import Doc
from grid_appeals.text.keywords import IdfModel, textrank_keywords, tfidf_keywords
from grid_appeals.text.preprocess import prepare_text
from grid_appeals.text.segmenter import get_tokenizer, tokenize
from grid_appeals.text.sentiment import score_text
from grid_appeals.text.topics import match_topics

DEFAULT_CHUNK = 400


def process_record(record: Mapping[str, Any], idf: IdfModel | None = None, top_k: int = 5,
                   with_address: bool = True) -> tuple[dict[str, Any], Doc]:
    """One appeal → output dict (without model predictions) and the Doc the classifier needs."""
    accept = prepare_text(record.get("accept_content") or "")
    opinion = prepare_text(record.get("handle_opinion") or "")
    tokens = tokenize(accept.text)
    sentiment = score_text(accept.text)
    result = {
        "app_no": record.get("app_no"),
        "tag": accept.tag,
        "tags": list(accept.tags),
        "accept_text": accept.text,
        "opinion_text": opinion.text,
        "pii_masked": {k: accept.pii.get(k, 0) + opinion.pii.get(k, 0) for k in {*accept.pii, *opinion.pii}},
        "tokens": tokens,
        "keywords": {
            "tfidf": [w for w, _ in tfidf_keywords(tokens, idf, top_k)],
            "textrank": [w for w, _ in textrank_keywords(tokens, top_k)],
        },
        "entities": [e.as_dict() for e in extract_entities(accept.text, with_address=with_address)],
        "topics": [hit["topic"] for hit in match_topics(accept.text)],
        "sentiment_score": sentiment["score"],
        "sentiment_level": sentiment["level"],
        "sentiment_cues": [{"cue": c["cue"], "weight": c["weight"], "text": c["text"]} for c in sentiment["cues"]],
    }
    return result, Doc(accept.text, tuple(tokens))


def process_batch(records: Iterable[Mapping[str, Any]], idf: IdfModel | None = None, model: Any = None,
                  top_k: int = 5, with_address: bool = True) -> list[dict[str, Any]]:
    """Structured text features for each record (dicts with app_no, accept_content, handle_opinion).

    With a ``classifier.TextClassifier`` as ``model``, each output also gets ``predictions``:
    ``{target: {"label", "confidence"}}``, plus ``model_version``.
    """
    results: list[dict[str, Any]] = []
    docs: list[Doc] = []
    for record in records:
        result, doc = process_record(record, idf, top_k, with_address)
        results.append(result)
        docs.append(doc)
    if model is not None and results:
        for result, predicted in zip(results, model.predict_docs(docs), strict=True):
            result["predictions"] = predicted
            result["model_version"] = model.version
    return results


# ---- multi-process runner --------------------------------------------------------------------
_worker_state: dict[str, Any] = {}


def _init_worker(idf: IdfModel | str | Path | None, model: Any, top_k: int, with_address: bool) -> None:
    """Runs once per worker: tokenizer, IDF and model are loaded here, not per chunk."""
    get_tokenizer()
    if isinstance(idf, (str, Path)):
        idf = IdfModel.load(idf)
    if isinstance(model, (str, Path)):
        from grid_appeals.text.classifier import load

        model = load(model)
    _worker_state.update(idf=idf, model=model, top_k=top_k, with_address=with_address)


def _run_chunk(chunk: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    state = _worker_state
    return process_batch(chunk, state["idf"], state["model"], state["top_k"], state["with_address"])


def process_parallel(records: Sequence[Mapping[str, Any]], processes: int | None = None,
                     idf: IdfModel | str | Path | None = None, model: Any = None, top_k: int = 5,
                     with_address: bool = True, chunk_size: int = DEFAULT_CHUNK,
                     start_method: str | None = None) -> list[dict[str, Any]]:
    """``process_batch`` over a process pool; output order equals input order.

    ``fork`` (default on Linux) lets workers inherit an already-built tokenizer; pass
    ``start_method="spawn"`` from a threaded host process. Models/IDFs may be given as paths so
    that each worker loads its own copy once.
    """
    processes = processes or os.cpu_count() or 1
    if processes <= 1 or len(records) <= chunk_size:
        _init_worker(idf, model, top_k, with_address)
        return _run_chunk(list(records))
    method = start_method or ("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    if method == "fork":
        get_tokenizer()  # build once in the parent; forked workers share it copy-on-write
    chunks = [list(records[i:i + chunk_size]) for i in range(0, len(records), chunk_size)]
    context = multiprocessing.get_context(method)
    with ProcessPoolExecutor(processes, mp_context=context, initializer=_init_worker,
                             initargs=(idf, model, top_k, with_address)) as pool:
        out: list[dict[str, Any]] = []
        for part in pool.map(_run_chunk, chunks):
            out.extend(part)
    return out
