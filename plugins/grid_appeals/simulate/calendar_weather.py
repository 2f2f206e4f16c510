"""Calendar (holidays, 调休, 春节) and simulated weather per city.

Why simulate weather: repair volume in a grid service center follows heat (air-conditioning load),
winter heating load and storms. The temperature series has heat/cold waves drawn per *year* from
the seed (so a hot stretch spans consecutive days) plus per-day noise from the day's own RNG, so
any date can be regenerated alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar
import numpy as np

from grid_appeals.simulate.rng import day_rng

# 农历正月初一; the eve (除夕) is the day before
LUNAR_NEW_YEAR = {
    2015: date(2015, 2, 19), 2016: date(2016, 2, 8), 2017: date(2017, 1, 28), 2018: date(2018, 2, 16),
    2019: date(2019, 2, 5), 2020: date(2020, 1, 25), 2021: date(2021, 2, 12), 2022: date(2022, 2, 1),
    2023: date(2023, 1, 22), 2024: date(2024, 2, 10), 2025: date(2025, 1, 29), 2026: date(2026, 2, 17),
    2027: date(2027, 2, 6), 2028: date(2028, 1, 26), 2029: date(2029, 2, 13), 2030: date(2030, 2, 3),
}

# city adcode prefix -> (annual mean daily max °C, seasonal amplitude °C); 陕南 warm/humid, 陕北 cool
CITY_CLIMATE = {
    "6101": (20.5, 13.5), "6102": (18.0, 13.5), "6103": (19.5, 13.0), "6104": (20.3, 13.7),
    "6105": (20.5, 14.0), "6106": (17.0, 14.5), "6107": (20.5, 12.0), "6108": (15.5, 15.5),
    "6109": (21.0, 12.0), "6110": (19.0, 12.5),
}


def is_workday(d: date) -> bool:
    """Official working day (with 调休 make-up days); weekday rule outside the package's range."""
    try:
        return chinese_calendar.is_workday(d)
    except NotImplementedError:
        return d.weekday() < 5


def is_holiday(d: date) -> bool:
    """A named public holiday (not just a weekend)."""
    return _is_festival(d)


def _is_festival(d: date) -> bool:
    try:
        on, name = chinese_calendar.get_holiday_detail(d)
    except NotImplementedError:
        return False
    return bool(on and name)


def spring_festival_offset(d: date) -> int | None:
    """Days from 除夕 (0 = eve, 1 = 初一 …), or None if more than 10 days away."""
    for y in (d.year, d.year + 1):
        ny = LUNAR_NEW_YEAR.get(y)
        if ny is not None:
            off = (d - (ny - timedelta(days=1))).days
            if -10 <= off <= 10:
                return off
    return None


def add_workdays(start: date, n: int) -> date:
    d = start
    while n > 0:
        d += timedelta(days=1)
        if is_workday(d):
            n -= 1
    return d


@dataclass(frozen=True)
class DayWeather:
    day: date
    tmax: np.ndarray  # per city, °C, order of CITY_CLIMATE
    storm: np.ndarray  # bool per city


@lru_cache(maxsize=64)
def _waves(seed: int, year: int) -> tuple[tuple[int, int, float], ...]:
    """Heat and cold waves of one year: (start day-of-year, length, amplitude °C)."""
    rng = day_rng(seed, date(year, 1, 1), "weather", 999)
    waves = []
    for _ in range(int(rng.integers(2, 5))):  # summer heat waves
        waves.append((int(rng.integers(160, 232)), int(rng.integers(4, 11)), float(rng.uniform(3.5, 6.5))))
    for _ in range(int(rng.integers(1, 3))):  # winter cold waves (Dec-Feb)
        start = int(rng.integers(-20, 50)) % 365
        waves.append((start, int(rng.integers(3, 7)), -float(rng.uniform(4, 8))))
    return tuple(waves)


def _wave_bump(seed: int, d: date) -> float:
    doy = d.timetuple().tm_yday
    bump = 0.0
    for start, length, amp in _waves(seed, d.year):
        k = doy - start
        if 0 <= k < length:
            bump += amp * math.sin(math.pi * (k + 0.5) / length) ** 0.5
    return bump


@lru_cache(maxsize=4096)
def weather(seed: int, d: date) -> DayWeather:
    rng = day_rng(seed, d, "weather")
    doy = d.timetuple().tm_yday
    seasonal = math.sin(2 * math.pi * (doy - 105) / 365.25)
    # smooth multi-day anomaly from seeded phases, identical for every regeneration of d
    prng = np.random.default_rng([seed, 77])
    phases = prng.uniform(0, 2 * math.pi, 3)
    ordn = d.toordinal()
    smooth = sum(1.3 * math.sin(2 * math.pi * ordn / p + ph) for p, ph in zip((5.3, 9.1, 16.7), phases, strict=True))
    base = np.array([m + a * seasonal for m, a in CITY_CLIMATE.values()])
    tmax = base + smooth + _wave_bump(seed, d) + rng.normal(0, 1.3, len(base))
    summer = max(0.0, seasonal) ** 2
    p_storm = 0.012 + 0.10 * summer
    storm = rng.random(len(base)) < p_storm
    return DayWeather(d, np.round(tmax, 1), storm)


def repair_factor(tmax: np.ndarray) -> np.ndarray:
    """Load-driven fault multiplier: flat when mild, steep with heat, milder with winter cold."""
    t = np.asarray(tmax, dtype=float)
    heat = 0.30 * np.clip(t - 29.0, 0, None) ** 1.15
    cold = 0.07 * np.clip(4.0 - t, 0, None)
    return 1.0 + heat + cold


def demand_factor(d: date) -> dict[str, float]:
    """Multipliers for contact volume by kind on day d: weekly pattern, holidays, 春节."""
    weekly = (1.12, 1.05, 1.02, 1.0, 1.0, 0.86, 0.80)[d.weekday()]
    work = is_workday(d)
    sf = spring_festival_offset(d)
    service = weekly * (1.0 if work else 0.7)
    repair = 1.0 if work else 1.05
    if sf is not None:
        if sf == 0:
            repair *= 2.2  # 除夕: lights, heaters, cooking all at once
        elif sf in (-1, 1):
            repair *= 1.5
        if 0 <= sf <= 6:
            service *= 0.55
    hall = 0.0 if not work and d.weekday() == 6 else (0.6 if not work else 1.0)
    if sf is not None and 0 <= sf <= 6:
        hall = 0.0
    return {"service": service, "repair": repair, "hall": hall}
