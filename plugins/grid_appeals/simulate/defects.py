"""Defect injection: configurable rates, deterministic per row key, recorded in ground truth.

Why keyed by row: whether a row is defective depends only on (seed, kind, key), never on which
other rows exist, so regenerating one date reproduces exactly the same defects.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date

import numpy as np

from grid_appeals.simulate.rng import hash_uniform


@dataclass(frozen=True)
class DefectRates:
    """Share of rows (or of files/days for file-level kinds) that receive each defect."""

    duplicate: float = 0.01
    missing_required: float = 0.01
    invalid_code: float = 0.005
    malformed_phone: float = 0.02
    bad_timestamp: float = 0.004  # outside the data day or in the future
    bad_reading: float = 0.001  # negative or implausible meter reading
    late_row: float = 0.01  # arrives 1-3 days after its day
    broken_encoding_day: float = 0.05  # share of days whose hall GBK CSV has broken bytes
    truncated_gzip_day: float = 0.03  # share of days whose terminal-event gzip is truncated
    schema_drift_day: float = 0.04  # share of days with a renamed/missing column in a file

    @classmethod
    def none(cls) -> DefectRates:
        return cls(**{f.name: 0.0 for f in fields(cls)})


SALT = {"duplicate": 1, "missing_required": 2, "invalid_code": 3, "malformed_phone": 4, "bad_timestamp": 5,
        "bad_reading": 6, "late_row": 7, "broken_encoding_day": 8, "truncated_gzip_day": 9, "schema_drift_day": 10}
ENTITY_SALT = {"wkst": 100, "comm": 200, "pay": 300, "read": 400, "event": 500, "ticket": 600, "app": 700,
               "outage": 800}


def pick(keys: np.ndarray, seed: int, kind: str, entity: str, rate: float) -> np.ndarray:
    """Boolean mask of rows (by integer key) that get defect ``kind``."""
    if rate <= 0 or len(keys) == 0:
        return np.zeros(len(keys), dtype=bool)
    return hash_uniform(keys, seed, SALT[kind] * 1000 + ENTITY_SALT[entity]) < rate


def day_has(d: date, seed: int, kind: str, rate: float) -> bool:
    """File-level defects: does day ``d`` get one?"""
    if rate <= 0:
        return False
    return bool(hash_uniform(np.array([d.toordinal()]), seed, SALT[kind] * 1000)[0] < rate)


def malform_phone(phones: np.ndarray, keys: np.ndarray, seed: int) -> np.ndarray:
    """Typical bad phone entries: too short, letters, landline without area code, spaces."""
    u = hash_uniform(keys, seed, 4242)
    out = phones.astype(object).copy()
    for i, (p, x) in enumerate(zip(phones, u, strict=True)):
        p = str(p)
        if x < 0.25:
            out[i] = p[:-2]
        elif x < 0.5:
            out[i] = p[:3] + " " + p[3:7] + "-" + p[7:]
        elif x < 0.7:
            out[i] = p[:6] + "O" + p[7:]
        elif x < 0.85:
            out[i] = "0" + p
        else:
            out[i] = p[:5] + "*****"[: len(p) - 5]
    return out
