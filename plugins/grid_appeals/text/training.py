"""Train the appeal classifier and the corpus IDF from the warehouse's labelled history.

Labels are the agents' own (noisy, as in reality) from raw 95598 orders accepted before ``until``,
plus the hand-written seed corpus, so the model also sees human phrasing the simulator never
produced. No ground truth is read here: how good the model is against the truth is measured by
``grid_appeals.evaluate``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import psycopg

from grid_appeals.config import Settings, settings
from grid_appeals.text.seed_corpus import SeedRow, load_seed_corpus, seed_labels
from grid_appeals.transform.codes import code_map
from grid_appeals.warehouse.connection import warehouse_dsn

log = logging.getLogger(__name__)

HISTORY_SQL = """
select accept_content, busi_type_code, cmpl_class_code, cmpl_sub_code
from raw_95598.arc_s_95598_wkst
where handle_time < %(until)s and handle_time >= %(since)s and accept_content is not null
order by app_no
"""
SEED_REPEAT = 3  # the hand-written corpus is small; repeat it so it keeps weight next to history


def with_seed_corpus(
    texts: Sequence[str], labels: Mapping[str, Sequence[str | None]], seed: Sequence[SeedRow] | None = None
) -> tuple[list[str], dict[str, list[str | None]]]:
    """History + the seed corpus repeated ``SEED_REPEAT`` times: (texts, labels).

    ``grid_appeals.evaluate`` trains through this too, so the evaluated model is built exactly
    like the deployed one.
    """
    seed = load_seed_corpus() if seed is None else seed
    seed_lab = seed_labels(list(seed))
    all_texts = list(texts)
    all_labels = {target: list(values) for target, values in labels.items()}
    for _ in range(SEED_REPEAT):
        all_texts += [r.text for r in seed]
        for target in all_labels:
            all_labels[target] += seed_lab[target]
    return all_texts, all_labels


def fit_with_seed_corpus(
    texts: Sequence[str],
    labels: Mapping[str, Sequence[str | None]],
    seed: Sequence[SeedRow] | None = None,
    *,
    version: str | None = None,
    cv_folds: int = 0,
    clean: bool = True,
    contradicted_out: dict[str, Any] | None = None,
) -> Any:
    """The production classifier: history (agent labels) + the seed corpus, history labels cleaned.

    The seed corpus is trusted; the history's agent labels are noisy, so with ``clean`` the labels
    an out-of-fold model contradicts with p ≥ ``classifier.NOISE_THRESHOLD`` are dropped before the
    final fit (``classifier.contradicted_labels``). ``train_models`` and the evaluation both train
    through here, so what is evaluated is what ships.
    """
    from grid_appeals.text import classifier

    all_texts, all_labels = with_seed_corpus(texts, labels, seed)
    trusted = [False] * len(texts) + [True] * (len(all_texts) - len(texts))
    return classifier.train(
        all_texts,
        all_labels,
        cv_folds=cv_folds,
        version=version,
        trusted=trusted if clean else None,
        contradicted_out=contradicted_out,
    )


def labelled_history(
    until: date, since: date, cfg: Settings
) -> tuple[list[str], dict[str, list[str | None]]]:
    bt, cc, sl = code_map("BUSI_TYPE_CODE"), code_map("CMPL_CLASS_CODE"), code_map("CMPL_SUB_CODE")
    with psycopg.connect(warehouse_dsn(cfg)) as conn:
        rows = conn.execute(HISTORY_SQL, {"until": until, "since": since}).fetchall()
    texts: list[str] = []
    labels: dict[str, list[str | None]] = {"business_type": [], "complaint_class": [], "second_level": []}
    for text, b, c, s in rows:
        business = bt.get(b or "")
        if business is None:
            continue
        complaint = business == "投诉"
        texts.append(text)
        labels["business_type"].append(business)
        labels["complaint_class"].append(cc.get(c or "") if complaint else None)
        labels["second_level"].append(sl.get(s or "") if complaint else None)
    return texts, labels


def train_models(
    until: date, *, since: date | None = None, cfg: Settings | None = None, cv_folds: int = 0
) -> dict[str, Any]:
    """Fit IDF + classifier on history before ``until``; save them and make them current."""
    from grid_appeals.text import artifacts
    from grid_appeals.text.features import doc_tokens, make_doc
    from grid_appeals.text.keywords import IdfModel

    cfg = cfg or settings()
    t0 = time.perf_counter()
    since = since or date(until.year - 2, until.month, 1)
    history, history_labels = labelled_history(until, since, cfg)
    texts, _ = with_seed_corpus(history, history_labels)
    idf = IdfModel.fit(doc_tokens(make_doc(t)) for t in texts)
    idf_file = idf.save(artifacts.idf_path(cfg))
    model = fit_with_seed_corpus(
        history, history_labels, cv_folds=cv_folds, version=f"appeal-text-{until:%Y%m%d}-n{len(texts)}"
    )
    path = model.save(artifacts.model_path(model.version, cfg))
    artifacts.set_current_model(model.version, cfg)
    out = {
        "model_version": model.version,
        "model_file": str(path),
        "idf_file": str(idf_file),
        "training_texts": len(texts),
        "history_texts": len(history),
        "seconds": round(time.perf_counter() - t0, 1),
        "metrics": model.metadata.get("metrics"),
        "label_cleaning": model.metadata.get("label_cleaning"),
    }
    log.info("trained %s", out)
    return out
