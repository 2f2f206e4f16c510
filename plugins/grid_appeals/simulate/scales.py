"""Scale presets: how big the simulated province is.

``small`` is the demo (tens of thousands of customers, 90 days in well under a minute);
``province`` is a real provincial company (10 M customers, ~10 M readings and 10-20 k work orders a
day); ``tiny`` keeps the test-suite fast while still showing every calibrated shape.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    name: str
    customers: int
    customers_per_area: int  # mean customers per transformer area (台区)
    stations_per_county: int
    lines_per_station: int
    base_orders: float  # primary 95598 contacts on a mild weekday (before weather/holiday factors)
    halls_per_city: int
    tickets_per_hall: float  # mean tickets per hall per weekday
    expansion_per_day: float
    outage_rate: float  # daily probability a transformer area has a fault outage, mild day
    callers_per_outage: float  # share of an outage area's customers who call


SCALES: dict[str, Scale] = {
    "tiny": Scale("tiny", 12_000, 60, 1, 2, 260, 1, 45, 6, 0.004, 0.10),
    "small": Scale("small", 30_000, 60, 1, 3, 520, 2, 60, 15, 0.004, 0.10),
    "province": Scale("province", 10_000_000, 180, 4, 6, 9_000, 8, 140, 900, 0.0015, 0.02),
}


def get_scale(name: str) -> Scale:
    try:
        return SCALES[name]
    except KeyError:
        raise ValueError(f"unknown scale {name!r}; choose one of {sorted(SCALES)}") from None
