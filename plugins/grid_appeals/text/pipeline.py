"""Appeal text → structured record, for one batch or in parallel over CPU cores.

``process_batch`` is what the Airflow task calls on a page of orders; ``process_parallel`` splits a
large backfill into chunks for a process pool (jieba's ``enable_parallel`` only covers ``cut`` on
the global tokenizer, so parallelism is done here, each worker building its tokenizer once).
Topics, entities and urgency are read from 受理内容 (the customer's words); 处理意见 is
normalised and masked too so it can be stored and searched safely.

Performance notes (issue 5): a batch is processed stage by stage. Segmentation is memoised per
clause and unseen clauses go through a fused copy of jieba's DAG/route (``segmenter.cut_block``);
each appeal's tokens and keyword candidates are computed once and shared by TF-IDF, TextRank
(all graphs of a batch solved in stacked LAPACK calls) and the classifier, which vectorises the
whole batch at once; topic rules, escalation cues, boilerplate and entity scans are skipped by
required-literal prefilters (``rx``) unless the text can match. Whole texts are memoised per
process (``preprocess``). ``process_parallel`` works in the calling process too: it builds the
tokenizer, address matcher and rules (``warm_up``), freezes them out of the GC, forks the other
workers (which inherit the records, so nothing is pickled on the way in) and all claim shrinking
chunks from a shared counter; only the workers' results cross a pipe. Every fast path is tested to
return exactly what the plain one does.
"""

from __future__ import annotations

import gc
import math
import multiprocessing
import os
import threading
import traceback
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any

from grid_appeals.text.entities import extract_entities
from grid_appeals.text.features import Doc
from grid_appeals.text.keywords import IdfModel, candidates, textrank_many, tfidf_words
from grid_appeals.text.lexicons import lexicon_fingerprint
from grid_appeals.text.preprocess import PreparedText, prepare_text
from grid_appeals.text.segmenter import clause_cache_info, clear_clause_cache, get_tokenizer, tokenize
from grid_appeals.text.sentiment import score_text
from grid_appeals.text.topics import match_topics

# large: TextRank stacks more graphs per LAPACK call and the classifier's numpy passes amortise
# their per-call overhead (~1 ms) in a bigger batch
DEFAULT_CHUNK = 2000
# keys of every output record: what the nlp.appeal_text table is built from. ``predictions`` and
# ``model_version`` are only present when a model was given.
OUTPUT_FIELDS = (
    "app_no",
    "tag",
    "tags",
    "accept_text",
    "opinion_text",
    "pii_masked",
    "tokens",
    "keywords",
    "entities",
    "topics",
    "topic_hits",
    "sentiment_score",
    "sentiment_level",
    "sentiment_cues",
    "lexicon_version",
)


def warm_up() -> None:
    """Build everything lazy once (tokenizer, cpca, rules, OpenCC table, pinyin dictionary).

    Called in the parent before forking so workers share these read-only structures instead of
    each building them, and by benchmarks so timings do not include one-off start-up costs.
    """
    from grid_appeals.text.address import _extract_addrs
    from grid_appeals.text.features import doc_pinyin, syllable_table
    from grid_appeals.text.normalise import _boilerplate, _traditional_class
    from grid_appeals.text.numerals import _protected_pattern
    from grid_appeals.text.segmenter import _get_dictionary
    from grid_appeals.text.sentiment import escalation_cues
    from grid_appeals.text.topics import topic_rules

    get_tokenizer()
    _get_dictionary()
    _extract_addrs()  # imports cpca and indexes its names
    _traditional_class()
    _boilerplate()
    _protected_pattern()
    topic_rules()
    escalation_cues()
    lexicon_fingerprint()
    _blas_controller()
    doc_pinyin(Doc("电", ()))
    syllable_table()


def clear_caches() -> None:
    """Forget every per-text memo (not the tokenizer or rules): for cold-cache benchmarks and after
    a lexicon reload."""
    from grid_appeals.text.address import extract_address
    from grid_appeals.text.features import clear_feature_caches, clear_pinyin_cache
    from grid_appeals.text.keywords import _candidate, _textrank
    from grid_appeals.text.normalise import normalise
    from grid_appeals.text.preprocess import _mask_tag

    clear_clause_cache()
    prepare_text.cache_clear()
    _mask_tag.cache_clear()
    _candidate.cache_clear()
    normalise.cache_clear()
    _textrank.cache_clear()
    extract_address.cache_clear()
    clear_pinyin_cache()
    clear_feature_caches()


def _assemble(
    record: Mapping[str, Any],
    accept: PreparedText,
    opinion: PreparedText,
    tokens: list[str],
    words: list[str],
    textrank: tuple[tuple[str, float], ...],
    idf: IdfModel | None,
    top_k: int,
    with_address: bool,
    fingerprint: str,
) -> dict[str, Any]:
    """One output record from the shared per-appeal intermediates (tokens, keyword candidates)."""
    text = accept.text
    sentiment = score_text(text)
    topic_hits = match_topics(text)
    return {
        "app_no": record.get("app_no"),
        "tag": accept.tag,
        "tags": list(accept.tags),
        "accept_text": text,
        "opinion_text": opinion.text,
        "pii_masked": _merged_counts(accept.pii, opinion.pii),
        "tokens": tokens,
        "keywords": {
            "tfidf": tfidf_words(tokens, idf, top_k, words),
            "textrank": [w for w, _ in textrank],
        },
        "entities": [e.as_dict() for e in extract_entities(text, with_address=with_address)],
        "topics": [hit["topic"] for hit in topic_hits],
        "topic_hits": topic_hits,
        "sentiment_score": sentiment["score"],
        "sentiment_level": sentiment["level"],
        "sentiment_cues": [
            {"cue": c["cue"], "weight": c["weight"], "text": c["text"], "start": c["start"], "end": c["end"]}
            for c in sentiment["cues"]
        ],
        "lexicon_version": fingerprint,
    }


def _merged_counts(first: Mapping[str, int], second: Mapping[str, int]) -> dict[str, int]:
    """Masked-PII counts of both texts, as a new dict (the inputs are memoised); most have none."""
    if not second:
        return dict(first)
    if not first:
        return dict(second)
    return {k: first.get(k, 0) + second.get(k, 0) for k in {*first, *second}}


def process_record(
    record: Mapping[str, Any], idf: IdfModel | None = None, top_k: int = 5, with_address: bool = True
) -> tuple[dict[str, Any], Doc]:
    """One appeal → output dict (without model predictions) and the Doc the classifier needs."""
    accept = prepare_text(record.get("accept_content") or "")
    opinion = prepare_text(record.get("handle_opinion") or "")
    tokens = tokenize(accept.text)
    words = candidates(tokens)
    [textrank] = textrank_many([words], top_k)
    result = _assemble(
        record, accept, opinion, tokens, words, textrank, idf, top_k, with_address, lexicon_fingerprint()
    )
    return result, Doc(accept.text, tuple(tokens), accept.tag or "")


def process_batch(
    records: Iterable[Mapping[str, Any]],
    idf: IdfModel | None = None,
    model: Any = None,
    top_k: int = 5,
    with_address: bool = True,
) -> list[dict[str, Any]]:
    """Structured text features for each record (dicts with app_no, accept_content, handle_opinion).

    With a ``classifier.TextClassifier`` as ``model``, each output also gets ``predictions``:
    ``{target: {"label", "confidence"}}``, plus ``model_version``.

    Stage by stage over the whole batch rather than record by record: each appeal is segmented
    once and its tokens and keyword candidates feed TF-IDF, TextRank and the classifier;
    TextRank solves all graphs of a size in one stacked LAPACK call and the classifier
    vectorises the batch at once.
    """
    records = list(records)
    if not records:
        return []
    collecting = gc.isenabled()
    gc.disable()  # the batch allocates many small containers and makes no cycles: skip GC passes
    try:
        return _process_batch(records, idf, model, top_k, with_address)
    finally:
        if collecting:
            gc.enable()


def _process_batch(
    records: list[Mapping[str, Any]], idf: IdfModel | None, model: Any, top_k: int, with_address: bool
) -> list[dict[str, Any]]:
    accepts = [prepare_text(record.get("accept_content") or "") for record in records]
    opinions = [prepare_text(record.get("handle_opinion") or "") for record in records]
    tokens = [tokenize(accept.text) for accept in accepts]
    words = [candidates(toks) for toks in tokens]
    ranked = textrank_many(words, top_k)
    fingerprint = lexicon_fingerprint()
    results = [
        _assemble(*parts, idf, top_k, with_address, fingerprint)
        for parts in zip(records, accepts, opinions, tokens, words, ranked, strict=True)
    ]
    if model is not None:
        docs = [Doc(accept.text, tuple(toks), accept.tag or "") for accept, toks in zip(accepts, tokens, strict=True)]
        for result, predicted in zip(results, model.predict_docs(docs), strict=True):
            result["predictions"] = predicted
            result["model_version"] = model.version
    return results


# ---- multi-process runner --------------------------------------------------------------------
_worker_state: dict[str, Any] = {}


@lru_cache(maxsize=1)
def _blas_controller() -> Any:
    """threadpoolctl's view of the loaded BLAS/OpenMP libraries, found once per process (~10 ms:
    it inspects every loaded library) and inherited by forked workers, which then only set the
    limit (``threadpool_limits(1)`` would search the libraries again in every worker)."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        return None
    return ThreadpoolController()


def _init_worker(
    idf: IdfModel | str | Path | None,
    model: Any,
    top_k: int,
    with_address: bool,
    single_thread_blas: bool = True,
) -> None:
    """Runs once per worker: tokenizer, IDF and model are loaded here, not per chunk.

    BLAS is limited to one thread per worker: the pool already uses every core, and OpenBLAS's
    own threads (spinning on TextRank's and the classifier's tiny matrices) cost ~10-30 % CPU.
    """
    if single_thread_blas and (controller := _blas_controller()) is not None:
        controller.limit(limits=1)  # only in pool workers, never in the caller's process
    get_tokenizer()
    if isinstance(idf, (str, Path)):
        idf = IdfModel.load(idf)
    if isinstance(model, (str, Path)):
        from grid_appeals.text.classifier import load

        model = load(model)
    _worker_state.update(idf=idf, model=model, top_k=top_k, with_address=with_address)


def _run_chunk(chunk: Sequence[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], int, int]:
    """One chunk in a worker: results plus this chunk's clause-cache hits and misses."""
    state = _worker_state
    before = clause_cache_info()
    results = process_batch(chunk, state["idf"], state["model"], state["top_k"], state["with_address"])
    after = clause_cache_info()
    return results, after.hits - before.hits, after.misses - before.misses


def process_parallel(
    records: Sequence[Mapping[str, Any]],
    processes: int | None = None,
    idf: IdfModel | str | Path | None = None,
    model: Any = None,
    top_k: int = 5,
    with_address: bool = True,
    chunk_size: int = DEFAULT_CHUNK,
    start_method: str | None = None,
    stats: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """``process_batch`` over ``processes`` processes; output order equals input order.

    With ``fork`` (default on Linux) the calling process is one of them: it forks
    ``processes - 1`` workers that inherit the built tokenizer, address matcher, model and the
    records themselves (nothing is pickled on the way in), and all of them claim chunks from a
    shared counter, so only the workers' share of the results crosses a pipe (read by a thread
    while the caller computes). Chunks shrink as the work runs out (a quarter of what is left
    per process, at least ``MIN_CHUNK``, at most ``chunk_size``): large ones amortise the
    classifier's and TextRank's per-call costs, small ones at the end keep both cores busy to
    the last record. Pass ``start_method="spawn"`` from a threaded host process: a pool of
    ``processes`` workers then gets fixed chunks, with models/IDFs given as paths loaded once
    per worker. ``stats``, if given, receives chunk count and the clause-cache hits, misses and
    hit rate of every process.
    """
    processes = processes or os.cpu_count() or 1
    if processes <= 1 or len(records) <= chunk_size:
        _init_worker(idf, model, top_k, with_address, single_thread_blas=False)
        results, hits, misses = _run_chunk(list(records))
        _record_stats(stats, 1, hits, misses)
        return results
    method = start_method or ("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    if method == "fork":
        return _forked_run(records, processes, idf, model, top_k, with_address, chunk_size, stats)
    size = max(1, min(chunk_size, math.ceil(len(records) / (processes * 2))))
    chunks = [list(records[i : i + size]) for i in range(0, len(records), size)]
    context = multiprocessing.get_context(method)
    out: list[dict[str, Any]] = []
    hits = misses = 0
    with ProcessPoolExecutor(
        processes, mp_context=context, initializer=_init_worker, initargs=(idf, model, top_k, with_address)
    ) as pool:
        for part, part_hits, part_misses in pool.map(_run_chunk, chunks):
            out.extend(part)
            hits += part_hits
            misses += part_misses
    _record_stats(stats, len(chunks), hits, misses)
    return out


# smallest chunk a process claims (unless ``chunk_size`` is smaller): the classifier and TextRank
# cost ~10 µs more per appeal in batches of 100 than of 1000
MIN_CHUNK = 200
# records a worker leaves to the calling process at the very end: a worker's exit (unmapping its
# copy-on-write view of a few hundred MB) takes ~10-20 ms, which then overlaps with the caller's
# last chunk instead of being waited for after it
EXIT_RESERVE = MIN_CHUNK // 2


class _Chunks:
    """Chunk boundaries handed out from a counter shared by forked processes (guided scheduling)."""

    def __init__(self, context: Any, total: int, processes: int, chunk_size: int) -> None:
        self.next = context.Value("q", 0)  # first record not yet claimed (with its own lock)
        self.total = total
        self.processes = processes
        self.chunk_size = chunk_size
        self.reserve = min(EXIT_RESERVE, chunk_size // 2)  # what workers leave (small test chunks too)

    def claim(self, reserve: int = 0) -> tuple[int, int] | None:
        """The next chunk, or None when no more than ``reserve`` records are left."""
        with self.next.get_lock():
            start = self.next.value
            left = self.total - start
            if left <= reserve:
                return None
            size = min(self.chunk_size, max(MIN_CHUNK, math.ceil(left / (4 * self.processes))), left)
            self.next.value = start + size
        return start, start + size


def _claim_and_run(
    records: Sequence[Mapping[str, Any]],
    chunks: _Chunks,
    emit: Any,
    reserve: int = 0,
    failures: Sequence[str] = (),
) -> None:
    """Process chunks until none is left (or another process failed); ``emit(start, results,
    hits, misses)`` after each."""
    while not failures and (bounds := chunks.claim(reserve)) is not None:
        start, stop = bounds
        emit(start, *_run_chunk(list(records[start:stop])))


def _worker_main(
    records: Sequence[Mapping[str, Any]], chunks: _Chunks, conn: Any, init_args: tuple[Any, ...]
) -> None:
    """A forked worker: chunks' results go to the parent as they are done, then ``None``."""
    try:
        _init_worker(*init_args)
        _claim_and_run(records, chunks, lambda *message: conn.send(message), chunks.reserve)
        conn.send(None)
    except BaseException:
        conn.send(("error", traceback.format_exc()))
        raise
    finally:
        conn.close()


def _forked_run(
    records: Sequence[Mapping[str, Any]],
    processes: int,
    idf: IdfModel | str | Path | None,
    model: Any,
    top_k: int,
    with_address: bool,
    chunk_size: int,
    stats: dict[str, Any] | None,
) -> list[dict[str, Any]]:
    """``process_parallel`` with fork: this process and ``processes - 1`` workers share the work."""
    context = multiprocessing.get_context("fork")
    warm_up()  # build once here; forked workers share it copy-on-write
    _init_worker(idf, model, top_k, with_address, single_thread_blas=False)
    chunks = _Chunks(context, len(records), processes, chunk_size)
    parts: dict[int, tuple[list[dict[str, Any]], int, int]] = {}
    failures: list[str] = []
    workers, pipes = [], []
    # objects alive now (tokenizer dictionary, model, lexicons) move to the GC's permanent
    # generation: a worker's full collections would otherwise walk, and so copy, every page
    gc.freeze()
    try:
        for _ in range(processes - 1):
            receive, send = context.Pipe(duplex=False)
            _widen_pipe(send)
            worker = context.Process(
                target=_worker_main,
                args=(records, chunks, send, (_worker_state["idf"], model, top_k, with_address)),
                daemon=True,
            )
            worker.start()
            send.close()  # the worker holds the only write end: its exit ends our reads
            workers.append(worker)
            pipes.append(receive)
    finally:
        gc.unfreeze()
    receiver = threading.Thread(target=_receive, args=(pipes, parts, failures), daemon=True)
    receiver.start()
    done = False
    try:
        _claim_and_run(records, chunks, lambda start, *part: parts.__setitem__(start, part), 0, failures)
        receiver.join()
        done = True
    finally:
        for worker in workers:
            if not done:  # this process failed: stop the workers (their pipes then close)
                worker.terminate()
            worker.join()
        for pipe in pipes:
            pipe.close()
    if failures:
        raise RuntimeError("text worker failed:\n" + "\n".join(failures))
    out: list[dict[str, Any]] = []
    hits = misses = 0
    for start in sorted(parts):
        part, part_hits, part_misses = parts[start]
        out.extend(part)
        hits += part_hits
        misses += part_misses
    if len(out) != len(records):
        raise RuntimeError(f"text workers returned {len(out)} results for {len(records)} records")
    _record_stats(stats, len(parts), hits, misses)
    return out


# a chunk's pickled results are ~0.6 KB per record: a pipe this large takes a whole chunk at once
PIPE_BYTES = 1 << 20


def _widen_pipe(connection: Any) -> None:
    """Let a worker's send complete without waiting for the caller to read.

    The caller reads in a thread that must win the GIL back from the computing main thread
    (up to ``sys.getswitchinterval()``, 5 ms) after every read: through a default 64 KB pipe a
    ~400 KB message took dozens of milliseconds, during which the worker sat blocked in ``send``.
    Linux only (``F_SETPIPE_SZ``, capped by /proc/sys/fs/pipe-max-size); elsewhere, or if
    refused, the pipe keeps its size and only that wait remains.
    """
    try:
        import fcntl

        fcntl.fcntl(connection.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):  # pragma: no cover - not Linux, or capped
        pass


def _receive(pipes: list[Any], parts: dict[int, Any], failures: list[str]) -> None:
    """Collect the workers' chunk results until each has sent ``None`` or closed its pipe."""
    from multiprocessing.connection import wait

    open_pipes = list(pipes)
    while open_pipes:
        for pipe in wait(open_pipes):
            try:
                message = pipe.recv()
            except EOFError:  # the worker is gone (its chunks, if any, are then missing)
                message = None
            if message is None:
                open_pipes.remove(pipe)
            elif message[0] == "error":
                failures.append(message[1])
                open_pipes.remove(pipe)
            else:
                start, part, hits, misses = message
                parts[start] = (part, hits, misses)


def _record_stats(stats: dict[str, Any] | None, chunks: int, hits: int, misses: int) -> None:
    if stats is not None:
        total = hits + misses
        stats.update(
            chunks=chunks,
            clause_cache_hits=hits,
            clause_cache_misses=misses,
            clause_cache_hit_rate=hits / total if total else 0.0,
        )
