"""Run context: seed, scale, world and per-date caches shared by the generators.

Generators are pure functions of (seed, date); the caches only avoid recomputing a past day when
a later day needs it (outage history, open orders), they never change results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

import numpy as np

from grid_appeals.simulate.defects import DefectRates
from grid_appeals.simulate.scales import Scale
from grid_appeals.simulate.world import World, build_world


@dataclass
class SimContext:
    seed: int
    scale: Scale
    defects: DefectRates
    mislabel_rate: float = 0.06
    surge_rate: float = 0.1  # chance a planted topic surge starts on a given day (see surges.py)
    customers_horizon: date | None = None  # the run's latest day: how far customers.evolve folds at once
    cache: dict = field(default_factory=dict)

    @cached_property
    def world(self) -> World:
        return build_world(self.seed, self.scale)

    @cached_property
    def city_customers(self) -> list[np.ndarray]:
        """Customer indices per city (for weather-weighted sampling)."""
        city = self.world.areas["city_idx"].to_numpy()[self.world.cust_area]
        order = np.argsort(city, kind="stable")
        bounds = np.searchsorted(city[order], np.arange(len(self.world.cities) + 1))
        return [order[bounds[i]:bounds[i + 1]] for i in range(len(self.world.cities))]

    def cached(self, key: tuple, fn):
        if key not in self.cache:
            if len(self.cache) > 4000:
                self.cache.clear()
            self.cache[key] = fn()
        return self.cache[key]

    def day_key(self, d: date) -> int:
        return d.toordinal()
