"""Supervised appeal classification: business type, complaint class and second level.

Lexicon rules (``topics``) explain hot spots; this model assigns the official taxonomy so that
agent labels can be audited (``flag_disagreements``). It is deliberately a linear model over
sparse word / character / pinyin features (``features.hashed_keys``): trains in seconds, is robust
to typos and easy to retrain when the simulated or real corpus changes. Each saved model carries a
version string and metadata (training-data hash, date, metrics, lexicon fingerprint) so a
prediction can always be traced to what produced it.

Why it is built by hand rather than as sklearn pipelines (issue 5's throughput goal): prediction
is one pass of numpy over the batch (feature keys → columns via ``features.KeyIndex``, TF-IDF
weighting, per-view L2 norms) and **one** sparse × dense product that scores every class of every
target at once; calibration is a fixed Platt sigmoid per class fitted on out-of-fold decision
values, so no ensemble of calibration models runs at prediction time. sklearn's ``LinearSVC``
still does the fitting.

Two defences against what agents write (issue 5): training can be given which rows are trusted (the
hand-written corpus); the others' agent labels are then cleaned first — labels an out-of-fold model
contradicts with p ≥ ``NOISE_THRESHOLD`` are dropped (``contradicted_labels``), so the model does
not learn the agents' mislabels. And escalation-threat clauses (要投诉 / 打12398 / 找媒体曝光 / 起诉)
become one marker token (``features.mark_threats``) in training and prediction alike, so a threat
inside a repair or a query does not read as a complaint.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
from sklearn.svm import LinearSVC

from grid_appeals.text.features import (
    VIEW_OF_KIND,
    VIEWS,
    Doc,
    KeyIndex,
    KindKeys,
    hashed_keys,
    make_doc,
    mark_threats,
)
from grid_appeals.text.lexicons import lexicon_fingerprint

TARGETS = ("business_type", "complaint_class", "second_level")
BUSINESS_TYPES = ("故障报修", "业务咨询", "服务申请", "投诉", "举报", "意见", "建议", "表扬")
COMPLAINT_CLASSES = ("服务投诉", "营业投诉", "停送电投诉", "供电质量投诉", "电网建设投诉")
# second level → complaint class (State Grid 95598 complaint rules); used to make predictions consistent
SECOND_LEVELS = {
    "服务态度": "服务投诉",
    "服务行为规范": "服务投诉",
    "营业时间": "服务投诉",
    "服务渠道/设施": "服务投诉",
    "业扩报装": "营业投诉",
    "用电变更": "营业投诉",
    "抄表催费": "营业投诉",
    "电费电价": "营业投诉",
    "电能计量": "营业投诉",
    "业务收费": "营业投诉",
    "停送电信息公告": "停送电投诉",
    "停电计划执行": "停送电投诉",
    "抢修服务": "停送电投诉",
    "电压质量": "供电质量投诉",
    "供电可靠性": "供电质量投诉",
    "施工行为": "电网建设投诉",
    "电力设施安全": "电网建设投诉",
}
HIERARCHY_WEIGHT = 0.5  # share of the second-level model's vote in the complaint-class probabilities
SVM_C = 0.5
# the 【tag】 view: modest, agents' tags are sometimes wrong. Chosen on the hand-written grouped CV (b)
# (business-type acc / macro-F1): 0 → .9521/.9501, 0.15 → .9533/.9515, 0.3 → .9533/.9512, 0.5 → .9533/.9515
# (0.5 loses a complaint-class row); differences of a few rows, so the smallest weight is kept
TAG_WEIGHT = 0.15
VIEW_WEIGHTS = (1.0, 0.7, 1.0, TAG_WEIGHT)  # chars, words, pinyin: chosen on the hand-written grouped CV (b)
CALIBRATION_FOLDS = 3
NOISE_FOLDS = 3  # label-noise cleaning: out-of-fold models over the untrusted (agent-labelled) rows
NOISE_THRESHOLD = 0.85  # a label is dropped when the out-of-fold model prefers another class this surely
MODEL_FORMAT = 4  # 1 = sklearn pipelines per target; 2 = before threat clauses became one marker token;
# 3 = before the 【tag】 view
log = logging.getLogger(__name__)


# ---- features --------------------------------------------------------------------------------------
@dataclass
class FeatureSpace:
    """Fitted feature columns: key index, smoothed IDF per column and the view of each column.

    A document's vector in one view is Σ over its feature occurrences of idf(feature), divided by
    sqrt(Σ over the same occurrences of idf²) — TF-IDF with raw counts, each view normalised on
    its own so a long text's many character n-grams do not drown its words (the L2 norm whenever
    no feature repeats, as in most short appeals; with repeats it is the norm of the occurrences,
    which needs no de-duplication at prediction time).
    """

    index: KeyIndex
    idf: np.ndarray
    views: tuple[str, ...] = VIEWS
    view_weights: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0)

    @classmethod
    def fit(cls, docs: Sequence[Doc]) -> tuple[FeatureSpace, sp.csr_matrix]:
        """Columns = every key seen in ``docs``; returns the space and the weighted training matrix."""
        groups = hashed_keys(docs)
        index = KeyIndex(np.concatenate([g.keys for g in groups]))
        pairs = np.unique(np.concatenate([g.rows * len(index) + index.lookup(g.keys) for g in groups]))
        df = np.bincount(pairs % len(index), minlength=len(index))
        space = cls(index, np.log((1 + len(docs)) / (1 + df)) + 1.0, view_weights=VIEW_WEIGHTS)
        return space, space.matrix(docs, groups)

    def occurrences(
        self, docs: Sequence[Doc], groups: list[KindKeys] | None = None
    ) -> list[tuple[int, np.ndarray, np.ndarray]]:
        """(view, rows, columns) of each kind's known feature occurrences; rows non-decreasing."""
        out = []
        for group in hashed_keys(docs) if groups is None else groups:
            cols = self.index.lookup(group.keys)
            known = cols >= 0
            out.append((VIEW_OF_KIND[group.kind], group.rows[known], cols[known]))
        return out

    def inverse_norms(self, occurrences: list[tuple[int, np.ndarray, np.ndarray]], n: int) -> np.ndarray:
        """views × documents: 1 / sqrt(Σ idf²) of the view's occurrences (0 for an empty view)."""
        squares = np.zeros((len(self.views), n))
        idf2 = self.idf * self.idf
        for view, rows, cols in occurrences:
            squares[view] += np.bincount(rows, weights=idf2[cols], minlength=n)
        inverse = np.divide(1.0, np.sqrt(squares), out=np.zeros_like(squares), where=squares > 0)
        return inverse * np.asarray(self.view_weights)[:, None]

    def matrix(self, docs: Sequence[Doc], groups: list[KindKeys] | None = None) -> sp.csr_matrix:
        """The weighted document × column matrix (for training; prediction never builds it)."""
        occurrences = self.occurrences(docs, groups)
        scale = self.inverse_norms(occurrences, len(docs))
        rows = np.concatenate([r for _, r, _ in occurrences])
        cols = np.concatenate([c for _, _, c in occurrences])
        data = np.concatenate([self.idf[c] * scale[v, r] for v, r, c in occurrences])
        return sp.csr_matrix((data, (rows, cols)), shape=(len(docs), len(self.index)))  # sums repeats

    def scores(self, docs: Sequence[Doc], weights: np.ndarray) -> np.ndarray:
        """``matrix(docs) @ (weights / idf)`` without building the matrix: per kind, a 0/1
        occurrence matrix (already in row order, so no sorting) times ``weights`` — whose rows
        are pre-multiplied by the IDF — summed per view and scaled by the view's norm."""
        n = len(docs)
        occurrences = self.occurrences(docs)
        scale = self.inverse_norms(occurrences, n)
        per_view = np.zeros((len(self.views), n, weights.shape[1]), dtype=weights.dtype)
        for view, rows, cols in occurrences:
            indptr = np.zeros(n + 1, dtype=np.int64)
            np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
            ones = np.ones(len(cols), dtype=weights.dtype)
            per_view[view] += sp.csr_matrix((ones, cols, indptr), shape=(n, len(self.index))) @ weights
        return np.einsum("vnk,vn->nk", per_view, scale.astype(weights.dtype))


# ---- fitting ---------------------------------------------------------------------------------------
def _platt(scores: np.ndarray, positive: np.ndarray) -> tuple[float, float]:
    """Platt's sigmoid P(class | s) = 1 / (1 + exp(a·s + b)) with his smoothed targets (as sklearn's
    ``CalibratedClassifierCV(method="sigmoid")``), fitted on out-of-fold decision values."""
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    target = np.where(positive, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))

    def loss(ab: np.ndarray) -> tuple[float, np.ndarray]:
        z = ab[0] * scores + ab[1]
        p = 1.0 / (1.0 + np.exp(z))  # P(class)
        value = float(np.sum(np.logaddexp(0.0, z) - (1.0 - target) * z))
        grad = target - p
        return value, np.array([float(grad @ scores), float(grad.sum())])

    start = np.array([0.0, float(np.log((n_neg + 1.0) / (n_pos + 1.0)))])
    result = minimize(loss, start, jac=True, method="L-BFGS-B")
    return float(result.x[0]), float(result.x[1])


def _svm(x: sp.csr_matrix, y: np.ndarray, c: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(weights columns × classes, bias, classes); a binary problem gets one column per class."""
    svm = LinearSVC(C=c, class_weight="balanced").fit(x, y)
    weights, bias = svm.coef_.T, svm.intercept_
    if len(svm.classes_) == 2:
        weights, bias = np.hstack([-weights, weights]), np.concatenate([-bias, bias])
    return weights, bias, svm.classes_


def _fit_target(x: sp.csr_matrix, y: Sequence[str], groups: Sequence[str], c: float) -> dict[str, Any]:
    """One target: an SVM on all rows plus per-class Platt sigmoids fitted on out-of-fold scores.

    Folds are grouped by text, so a text repeated in training (the seed corpus is) is never
    scored by a model that saw it, which would make the sigmoids overconfident.
    """
    labels = np.asarray(y)
    weights, bias, classes = _svm(x, labels, c)
    k = min(CALIBRATION_FOLDS, min(Counter(labels.tolist()).values()), len(set(groups)))
    scores = x @ weights + bias  # in-sample fallback for tiny classes
    if k >= 2:
        oof = np.zeros_like(scores)
        splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=0)
        for train_idx, test_idx in splitter.split(np.zeros(len(labels)), labels, groups):
            if len(set(labels[train_idx].tolist())) < len(classes):
                break
            w, b, _ = _svm(x[train_idx], labels[train_idx], c)
            oof[test_idx] = x[test_idx] @ w + b
        else:
            scores = oof
    platt = np.array([_platt(scores[:, j], labels == cls) for j, cls in enumerate(classes)])
    return {
        "classes": [str(x) for x in classes],
        "weights": weights,
        "bias": bias,
        "a": platt[:, 0],
        "b": platt[:, 1],
    }


# ---- the model -------------------------------------------------------------------------------------
def consistent_hierarchy(
    p_class: np.ndarray,
    class_labels: Sequence[str],
    p_sub: np.ndarray,
    sub_labels: Sequence[str],
    weight: float = HIERARCHY_WEIGHT,
) -> tuple[np.ndarray, np.ndarray]:
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
    joint = p_sub / np.maximum(vote[:, owner], 1e-12) * combined[:, owner]
    best = combined.argmax(axis=1)
    return combined, np.where(owner[None, :] == best[:, None], joint, 0.0)


@dataclass
class TextClassifier:
    """Feature space + one weight matrix holding every target's classes, and the model's identity.

    ``targets`` maps target → its slice of the columns of ``weights`` and its class labels.
    """

    space: FeatureSpace
    weights: np.ndarray  # features × all classes of all targets, rows × the feature's IDF (float32)
    bias: np.ndarray
    calibration: np.ndarray  # 2 × all classes: Platt a, b
    targets: dict[str, tuple[int, int, tuple[str, ...]]]
    version: str
    metadata: dict[str, Any] = field(default_factory=dict)

    def classes(self, target: str) -> tuple[str, ...]:
        return self.targets[target][2]

    def probabilities(self, docs: Sequence[Doc]) -> dict[str, np.ndarray]:
        """Calibrated class probabilities per target (rows sum to 1)."""
        scores = self.space.scores(docs, self.weights).astype(np.float64) + self.bias
        sig = 1.0 / (1.0 + np.exp(scores * self.calibration[0] + self.calibration[1]))
        out = {}
        for target, (start, stop, _) in self.targets.items():
            block = sig[:, start:stop]
            total = block.sum(axis=1, keepdims=True)
            out[target] = np.divide(
                block, total, out=np.full_like(block, 1.0 / (stop - start)), where=total > 0
            )
        return out

    def predict_docs(self, docs: Sequence[Doc]) -> list[dict[str, dict[str, Any]]]:
        """Per document: ``{target: {"label", "confidence"}}``.

        Identical documents in a batch (re-sent orders, template texts) are scored once.
        """
        if not docs:
            return []
        unique: dict[Doc, int] = {}
        positions = [unique.setdefault(doc, len(unique)) for doc in docs]
        probs = self.probabilities([mark_threats(doc) for doc in unique])
        if "complaint_class" in probs and "second_level" in probs and self.metadata.get("hierarchy", True):
            probs["complaint_class"], probs["second_level"] = consistent_hierarchy(
                probs["complaint_class"],
                self.classes("complaint_class"),
                probs["second_level"],
                self.classes("second_level"),
                float(self.metadata.get("hierarchy_weight", HIERARCHY_WEIGHT)),
            )
        columns = []
        for target, probabilities in probs.items():
            classes = self.classes(target)
            best = probabilities.argmax(axis=1)
            confidence = np.round(probabilities[np.arange(len(best)), best], 4)
            columns.append((target, [classes[i] for i in best.tolist()], confidence.tolist()))
        per_doc = [
            {target: {"label": labels[row], "confidence": conf[row]} for target, labels, conf in columns}
            for row in range(len(unique))
        ]
        return [{t: dict(v) for t, v in per_doc[p].items()} for p in positions]

    def predict(self, texts: Sequence[str]) -> list[dict[str, dict[str, Any]]]:
        """Predict from raw appeal text (normalised, masked and segmented here)."""
        return self.predict_docs([make_doc(t) for t in texts])

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(
            {
                "format": MODEL_FORMAT,
                "version": self.version,
                "metadata": self.metadata,
                "space": self.space,
                "weights": self.weights,
                "bias": self.bias,
                "calibration": self.calibration,
                "targets": self.targets,
            },
            path,
            compress=3,
        )
        return path


def load(path: str | Path) -> TextClassifier:
    payload = joblib.load(path)
    if payload.get("format") != MODEL_FORMAT:
        raise ValueError(
            f"{path}: model format {payload.get('format')!r}, this code reads {MODEL_FORMAT}: "
            "retrain with 'grid-appeals text train'"
        )
    return TextClassifier(
        payload["space"],
        payload["weights"],
        payload["bias"],
        payload["calibration"],
        payload["targets"],
        payload["version"],
        payload["metadata"],
    )


def data_hash(texts: Sequence[str], labels: Mapping[str, Sequence[str | None]]) -> str:
    digest = hashlib.sha256()
    for index, text in enumerate(texts):
        digest.update(text.encode())
        for target in sorted(labels):
            digest.update(b"\t" + (labels[target][index] or "").encode())
        digest.update(b"\n")
    return digest.hexdigest()


def fit_docs(
    docs: Sequence[Doc],
    label_map: Mapping[str, Sequence[str | None]],
    *,
    c: float | None = None,
    version: str = "unversioned",
) -> TextClassifier:
    """Fit the feature space on all ``docs`` and one SVM per target on the rows it labels."""
    c = SVM_C if c is None else c
    docs = [mark_threats(doc) for doc in docs]
    space, x = FeatureSpace.fit(docs)
    groups = [doc.text for doc in docs]
    blocks: list[dict[str, Any]] = []
    targets: dict[str, tuple[int, int, tuple[str, ...]]] = {}
    start = 0
    for target, target_labels in label_map.items():
        if len(target_labels) != len(docs):
            raise ValueError(f"{target}: {len(target_labels)} labels for {len(docs)} texts")
        rows = np.array([i for i, label in enumerate(target_labels) if label], dtype=np.int64)
        y = [str(target_labels[i]) for i in rows]
        if len(set(y)) < 2:
            continue
        block = _fit_target(x[rows], y, [groups[i] for i in rows], c)
        targets[target] = (start, start + len(block["classes"]), tuple(block["classes"]))
        start += len(block["classes"])
        blocks.append(block)
    if not blocks:
        raise ValueError("no target has two or more classes")
    return TextClassifier(
        space,
        (np.hstack([b["weights"] for b in blocks]) * space.idf[:, None]).astype(np.float32),
        np.concatenate([b["bias"] for b in blocks]),
        np.vstack([np.concatenate([b["a"] for b in blocks]), np.concatenate([b["b"] for b in blocks])]),
        targets,
        version,
    )


def contradicted_labels(
    docs: Sequence[Doc],
    label_map: Mapping[str, Sequence[str | None]],
    trusted: Sequence[bool],
    *,
    folds: int = NOISE_FOLDS,
    threshold: float = NOISE_THRESHOLD,
    c: float | None = None,
) -> dict[str, np.ndarray]:
    """Per target: a mask of the untrusted rows whose label an out-of-fold model contradicts.

    Why: agents mislabel a few per cent of orders (a repair filed as 咨询, a complaint as 意见), and
    a linear model trained on those labels learns part of the noise. The untrusted rows are split
    into ``folds`` (grouped by text, so a repeated text is never judged by a model that saw it);
    each part is predicted by a model fitted on the other parts plus every trusted row (the
    hand-written corpus). A row's label counts as contradicted when that model gives another class
    a probability ≥ ``threshold``. Trusted rows are never judged. No ground truth is involved: the
    only evidence is the agreement of the other agents' labels (and the seed corpus) on similar text.
    """
    n = len(docs)
    out = {target: np.zeros(n, dtype=bool) for target in label_map}
    untrusted = np.flatnonzero(~np.asarray(trusted, dtype=bool))
    if folds < 2 or len(untrusted) < folds:
        return out
    # fold of each untrusted row, by its text: identical texts share a fold
    texts = sorted({docs[i].text for i in untrusted})
    rng = np.random.default_rng(0)
    fold_of_text = dict(zip(texts, rng.permutation(len(texts)) % folds, strict=True))
    fold = np.full(n, -1)
    fold[untrusted] = [fold_of_text[docs[i].text] for i in untrusted]
    for k in range(folds):
        test = np.flatnonzero(fold == k)
        train = np.flatnonzero(fold != k)
        if not len(test):
            continue
        model = fit_docs(
            [docs[i] for i in train], {t: [labels[i] for i in train] for t, labels in label_map.items()}, c=c
        )
        for row, predicted in zip(test, model.predict_docs([docs[i] for i in test]), strict=True):
            for target, labels in label_map.items():
                guess, label = predicted.get(target), labels[row]
                if label and guess and guess["label"] != label and guess["confidence"] >= threshold:
                    out[target][row] = True
    return out


def clean_labels(
    label_map: Mapping[str, Sequence[str | None]], contradicted: Mapping[str, np.ndarray]
) -> tuple[dict[str, list[str | None]], dict[str, int]]:
    """Labels with the contradicted ones removed (None), and how many each target lost.

    The levels are nested: a contradicted business type removes the row's complaint class and
    second level too (they only mean something if the order is a complaint), and a contradicted
    complaint class removes the second level.
    """
    cascade = {"business_type": TARGETS, "complaint_class": ("complaint_class", "second_level")}
    drop = {target: np.zeros(len(labels), dtype=bool) for target, labels in label_map.items()}
    for target, mask in contradicted.items():
        for other in cascade.get(target, (target,)):
            if other in drop:
                drop[other] |= mask
    cleaned = {
        target: [None if drop[target][i] else label for i, label in enumerate(labels)]
        for target, labels in label_map.items()
    }
    dropped = {
        target: int(sum(1 for a, b in zip(label_map[target], cleaned[target], strict=True) if a and not b))
        for target in label_map
    }
    return cleaned, dropped


def _cv_metrics(docs: list[Doc], y: list[str], folds: int) -> dict[str, Any]:
    counts = Counter(y)
    k = min(folds, min(counts.values()))
    if k < 2 or len(counts) < 2:
        return {"n": len(y), "cv_folds": 0}
    predicted = np.empty(len(y), dtype=object)
    for train_idx, test_idx in StratifiedKFold(n_splits=k, shuffle=True, random_state=0).split(docs, y):
        model = fit_docs([docs[i] for i in train_idx], {"target": [y[i] for i in train_idx]})
        predicted[test_idx] = [p["target"]["label"] for p in model.predict_docs([docs[i] for i in test_idx])]
    return {
        "n": len(y),
        "cv_folds": k,
        "accuracy": round(float(accuracy_score(y, predicted.tolist())), 4),
        "macro_f1": round(float(f1_score(y, predicted.tolist(), average="macro")), 4),
    }


def train(
    texts: Sequence[str],
    labels: Mapping[str, Sequence[str | None]] | Sequence[str],
    *,
    cv_folds: int = 3,
    version: str | None = None,
    c: float | None = None,
    trusted: Sequence[bool] | None = None,
    noise_folds: int = NOISE_FOLDS,
    noise_threshold: float = NOISE_THRESHOLD,
    contradicted_out: dict[str, np.ndarray] | None = None,
) -> TextClassifier:
    """Fit the classifier on every target (rows where that target has a label).

    ``labels`` maps target name → labels aligned with ``texts`` (None/"" = not applicable, e.g. the
    complaint class of a repair order); a plain sequence means ``business_type`` only.
    ``cv_folds`` > 1 records stratified cross-validated accuracy / macro-F1 in the metadata.
    ``trusted`` (aligned with ``texts``) marks rows whose labels are known good (the hand-written
    corpus); when given, the other rows' labels are cleaned first (``contradicted_labels`` with
    ``noise_folds`` / ``noise_threshold``; ``noise_folds`` < 2 turns it off) and the counts of
    dropped labels are recorded in the metadata; ``contradicted_out``, if given, receives the
    per-target masks of the contradicted rows (for evaluation against the truth).
    """
    label_map: dict[str, Sequence[str | None]] = (
        {"business_type": labels} if not isinstance(labels, Mapping) else dict(labels)
    )  # type: ignore[dict-item]
    docs = [make_doc(t) for t in texts]
    cleaning: dict[str, Any] | None = None
    if trusted is not None and noise_folds >= 2:
        if len(trusted) != len(docs):
            raise ValueError(f"{len(trusted)} trust flags for {len(docs)} texts")
        contradicted = contradicted_labels(
            docs, label_map, trusted, folds=noise_folds, threshold=noise_threshold, c=c
        )
        if contradicted_out is not None:
            contradicted_out.update(contradicted)
        label_map, dropped = clean_labels(label_map, contradicted)  # type: ignore[assignment]
        cleaning = {"folds": noise_folds, "threshold": noise_threshold, "dropped": dropped,
                    "untrusted_rows": int(len(docs) - sum(map(bool, trusted)))}
    model = fit_docs(docs, label_map, c=c)
    metrics: dict[str, Any] = {}
    for target, (_, _, classes) in model.targets.items():
        rows = [i for i, label in enumerate(label_map[target]) if label]
        if cv_folds > 1:
            metrics[target] = _cv_metrics(
                [docs[i] for i in rows], [str(label_map[target][i]) for i in rows], cv_folds
            )
        metrics.setdefault(target, {"n": len(rows)})["classes"] = sorted(classes)
    digest = data_hash(texts, label_map)
    trained_at = datetime.now(UTC)
    import sklearn

    model.version = version or f"appeal-text-{trained_at:%Y%m%d%H%M%S}-{digest[:8]}"
    model.metadata = {
        "trained_at": trained_at.isoformat(timespec="seconds"),
        "training_data_sha256": digest,
        "n_texts": len(texts),
        "metrics": metrics,
        "lexicon_fingerprint": lexicon_fingerprint(),
        "n_features": len(model.space.index),
        "svm_c": SVM_C if c is None else c,
        "sklearn": sklearn.__version__,
        "label_cleaning": cleaning,
        "threat_marker": True,
    }
    return model


def flag_disagreements(
    agent_labels: Sequence[str | None],
    predictions: Sequence[Mapping[str, Any]],
    target: str = "business_type",
    threshold: float = 0.8,
) -> list[dict[str, Any]]:
    """Rows where the agent's label differs from a confident model label: candidates for review."""
    flagged = []
    for index, (agent, predicted) in enumerate(zip(agent_labels, predictions, strict=True)):
        guess = predicted.get(target)
        if not agent or not guess:
            continue
        if guess["label"] != agent and guess["confidence"] >= threshold:
            flagged.append(
                {
                    "index": index,
                    "target": target,
                    "agent_label": agent,
                    "model_label": guess["label"],
                    "confidence": guess["confidence"],
                }
            )
    return flagged
