"""Supervised appeal classification: business type, complaint class and second level.

Lexicon rules (``topics``) explain hot spots; this model assigns the official taxonomy so that
agent labels can be audited (``flag_disagreements``). It is deliberately a linear model over
sparse word / character / pinyin features: trains in seconds on a laptop, is robust to typos and
is easy to retrain when the simulated or real corpus changes. Each saved model carries a version
string and metadata (training-data hash, date, metrics, lexicon fingerprint) so a prediction can
always be traced to what produced it.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import scipy.sparse as sp
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from grid_appeals.text.features import Doc, doc_pinyin, doc_text, make_doc
from grid_appeals.text.lexicons import lexicon_fingerprint

TARGETS = ("business_type", "complaint_class", "second_level")
BUSINESS_TYPES = ("故障报修", "业务咨询", "服务申请", "投诉", "举报", "意见", "建议", "表扬")
COMPLAINT_CLASSES = ("服务投诉", "营业投诉", "停送电投诉", "供电质量投诉", "电网建设投诉")
# second level → complaint class (State Grid 95598 complaint rules); used to make predictions consistent
SECOND_LEVELS = {
    "服务态度": "服务投诉", "服务行为规范": "服务投诉", "营业时间": "服务投诉", "服务渠道/设施": "服务投诉",
    "业扩报装": "营业投诉", "用电变更": "营业投诉", "抄表催费": "营业投诉", "电费电价": "营业投诉", "电能计量": "营业投诉",
    "业务收费": "营业投诉", "停送电信息公告": "停送电投诉", "停电计划执行": "停送电投诉", "抢修服务": "停送电投诉",
    "电压质量": "供电质量投诉", "供电可靠性": "供电质量投诉", "施工行为": "电网建设投诉", "电力设施安全": "电网建设投诉",
}
HIERARCHY_WEIGHT = 0.5  # share of the second-level model's vote in the complaint-class probabilities
MODEL_FORMAT = 1
log = logging.getLogger(__name__)
_WHITE_SPACES = re.compile(r"\s\s+")  # what sklearn's char_wb analyzer collapses


def _estimator(min_class_count: int, c: float) -> Any:
    """Calibrated linear SVM (fast, well-calibrated probabilities); LogReg when a class is too rare
    for the calibration folds."""
    if min_class_count >= 2:
        folds = min(3, min_class_count)
        return CalibratedClassifierCV(LinearSVC(C=c, class_weight="balanced"), cv=folds, method="sigmoid")
    return LogisticRegression(C=10.0, max_iter=3000, class_weight="balanced")


def doc_token_bigrams(doc: Doc) -> list[str]:
    """Tokens plus adjacent-token pairs: "不_投诉", "能不能_改", "还_没来" carry the intent that single
    words share across business types (投诉 is said by callers who only want a repair). In the
    hand-written grouped CV this raised business-type accuracy slightly and halved the homophone
    drop of that level, because a pair survives when one of its characters is mistyped elsewhere."""
    tokens = doc.tokens
    return [*tokens, *(f"{a}_{b}" for a, b in pairwise(tokens))]


def build_pipeline(use_pinyin: bool = True, c: float = 0.5, min_class_count: int = 3) -> Pipeline:
    """Sparse features (words + word pairs, char_wb 1-3, optional pinyin) → calibrated linear classifier.

    The leading 【tag】 is not a feature (``make_doc`` keeps only the body): the agent's template
    tag is often wrong or generic (【12345转办】, 【催办】), and the hand-written corpus holds rows
    whose tag contradicts the content, so the content decides.
    """
    views: list[tuple[str, Any]] = [
        ("words", TfidfVectorizer(analyzer=doc_token_bigrams, sublinear_tf=True, min_df=1)),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), preprocessor=doc_text,
                                  sublinear_tf=True, min_df=1, lowercase=False)),
    ]
    if use_pinyin:
        views.append(("pinyin", TfidfVectorizer(analyzer=doc_pinyin, sublinear_tf=True, min_df=1)))
    return Pipeline([
        ("features", FeatureUnion(views)),
        ("model", _estimator(min_class_count, c)),
    ])


def data_hash(texts: Sequence[str], labels: Mapping[str, Sequence[str | None]]) -> str:
    digest = hashlib.sha256()
    for index, text in enumerate(texts):
        digest.update(text.encode())
        for target in sorted(labels):
            digest.update(b"\t" + (labels[target][index] or "").encode())
        digest.update(b"\n")
    return digest.hexdigest()


def _char_wb_ngrams(text: str, min_n: int, max_n: int) -> list[str]:
    """sklearn's ``char_wb`` n-grams (same multiset), with list comprehensions instead of a loop."""
    grams: list[str] = []
    for word in _WHITE_SPACES.sub(" ", text).split():
        padded = f" {word} "
        length = len(padded)
        for n in range(min_n, max_n + 1):
            if n >= length:
                grams.append(padded)  # sklearn counts a word shorter than n once, then stops
                break
            grams.extend([padded[i:i + n] for i in range(length - n + 1)])
    return grams


class _View:
    """One feature view shared by every target: analyse each document once, count once into the
    union of the targets' vocabularies, then let each target pick its columns."""

    def __init__(self, name: str, vectorizers: list[TfidfVectorizer]) -> None:
        first = vectorizers[0]
        params = {k: v for k, v in first.get_params().items() if k != "vocabulary"}
        for other in vectorizers[1:]:
            if {k: v for k, v in other.get_params().items() if k != "vocabulary"} != params:
                raise ValueError(f"view {name}: targets use different analyzers")
        self.name = name
        if first.analyzer == "char_wb" and first.preprocessor is doc_text and not first.lowercase:
            low, high = first.ngram_range
            self.analyze: Any = lambda doc: _char_wb_ngrams(doc.text, low, high)
        else:
            self.analyze = first.build_analyzer()
        self.vocabulary: dict[str, int] = {}
        for vectorizer in vectorizers:
            for term in vectorizer.vocabulary_:
                self.vocabulary.setdefault(term, len(self.vocabulary))

    def counts(self, docs: Sequence[Doc]) -> sp.csr_matrix:
        """Document × union-vocabulary count matrix; lookups via ``map`` so they run in C."""
        get = self.vocabulary.get
        rows: list[int] = []
        cols: list[int] = []
        for row, doc in enumerate(docs):
            found = [c for c in map(get, self.analyze(doc)) if c is not None]
            cols.extend(found)
            rows.extend([row] * len(found))
        data = np.ones(len(cols), dtype=np.float64)
        matrix = sp.csr_matrix((data, (rows, cols)), shape=(len(docs), len(self.vocabulary)))
        matrix.sum_duplicates()
        return matrix


class _FastPredictor:
    """``predict_proba`` of every target's pipeline with the feature analysis done once per batch.

    Each target's pipeline has its own ``FeatureUnion`` of ``TfidfVectorizer``s, so sklearn would
    analyse every text three times (once per target) and count n-grams in a Python loop; that
    was slower than segmentation itself. Here each view is analysed and counted once, each target
    selects its own vocabulary's columns and applies its own fitted TF-IDF weighting and model, so
    the probabilities are the same (checked against sklearn on the first batch).
    """

    def __init__(self, models: Mapping[str, Pipeline]) -> None:
        self.models = dict(models)
        by_view: dict[str, list[TfidfVectorizer]] = {}
        for pipeline in self.models.values():
            union = pipeline.named_steps["features"]
            if union.transformer_weights:
                raise ValueError("weighted feature unions are not supported")
            for name, vectorizer in union.transformer_list:
                if not isinstance(vectorizer, TfidfVectorizer) or not hasattr(vectorizer, "_tfidf"):
                    raise ValueError(f"view {name} is not a fitted TfidfVectorizer")
                by_view.setdefault(name, []).append(vectorizer)
        self.views = {name: _View(name, vectorizers) for name, vectorizers in by_view.items()}
        # per target and view: union column of each of the target's own feature indices
        self.columns: dict[str, list[tuple[str, np.ndarray, TfidfVectorizer]]] = {}
        for target, pipeline in self.models.items():
            parts = []
            for name, vectorizer in pipeline.named_steps["features"].transformer_list:
                vocab = self.views[name].vocabulary
                order = np.empty(len(vectorizer.vocabulary_), dtype=np.int64)
                for term, index in vectorizer.vocabulary_.items():
                    order[index] = vocab[term]
                parts.append((name, order, vectorizer))
            self.columns[target] = parts

    def predict_proba(self, docs: Sequence[Doc]) -> dict[str, np.ndarray]:
        counts = {name: view.counts(docs) for name, view in self.views.items()}
        out: dict[str, np.ndarray] = {}
        for target, parts in self.columns.items():
            blocks = [vectorizer._tfidf.transform(counts[name][:, order], copy=False)
                      for name, order, vectorizer in parts]
            features = sp.hstack(blocks, format="csr")
            out[target] = self.models[target][-1].predict_proba(features)
        return out


def consistent_hierarchy(p_class: np.ndarray, class_labels: Sequence[str], p_sub: np.ndarray,
                         sub_labels: Sequence[str], weight: float = HIERARCHY_WEIGHT) -> tuple[np.ndarray, np.ndarray]:
    """Combine the complaint-class and second-level models and make the second level imply the class.

    Why: the two models are trained on the same complaint texts but see different label
    granularity, so their errors are partly independent; summing the second-level probabilities
    per class gives a second opinion on the class (an ensemble for free). Then the second level is
    chosen *within* the chosen class — a "电压质量" second level under "营业投诉" would be a label
    no agent could file. Returns (class probabilities, second-level scores): the latter are
    P(class) × P(sub | class) for the subs of the most likely class and 0 elsewhere, so the
    second level's argmax lies in the predicted class and its confidence is a joint probability.
    """
    index = {label: i for i, label in enumerate(class_labels)}
    owner = np.array([index.get(SECOND_LEVELS.get(str(sub), ""), -1) for sub in sub_labels])
    if (owner < 0).any():  # unknown labels (custom taxonomy): leave both models alone
        return p_class, p_sub
    vote = np.zeros_like(p_class)
    np.add.at(vote.T, owner, p_sub.T)
    combined = (1 - weight) * p_class + weight * vote
    within = np.zeros_like(p_class)
    np.add.at(within.T, owner, p_sub.T)
    joint = p_sub / np.maximum(within[:, owner], 1e-12) * combined[:, owner]
    best = combined.argmax(axis=1)
    return combined, np.where(owner[None, :] == best[:, None], joint, 0.0)


@dataclass
class TextClassifier:
    """One fitted pipeline per target plus the metadata that identifies the model."""

    models: dict[str, Pipeline]
    version: str
    metadata: dict[str, Any] = field(default_factory=dict)
    # built on first prediction, never saved; False = fast path unavailable, use sklearn's
    _fast: _FastPredictor | bool | None = field(default=None, init=False, repr=False, compare=False)

    def _probabilities(self, docs: list[Doc]) -> dict[str, np.ndarray]:
        if self._fast is None:
            try:
                fast = _FastPredictor(self.models)
                sample = docs[:16]
                expected = {t: p.predict_proba(sample) for t, p in self.models.items()}
                got = fast.predict_proba(sample)
                same = all(np.allclose(got[t], expected[t], atol=1e-9) for t in expected)
                self._fast = fast if same else False
                if not same:
                    log.warning("fast classifier path disagrees with sklearn; using sklearn")
            except (ValueError, AttributeError, KeyError) as exc:
                log.warning("fast classifier path unavailable (%s); using sklearn", exc)
                self._fast = False
        if isinstance(self._fast, _FastPredictor):
            return self._fast.predict_proba(docs)
        return {t: p.predict_proba(docs) for t, p in self.models.items()}

    def predict_docs(self, docs: Sequence[Doc]) -> list[dict[str, dict[str, Any]]]:
        """Per document: ``{target: {"label", "confidence"}}``.

        Identical documents in a batch (re-sent orders, template texts) are scored once.
        """
        if not docs:
            return []
        unique: dict[Doc, int] = {}
        positions = [unique.setdefault(doc, len(unique)) for doc in docs]
        distinct = list(unique)
        per_doc: list[dict[str, dict[str, Any]]] = [{} for _ in distinct]
        probs = self._probabilities(distinct)
        if "complaint_class" in probs and "second_level" in probs and self.metadata.get("hierarchy", True):
            probs["complaint_class"], probs["second_level"] = consistent_hierarchy(
                probs["complaint_class"], list(self.models["complaint_class"].classes_),
                probs["second_level"], list(self.models["second_level"].classes_),
                float(self.metadata.get("hierarchy_weight", HIERARCHY_WEIGHT)))
        for target, probabilities in probs.items():
            classes = self.models[target].classes_
            best = probabilities.argmax(axis=1)
            confidence = probabilities[np.arange(len(best)), best]
            for row, (index, value) in enumerate(zip(best.tolist(), confidence.tolist(), strict=True)):
                per_doc[row][target] = {"label": str(classes[index]), "confidence": round(value, 4)}
        return [{t: dict(v) for t, v in per_doc[p].items()} for p in positions]

    def predict(self, texts: Sequence[str]) -> list[dict[str, dict[str, Any]]]:
        """Predict from raw appeal text (normalised, masked and segmented here)."""
        return self.predict_docs([make_doc(t) for t in texts])

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump({"format": MODEL_FORMAT, "version": self.version, "metadata": self.metadata,
                     "models": self.models}, path, compress=3)
        return path


def load(path: str | Path) -> TextClassifier:
    payload = joblib.load(path)
    if payload.get("format") != MODEL_FORMAT:
        raise ValueError(f"{path}: unsupported model format {payload.get('format')!r}")
    return TextClassifier(payload["models"], payload["version"], payload["metadata"])


def _cv_metrics(docs: list[Doc], y: list[str], use_pinyin: bool, folds: int) -> dict[str, Any]:
    counts = Counter(y)
    k = min(folds, min(counts.values()))
    if k < 2 or len(counts) < 2:
        return {"n": len(y), "cv_folds": 0}
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=0)
    inner_min = min(counts.values()) * (k - 1) // k
    predicted = cross_val_predict(build_pipeline(use_pinyin, min_class_count=inner_min), docs, y, cv=splitter)
    return {"n": len(y), "cv_folds": k, "accuracy": round(float(accuracy_score(y, predicted)), 4),
            "macro_f1": round(float(f1_score(y, predicted, average="macro")), 4)}


def train(texts: Sequence[str], labels: Mapping[str, Sequence[str | None]] | Sequence[str], *,
          use_pinyin: bool = True, cv_folds: int = 3, version: str | None = None) -> TextClassifier:
    """Fit one pipeline per target on the rows where that target has a label.

    ``labels`` maps target name → labels aligned with ``texts`` (None/"" = not applicable, e.g. the
    complaint class of a repair order); a plain sequence means ``business_type`` only.
    ``cv_folds`` > 1 records stratified cross-validated accuracy / macro-F1 in the metadata.
    """
    label_map: dict[str, Sequence[str | None]] = (
        {"business_type": labels} if not isinstance(labels, Mapping) else dict(labels))  # type: ignore[dict-item]
    docs = [make_doc(t) for t in texts]
    models: dict[str, Pipeline] = {}
    metrics: dict[str, Any] = {}
    for target, target_labels in label_map.items():
        if len(target_labels) != len(docs):
            raise ValueError(f"{target}: {len(target_labels)} labels for {len(docs)} texts")
        rows = [i for i, label in enumerate(target_labels) if label]
        y = [str(target_labels[i]) for i in rows]
        if len(set(y)) < 2:
            continue
        target_docs = [docs[i] for i in rows]
        if cv_folds > 1:
            metrics[target] = _cv_metrics(target_docs, y, use_pinyin, cv_folds)
        min_count = min(Counter(y).values())
        models[target] = build_pipeline(use_pinyin, min_class_count=min_count).fit(target_docs, y)
        metrics.setdefault(target, {"n": len(y)})["classes"] = sorted(set(y))
    digest = data_hash(texts, label_map)
    trained_at = datetime.now(UTC)
    version = version or f"appeal-text-{trained_at:%Y%m%d%H%M%S}-{digest[:8]}"
    import sklearn

    metadata = {"trained_at": trained_at.isoformat(timespec="seconds"), "training_data_sha256": digest,
                "n_texts": len(texts), "metrics": metrics, "lexicon_fingerprint": lexicon_fingerprint(),
                "use_pinyin": use_pinyin, "sklearn": sklearn.__version__}
    return TextClassifier(models, version, metadata)


def flag_disagreements(agent_labels: Sequence[str | None], predictions: Sequence[Mapping[str, Any]],
                       target: str = "business_type", threshold: float = 0.8) -> list[dict[str, Any]]:
    """Rows where the agent's label differs from a confident model label: candidates for review."""
    flagged = []
    for index, (agent, predicted) in enumerate(zip(agent_labels, predictions, strict=True)):
        guess = predicted.get(target)
        if not agent or not guess:
            continue
        if guess["label"] != agent and guess["confidence"] >= threshold:
            flagged.append({"index": index, "target": target, "agent_label": agent,
                            "model_label": guess["label"], "confidence": guess["confidence"]})
    return flagged


