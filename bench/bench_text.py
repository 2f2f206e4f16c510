"""Throughput of the appeal text pipeline vs. bare ``jieba.lcut`` on the same texts, same run.

Usage: ``.venv/bin/python bench/bench_text.py [--n 6000] [--source mix|seed|sim] [--no-model] [--rounds 3]``.

Goal (issue 5): full pipeline with 2 processes ≥ bare single-process ``jieba.lcut``, both measured
here on the same 受理内容 texts. "Full" = normalise + PII masking (受理内容 and 处理意见), cached
segmentation, TF-IDF + TextRank keywords, entities with addresses, topics, sentiment and the
classifier (trained on the seed corpus) with model_version.

Why the input looks like this: the pipeline memoises whole texts and clauses, so a benchmark of
the same few strings repeated would measure dictionary lookups. Texts are built from
``data/seed_corpus.tsv`` with realistic variation (other names, phones, addresses, numbers,
optional clauses agents add, punctuation/width noise) and, when the simulator's grammar is
importable, half of them come from ``grid_appeals.simulate.text.grammar`` (used read-only, never
required). Every cache is cleared before each timed run, so each run starts cold, and the
2-process run cannot inherit the parent's warm caches through ``fork``. The distinct-text ratio and
the clause-cache hit rate are printed so the reader can judge how much caching contributed.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import re
import resource
import time
from collections.abc import Callable
from typing import Any

import jieba

from grid_appeals.text.keywords import IdfModel
from grid_appeals.text.pipeline import clear_caches, process_batch, process_parallel, warm_up
from grid_appeals.text.seed_corpus import load_seed_corpus, seed_labels
from grid_appeals.text.segmenter import _pieces, clause_cache_info, tokenize

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑梁谢宋唐韩曹许邓冯曾程蔡彭潘袁董余苏叶吕魏蒋田杜"
GIVEN = "建国伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红"
PLACES = [
    "西安市雁塔区长安南路",
    "西安市未央区凤城八路",
    "咸阳市秦都区人民路",
    "宝鸡市渭滨区经二路",
    "渭南市临渭区东风街",
    "汉中市汉台区北大街",
    "延安市宝塔区二道街",
    "榆林市榆阳区新建路",
    "安康市汉滨区巴山路",
    "商洛市商州区北新街",
    "铜川市王益区红旗街",
    "西安市长安区韦曲街道",
]
ESTATES = ["幸福小区", "金地花园", "城南新村", "电力家属院", "锦绣家园", "阳光城", "曲江公寓", "枫林苑"]
EXTRA_CLAUSES = [
    "客户情绪激动",
    "客户要求尽快回复",
    "客户表示非常不满",
    "客户多次强调",
    "请尽快处理",
    "客户要求上门查看",
    "客户称家中有老人",
    "客户态度平和",
    "已安抚客户情绪",
    "客户要求回电",
    "停了{h}个小时",
    "已经{d}天了",
    "这个月电费{m}元",
    "上月用电{k}度",
    "第{n}次来电",
]
OPINIONS = [
    "已派{team}抢修，{cause}，{hm}恢复供电，客户{sat}。",
    "已联系客户，经核实{cause}，已处理完毕，客户{sat}。",
    "经现场核查，{cause}，已更换{part}，客户{sat}。",
    "已答复客户，客户{sat}。",
    "已转{team}处理，{hm}回访客户{name}，客户{sat}。",
    "工作人员已上门，联系电话{phone}，客户{sat}。",
]
TEAMS = ["城东供电所", "城西抢修班", "营业班", "计量班", "配电运检班", "客户服务中心"]
CAUSES = ["表后线老化", "低压线路故障", "变压器过载", "空开跳闸", "计量装置接线错误", "电费已按规定计算"]
PARTS = ["电能表", "空开", "表箱", "接户线", "熔断器"]
SATISFACTION = ["满意", "认可", "基本满意", "表示理解", "仍有异议"]
_DIGITS = re.compile(r"\d+")
_PHONE = re.compile(r"1[3-9]\d{9}")


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.choice((1, 2))))


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"


def _fill(template: str, rng: random.Random) -> str:
    return template.format(
        h=rng.randint(1, 30),
        d=rng.randint(2, 20),
        m=rng.randint(50, 2000),
        k=rng.randint(30, 1500),
        n=rng.randint(2, 6),
        team=rng.choice(TEAMS),
        cause=rng.choice(CAUSES),
        part=rng.choice(PARTS),
        sat=rng.choice(SATISFACTION),
        hm=f"{rng.randint(0, 23)}:{rng.choice(('00', '15', '30', '45'))}",
        name=_name(rng),
        phone=_phone(rng),
    )


def vary_seed_text(text: str, rng: random.Random) -> str:
    """One agent's rendering of a seed appeal: other numbers, people, places and add-on clauses."""
    text = _PHONE.sub(lambda _: _phone(rng), text)
    text = _DIGITS.sub(
        lambda m: str(max(1, int(m.group(0)) + rng.randint(-3, 9))) if len(m.group(0)) < 5 else m.group(0),
        text,
    )
    if rng.random() < 0.5:
        text = text.replace("客户", f"客户{_name(rng)}", 1)
    clauses = [c for c in re.split(r"(?<=[，。！？；])", text) if c]
    if len(clauses) > 2 and rng.random() < 0.2:
        clauses.pop(rng.randrange(1, len(clauses) - 1))  # agents leave things out
    for _ in range(rng.choice((0, 0, 1, 1, 2))):
        clauses.append(_fill(rng.choice(EXTRA_CLAUSES), rng) + rng.choice("，。"))
    if rng.random() < 0.3:
        clauses.append(
            f"地址{rng.choice(PLACES)}{rng.randint(1, 300)}号{rng.choice(ESTATES)}"
            f"{rng.randint(1, 30)}号楼{rng.randint(1, 6)}单元{rng.randint(101, 2802)}。"
        )
    if rng.random() < 0.3:
        clauses.append(f"联系电话{_phone(rng)}。")
    out = "".join(clauses)
    if rng.random() < 0.1:  # another input method: ASCII punctuation / full-width digits
        out = out.replace("，", ",").translate({ord(str(d)): 0xFF10 + d for d in range(10)})
    return out


def _simulator() -> Callable[[random.Random], tuple[str, str]] | None:
    """The simulator's text grammar if it is importable (read-only use), else None."""
    try:
        from grid_appeals.simulate.text import grammar, lexicon
    except ImportError:
        return None
    intents = list(lexicon.INTENTS)
    kinds = list(lexicon.OPINION)

    def make(rng: random.Random) -> tuple[str, str]:
        name = _name(rng)
        addr = f"陕西省{rng.choice(PLACES)}{rng.randint(1, 300)}号{rng.choice(ESTATES)}"
        speaker = grammar.Speaker(name, name[0], _phone(rng), f"61{rng.randrange(10**8):08d}", addr)
        text = grammar.generate(rng.choice(intents), speaker, rng, repeat=rng.random() < 0.08).text
        return text, grammar.opinion(rng.choice(kinds), rng)

    return make


def make_records(n: int, seed: int = 7, source: str = "mix") -> list[dict[str, str]]:
    """``n`` appeal records (app_no, accept_content, handle_opinion) from seed corpus and/or simulator."""
    rng = random.Random(seed)
    base = [row.text for row in load_seed_corpus()]
    simulate = _simulator() if source in ("mix", "sim") else None
    if source == "sim" and simulate is None:
        raise SystemExit("the simulator's text grammar is not importable")
    records = []
    for i in range(n):
        if simulate and (source == "sim" or i % 2):
            accept, opinion = simulate(rng)
        else:
            accept = vary_seed_text(rng.choice(base), rng)
            opinion = _fill(rng.choice(OPINIONS), rng) if rng.random() < 0.7 else ""
        records.append({"app_no": f"B{i:07d}", "accept_content": accept, "handle_opinion": opinion})
    return records


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(func: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds of this process and its finished children, result).

    CPU time is printed next to wall time because the benchmark machine is shared: under load,
    wall-clock rates (and the 2-process one most) measure the neighbours as much as the code.
    """
    start, cpu, children = time.perf_counter(), time.process_time(), _children_cpu()
    result = func()
    return (time.perf_counter() - start, time.process_time() - cpu + _children_cpu() - children, result)


def stage_breakdown(records: list[dict[str, str]], idf: IdfModel, model: Any) -> dict[str, float]:
    """CPU µs per appeal of each stage of ``process_batch``, run stage by stage with cold caches.

    Mirrors ``pipeline._process_batch`` so the reader sees where the time goes; the stages'
    sum is a little below the whole batch, which also assembles and returns the records.
    """
    from grid_appeals.text.entities import extract_entities
    from grid_appeals.text.features import Doc
    from grid_appeals.text.keywords import candidates, textrank_many, tfidf_words
    from grid_appeals.text.preprocess import prepare_text
    from grid_appeals.text.sentiment import score_text
    from grid_appeals.text.topics import match_topics

    clear_caches()
    n = len(records)
    out: dict[str, float] = {}
    gc.disable()  # as process_batch does: the benchmark holds ~10^6 objects a GC pass would walk

    def stage(name: str, func: Callable[[], Any]) -> Any:
        start = time.process_time()
        result = func()
        out[name] = (time.process_time() - start) / n * 1e6
        return result

    accepts = stage("normalise + mask 受理内容", lambda: [prepare_text(r["accept_content"]) for r in records])
    stage("normalise + mask 处理意见", lambda: [prepare_text(r["handle_opinion"]) for r in records])
    tokens = stage("segment (clause cache)", lambda: [tokenize(a.text) for a in accepts])
    words = stage("keyword candidates", lambda: [candidates(t) for t in tokens])
    stage("TextRank (stacked)", lambda: textrank_many(words, 5))
    stage("TF-IDF", lambda: [tfidf_words(t, idf, 5, w) for t, w in zip(tokens, words, strict=True)])
    stage("entities + address", lambda: [[e.as_dict() for e in extract_entities(a.text)] for a in accepts])
    stage("topics", lambda: [match_topics(a.text) for a in accepts])
    stage("sentiment", lambda: [score_text(a.text) for a in accepts])
    if model is not None:
        docs = [Doc(a.text, tuple(t), a.tag or "") for a, t in zip(accepts, tokens, strict=True)]
        stage("classifier (batch)", lambda: model.predict_docs(docs))
        from grid_appeals.text.features import clear_feature_caches

        clear_feature_caches()  # the classifier's parts again, cold: not added to the sum
        parts = {
            "  features → columns": lambda: model.space.occurrences(docs),
            "  scores (one matmul)": lambda: model.space.scores(docs, model.weights),
            "  calibrated probabilities": lambda: model.probabilities(docs),
        }
        for name, func in parts.items():
            stage(name, func)
    gc.enable()
    clear_caches()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=6000)
    parser.add_argument("--source", choices=["mix", "seed", "sim"], default="mix")
    parser.add_argument("--no-model", action="store_true", help="leave the classifier out")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--stages", action="store_true", help="also print CPU µs per appeal of each stage")
    parser.add_argument("--rounds", type=int, default=3,
                        help="bare / 1-process / 2-process measured back to back this many times; the round with "
                             "the median 2-process ratio is reported (the box is shared: a single round is noisy)")
    args = parser.parse_args()
    records = make_records(args.n, args.seed, args.source)
    texts = [r["accept_content"] for r in records]

    jieba.setLogLevel(60)
    jieba.initialize()
    jieba.lcut(texts[0])
    model = None
    if not args.no_model:
        from grid_appeals.text.classifier import train

        rows = load_seed_corpus()
        model = train([r.text for r in rows], seed_labels(rows), cv_folds=0, version="bench-seed")
    # IDF from a different sample (another seed), as in production where it is fitted beforehand
    idf = IdfModel.fit(tokenize(r["accept_content"]) for r in make_records(1000, args.seed + 1, args.source))
    warm_up()

    rounds = []  # (bare, 1 process, 2 processes) back to back: the ratios of a round share the machine
    for _ in range(args.rounds):
        bare_s, bare_cpu, _ = timed(lambda: [jieba.lcut(t) for t in texts])
        clear_caches()
        one_s, one_cpu, out = timed(lambda: process_batch(records, idf, model))
        one_cache = clause_cache_info()
        clear_caches()
        stats: dict[str, Any] = {}
        two_s, two_cpu, out2 = timed(
            lambda stats=stats: process_parallel(records, processes=2, idf=idf, model=model, stats=stats)
        )
        assert out2 == out, "parallel output differs from serial output"
        clear_caches()
        rounds.append((bare_s, bare_cpu, one_s, one_cpu, two_s, two_cpu, one_cache, stats))
    n = len(records)
    if args.rounds > 1:
        print(f"{'round':>5} {'bare /s':>9} {'1 proc /s':>10} {'2 proc /s':>10} {'ratio 1':>8} {'ratio 2':>8}")
        for k, (b, _, o, _, t, _, _, _) in enumerate(rounds, 1):
            print(f"{k:>5} {n / b:9.0f} {n / o:10.0f} {n / t:10.0f} {b / o:8.2f} {b / t:8.2f}")
    # the round with the median 2-process ratio is reported in full
    rounds.sort(key=lambda r: r[0] / r[4])
    bare_s, bare_cpu, one_s, one_cpu, two_s, two_cpu, one_cache, stats = rounds[len(rounds) // 2]
    bare_rate, one_rate, two_rate = rate(n, bare_s), rate(n, one_s), rate(n, two_s)

    clauses = [p for t in (r["accept_content"] for r in records) for p in _pieces(t)]
    load = os.getloadavg()
    print(f"appeals: {len(records)} (source={args.source}, model={'yes' if model else 'no'})")
    print(
        f"distinct texts: {len(set(texts)) / len(texts):.1%}; distinct raw clauses: "
        f"{len(set(clauses)) / len(clauses):.1%} of {len(clauses)}"
    )
    print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs")
    print(f"bare jieba.lcut, 1 process  : {bare_rate:8.0f} /s")
    print(
        f"full pipeline,   1 process  : {one_rate:8.0f} /s  ratio {one_rate / bare_rate:.2f}"
        f"  clause-cache hit rate {one_cache.hit_rate:.1%}"
    )
    print(
        f"full pipeline,   2 processes: {two_rate:8.0f} /s  ratio {two_rate / bare_rate:.2f}"
        f"  clause-cache hit rate {stats.get('clause_cache_hit_rate', float('nan')):.1%}"
    )
    print(f"goal (2 processes >= bare lcut, median of {args.rounds} rounds):",
          "MET" if two_rate >= bare_rate else "NOT MET")
    print(
        f"CPU per appeal: bare lcut {bare_cpu / n * 1e6:.0f} µs, pipeline 1 process {one_cpu / n * 1e6:.0f} µs, "
        f"2 processes {two_cpu / n * 1e6:.0f} µs (parent + workers)"
    )
    print(
        f"if both cores were free: 2 processes ≈ {2 * n / two_cpu:.0f} /s, ratio "
        f"{(2 * n / two_cpu) / rate(n, bare_cpu):.2f} vs bare lcut CPU rate {rate(n, bare_cpu):.0f} /s"
    )
    if args.stages:
        print(
            f"CPU per appeal by stage (cold caches; the bare lcut reference is {bare_cpu / n * 1e6:.0f} µs):"
        )
        stages = stage_breakdown(records, idf, model)
        for name, micros in stages.items():
            print(f"  {name:26s} {micros:7.1f} µs")
        total = sum(v for k, v in stages.items() if not k.startswith("  "))
        print(f"  {'sum of stages':26s} {total:7.1f} µs  (indented: parts of the classifier, cumulative)")


if __name__ == "__main__":
    main()
