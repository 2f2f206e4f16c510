"""Scale presets: how big the simulated province is.

``small`` is the demo (tens of thousands of customers, 90 days in well under a minute);
``province`` is a real provincial company (10 M customers, ~10 M readings and 10-20 k work orders a
day); ``tiny`` keeps the test-suite fast while still showing every calibrated shape.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CustomerChanges:
    """Daily rates of changes to existing customers (``customers.py``), per customer and day.

    Realistic defaults *(assumed)*: ~1 % of accounts closed a year (销户), ~4 % of the remaining
    post-paid customers moved to 费控 (prepaid) a year in 2024, the rate growing by a quarter a
    year (the push to smart prepaid metering), ~5 % change their mobile number and ~0.5 % have
    their address corrected (门牌整顿, typos) a year. Capacity / 用电类别 changes follow completed
    增容 applications, new customers completed new-connection applications (``expansion.py``).
    """

    cancel: float = 2.7e-5
    prepaid: float = 1.1e-4  # per post-paid customer and day, in 2024
    prepaid_trend: float = 0.25  # relative growth of the prepaid switch rate per year
    mobile: float = 1.4e-4
    address: float = 1.4e-5


# tiny: five times the rates, so a test window of a few days shows every kind of change
TINY_CHANGES = CustomerChanges(cancel=1.35e-4, prepaid=5.5e-4, mobile=7e-4, address=7e-5)


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
    changes: CustomerChanges = CustomerChanges()


SCALES: dict[str, Scale] = {
    "tiny": Scale("tiny", 12_000, 60, 1, 2, 260, 1, 45, 6, 0.004, 0.10, TINY_CHANGES),
    "small": Scale("small", 30_000, 60, 1, 3, 520, 2, 60, 15, 0.004, 0.10),
    "province": Scale("province", 10_000_000, 180, 4, 6, 9_000, 8, 140, 900, 0.0015, 0.02),
}


def get_scale(name: str) -> Scale:
    try:
        return SCALES[name]
    except KeyError:
        raise ValueError(f"unknown scale {name!r}; choose one of {sorted(SCALES)}") from None
