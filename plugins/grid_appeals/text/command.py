"""``grid-appeals text …``: check the text pipeline by hand.

- ``text segment "TEXT" [--opinion TEXT] [--no-model]`` prints what the pipeline makes of one
  appeal (masked text, tokens, keywords, entities, topics, sentiment, predictions) as JSON, so a
  business user who just added a lexicon term can see its effect without a notebook;
- ``text reload-check`` re-reads every lexicon file and reports counts and problems (duplicate
  terms, synonyms whose canonical word is unknown, broken regexes); exit code 1 on errors, so it
  can guard a lexicon change in CI.

Heavy imports (jieba, cpca, scikit-learn) happen inside the actions: ``grid-appeals --help`` must
stay fast.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from typing import Any


def _segment(args: argparse.Namespace) -> int:
    from grid_appeals.text import artifacts
    from grid_appeals.text.keywords import IdfModel
    from grid_appeals.text.pipeline import process_batch
    from grid_appeals.text.segmenter import segment

    idf_file = artifacts.idf_path()
    idf = IdfModel.load(idf_file) if idf_file.exists() else None
    model = None
    model_file = None if args.no_model else artifacts.current_model_path()
    if model_file is not None:
        from grid_appeals.text.classifier import load

        model = load(model_file)
    record = {"app_no": None, "accept_content": args.text, "handle_opinion": args.opinion or ""}
    [result] = process_batch([record], idf, model)
    result.pop("app_no", None)
    result["raw_segments"] = [t for t in segment(result["accept_text"]) if t.strip()]
    result["idf"] = str(idf_file) if idf else None
    result["model_file"] = str(model_file) if model_file else None
    print(json.dumps(result, ensure_ascii=False, indent=1))
    return 0


def lexicon_report() -> dict[str, Any]:
    """Counts and problems of the lexicon files as loaded now (after clearing every cache)."""
    from grid_appeals.text import lexicons
    from grid_appeals.text.lexicons import _data_lines, parse_term_line

    lexicons.reload_lexicons()
    errors: list[str] = []
    warnings: list[str] = []
    # duplicates: within one file (a typo or a merge left-over) and across files (the later wins)
    seen: dict[str, str] = {}
    for path in lexicons.term_files():
        in_file: Counter[str] = Counter(parse_term_line(line).word for line in _data_lines(path))
        for word, count in in_file.items():
            if count > 1:
                warnings.append(f"{path.name}: term {word!r} listed {count} times")
            if word in seen and seen[word] != path.name:
                warnings.append(f"{path.name}: term {word!r} overrides the entry in {seen[word]}")
            seen[word] = path.name
    terms = {t.word for t in lexicons.business_terms()}
    synonyms = lexicons.synonyms()
    stopwords = lexicons.stopwords()
    try:
        from grid_appeals.text.segmenter import get_tokenizer

        dictionary: Any = get_tokenizer().FREQ
    except Exception as exc:  # a broken lexicon must be reported, not crash the check
        errors.append(f"tokenizer cannot be built: {exc}")
        dictionary = {}

    def known(word: str) -> bool:
        return word in terms or bool(dictionary.get(word))

    raw_synonyms = [line.split("\t") if "\t" in line else line.split() for line in _data_lines(lexicons.SYNONYMS)]
    variants = Counter(parts[0].strip() for parts in raw_synonyms if len(parts) >= 2)
    for parts in raw_synonyms:
        if len(parts) < 2:
            errors.append(f"synonyms.tsv: line without a canonical word: {parts!r}")
    for variant, count in variants.items():
        if count > 1:
            warnings.append(f"synonyms.tsv: variant {variant!r} listed {count} times (the last wins)")
    for variant, canonical in sorted(synonyms.items()):
        if canonical == variant or synonyms.get(canonical) == variant:
            errors.append(f"synonyms.tsv: cycle through {variant!r}")
        elif not known(canonical):
            warnings.append(f"synonyms.tsv: {variant!r} → {canonical!r}, but {canonical!r} is neither a business "
                            "term nor in jieba's dictionary (it may be segmented apart)")
        if not known(variant):
            warnings.append(f"synonyms.tsv: variant {variant!r} is not a dictionary word; it only matches if "
                            "jieba happens to segment it as one token")
        if canonical in stopwords:
            warnings.append(f"synonyms.tsv: {variant!r} maps to the stopword {canonical!r} (it will be dropped)")
    for word in sorted(terms & stopwords):
        warnings.append(f"stopwords.txt: {word!r} is also a business term (it will never be a token)")
    counts: dict[str, int] = {"business_terms": len(terms), "synonyms": len(synonyms), "stopwords": len(stopwords)}
    counts.update(_rule_counts(errors))
    return {"fingerprint": lexicons.lexicon_fingerprint(), "counts": counts, "errors": errors, "warnings": warnings}


def _rule_counts(errors: list[str]) -> dict[str, int]:
    """Load the regex-based lexicons; a file that does not compile becomes an error line."""
    from grid_appeals.text import normalise, numerals, sentiment, topics
    from grid_appeals.text.lexicons import LEXICON_DIR, _data_lines

    counts: dict[str, int] = {}
    for name, path in (("boilerplate_patterns", LEXICON_DIR / "boilerplate.txt"),):
        lines = _data_lines(path)
        counts[name] = len(lines)
        for line in lines:
            try:
                re.compile(line)
            except re.error as exc:
                errors.append(f"{path.name}: {line!r}: {exc}")
    normalise._boilerplate.cache_clear()
    numerals.protected_phrases.cache_clear()
    numerals._protected_pattern.cache_clear()
    counts["numeral_idioms"] = len(_data_lines(LEXICON_DIR / "numeral_idioms.txt"))
    topics.reload_topic_rules()
    sentiment.reload_cues()
    try:
        counts["topic_rules"] = len(topics.topic_rules().rules)
    except (re.error, ValueError, TypeError, AttributeError) as exc:
        errors.append(f"topic_rules.yaml: {exc}")
    try:
        counts["escalation_cues"] = len(sentiment.escalation_cues())
    except (re.error, ValueError, KeyError) as exc:
        errors.append(f"escalation_cues.tsv: {exc}")
    return counts


def _reload_check(args: argparse.Namespace) -> int:
    report = lexicon_report()
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
    else:
        print(f"lexicon fingerprint {report['fingerprint']}")
        for name, count in report["counts"].items():
            print(f"  {name:22s} {count}")
        for line in report["errors"]:
            print(f"ERROR   {line}")
        for line in report["warnings"]:
            print(f"warning {line}")
        print(f"{len(report['errors'])} error(s), {len(report['warnings'])} warning(s)")
    return 1 if report["errors"] else 0


def _train(args: argparse.Namespace) -> int:
    from datetime import date

    from grid_appeals.text.training import train_models

    print(json.dumps(train_models(date.fromisoformat(args.until), cv_folds=args.cv), ensure_ascii=False, indent=1))
    return 0


def _mine(args: argparse.Namespace) -> int:
    from datetime import date

    from grid_appeals.pipeline.mart_tasks import mine_text

    for out in mine_text(date.fromisoformat(args.date_from), date.fromisoformat(args.date_to)):
        print(json.dumps(out, ensure_ascii=False))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("text", help="appeal text mining: try a text, check the lexicons")
    actions = parser.add_subparsers(dest="text_action", required=True)
    seg = actions.add_parser("segment", help="run the text pipeline on one appeal text and print JSON")
    seg.add_argument("text", help="受理内容 as an agent would type it")
    seg.add_argument("--opinion", default="", help="处理意见 (optional)")
    seg.add_argument("--no-model", action="store_true", help="skip the classifier even if one is deployed")
    seg.set_defaults(func=_segment)
    check = actions.add_parser("reload-check", help="reload the lexicon files and report counts and problems")
    check.add_argument("--json", action="store_true", help="machine-readable output")
    check.set_defaults(func=_reload_check)
    train = actions.add_parser("train", help="fit the corpus IDF and the classifier on history before --until")
    train.add_argument("--until", required=True, help="train on orders accepted before this day (YYYY-MM-DD)")
    train.add_argument("--cv", type=int, default=0, help="cross-validation folds to record in the metadata")
    train.set_defaults(func=_train)
    mine = actions.add_parser("mine", help="run the per-date text-mining step into nlp.appeal_text")
    mine.add_argument("--from", dest="date_from", required=True)
    mine.add_argument("--to", dest="date_to", required=True)
    mine.set_defaults(func=_mine)
