"""Deterministic random streams.

Why not one global RNG: a global stream makes day D depend on how many numbers days before D
consumed, so regenerating one date would shift every later date. Each (seed, date, stream) gets
its own independent ``numpy`` generator from a ``SeedSequence``; per-row text RNGs use a
splitmix64 hash so they are stable across processes (Python's ``hash`` is salted).
"""

from __future__ import annotations

import random
from datetime import date

import numpy as np

# stream ids: never renumber, or every seed's output changes
STREAMS = {
    "world": 1, "customers": 2, "weather": 3, "outages": 4, "orders": 5, "text": 6, "payments": 7,
    "expansion": 8, "metering": 9, "halls": 10, "defects": 11, "meter_faults": 12, "voltage": 13,
    "hall_complaints": 14, "notices": 15, "years": 16, "surges": 17, "world-urban": 18,
}

_MASK = (1 << 64) - 1


def day_rng(seed: int, day: date | None, stream: str, *extra: int) -> np.random.Generator:
    """Independent generator for one (seed, day, stream[, extra]) — the unit of regeneration."""
    key = [int(seed), day.toordinal() if day else 0, STREAMS[stream], *map(int, extra)]
    return np.random.default_rng(np.random.SeedSequence(key))


def splitmix64(x: int) -> int:
    """Stateless 64-bit mixer; used to derive per-row seeds from integer keys."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def row_random(*keys: int) -> random.Random:
    """A small ``random.Random`` for one generated row (fast to create, process-stable)."""
    h = 0
    for k in keys:
        h = splitmix64(h ^ (int(k) & _MASK))
    return random.Random(h)


def hash_uniform(keys: np.ndarray, seed: int, salt: int) -> np.ndarray:
    """Vectorised uniform [0,1) per integer key: the same key always gets the same number.

    Used for defect selection so whether a row is defective depends on the row's key alone, not on
    which other rows exist that day.
    """
    x = (np.asarray(keys, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)) ^ np.uint64(
        splitmix64((seed << 8) ^ salt))
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)
