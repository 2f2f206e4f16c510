"""Optional numba compilation for the few per-row loops that whole-array code does badly.

Why optional: numba is a dependency, but a platform without a numba wheel must still load data;
every compiled function has a numpy twin that gives the same result (tested), used when numba is
missing or ``GRID_JIT=0``. Compiled code is cached on disk (``cache=True``): the first process on a
machine compiles (~1-2 s per function), later ones load it.
"""

from __future__ import annotations

import os
from typing import Any

try:
    import numba
except ImportError:  # pragma: no cover - numba is a dependency; the numpy twins remain
    numba = None


def enabled() -> bool:
    """Use the compiled functions? (numba importable and ``GRID_JIT`` not ``0``)."""
    return numba is not None and os.environ.get("GRID_JIT", "1") != "0"


def jit(fn: Any) -> Any:
    """``numba.njit(cache=True, nogil=True)`` when numba is there, else the plain function."""
    return numba.njit(cache=True, nogil=True)(fn) if numba is not None else fn
