"""Where the text-mining artifacts of a deployment live: one place, so the Airflow tasks, the CLI
and the notebooks load the same model and IDF.

Layout under ``settings().deploy_dir / "models"``:

- ``appeal_classifier-<version>.joblib``  a ``classifier.TextClassifier`` (version in the name, so
  an old model stays loadable next to a new one and predictions can be traced to it);
- ``appeal_classifier-current.txt``       the version the pipeline uses (written by training);
- ``idf.tsv``                            the corpus IDF (``keywords.IdfModel``, jieba's TSV format).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

MODEL_PREFIX = "appeal_classifier-"
CURRENT_POINTER = "appeal_classifier-current.txt"
IDF_FILE = "idf.tsv"


def models_dir(cfg: Any = None) -> Path:
    """``<deploy_dir>/models`` of ``cfg`` (a ``config.Settings``; default: the current deployment)."""
    if cfg is None:
        from grid_appeals.config import settings

        cfg = settings()
    return Path(cfg.deploy_dir) / "models"


def _base(base: Any) -> Path:
    """``base`` may be a folder, a ``Settings`` (its models folder) or None (current deployment)."""
    if base is None or hasattr(base, "deploy_dir"):
        return models_dir(base)
    return Path(base)


def model_path(version: str, base: Any = None) -> Path:
    """File of one classifier version."""
    return _base(base) / f"{MODEL_PREFIX}{version}.joblib"


def idf_path(base: Any = None) -> Path:
    return _base(base) / IDF_FILE


def current_idf_path(base: Any = None) -> Path | None:
    """The deployed IDF file, or None if none has been fitted yet."""
    path = idf_path(base)
    return path if path.exists() else None


def set_current_model(version: str, base: Any = None) -> Path:
    """Point the pipeline at ``version`` (a one-line text file, atomic rename)."""
    base = _base(base)
    base.mkdir(parents=True, exist_ok=True)
    pointer = base / CURRENT_POINTER
    tmp = pointer.with_suffix(".tmp")
    tmp.write_text(version + "\n", encoding="utf-8")
    tmp.replace(pointer)
    return pointer


def current_model_path(base: Any = None) -> Path | None:
    """The model the pipeline should use: the pointer's version, else the newest file, else None."""
    base = _base(base)
    pointer = base / CURRENT_POINTER
    if pointer.exists():
        version = pointer.read_text(encoding="utf-8").strip()
        if version and model_path(version, base).exists():
            return model_path(version, base)
    candidates = sorted(base.glob(f"{MODEL_PREFIX}*.joblib"), key=lambda p: p.stat().st_mtime)
    return candidates[-1] if candidates else None
