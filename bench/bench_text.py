"""Throughput of the appeal text pipeline vs. bare ``jieba.lcut`` on the same texts, same run.

Usage: ``.venv/bin/python bench/bench_text.py [--n 6000]``. Texts are the hand-written seed
corpus, varied (numbers, suffixes) so the memoisation of repeated boilerplate does not turn the
benchmark into a cache-hit test. Prints appeals/second and ratios; the goal is full pipeline with
2 processes ≥ bare single-process ``jieba.lcut``.
"""

from __future__ import annotations

import argparse
import random
import time

import jieba

from grid_appeals.text.keywords import IdfModel
from grid_appeals.text.pipeline import process_batch, process_parallel
from grid_appeals.text.seed_corpus import load_seed_corpus
from grid_appeals.text.segmenter import get_tokenizer, tokenize

SUFFIXES = ["", "，客户情绪激动。", "，客户要求尽快回复。", "，联系电话13{:09d}。", "，停了{}个小时。",
            "，地址西安市未央区{}号。", "，电费{}元。"]


def make_records(n: int, seed: int = 7) -> list[dict[str, str]]:
    rng = random.Random(seed)
    base = [row.text for row in load_seed_corpus()]
    records = []
    for i in range(n):
        suffix = rng.choice(SUFFIXES)
        if "{" in suffix:
            suffix = suffix.format(rng.randrange(10**9) if "09d" in suffix else rng.randint(2, 400))
        records.append({"app_no": f"B{i:07d}", "accept_content": rng.choice(base) + suffix,
                        "handle_opinion": "已派单处理。" if i % 3 else ""})
    return records


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=6000)
    args = parser.parse_args()
    records = make_records(args.n)
    texts = [r["accept_content"] for r in records]

    jieba.setLogLevel(60)
    bare = jieba.Tokenizer()
    bare.initialize()
    bare.lcut(texts[0])
    get_tokenizer()
    idf = IdfModel.fit(tokenize(t) for t in texts[:1000])

    start = time.perf_counter()
    for text in texts:
        bare.lcut(text)
    bare_rate = rate(len(texts), time.perf_counter() - start)

    start = time.perf_counter()
    process_batch(records, idf)
    one_rate = rate(len(records), time.perf_counter() - start)

    start = time.perf_counter()
    process_parallel(records, processes=2, idf=idf)
    two_rate = rate(len(records), time.perf_counter() - start)

    print(f"appeals: {len(records)}")
    print(f"bare jieba.lcut, 1 process : {bare_rate:9.0f} /s")
    print(f"full pipeline,   1 process : {one_rate:9.0f} /s  ratio {one_rate / bare_rate:.2f}")
    print(f"full pipeline,   2 processes: {two_rate:9.0f} /s  ratio {two_rate / bare_rate:.2f}")
    print("goal (2 processes >= bare lcut):", "MET" if two_rate >= bare_rate else "NOT MET")


if __name__ == "__main__":
    main()
