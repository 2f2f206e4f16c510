"""办结时限 of a work order as the 95598 system stores it: ``time_limit_hours`` from acceptance.

Why working days: the rules for 投诉 (reply in 4 working days; 7 before 2020), 举报 (9), service
requests / opinions (5) and meter checks (5) count official working days, so an order accepted on a
Friday or before a holiday has a longer limit in hours than one accepted on a Monday. The real
system stores the resolved limit, so the source keeps only ``time_limit_hours`` = hours from
acceptance to the same clock time on the deadline day (24 × calendar days for day-based rules).

Rule values come from the warehouse's versioned seed ``dbt_project/seeds/time_limit_rules.csv`` (so
source and warehouse agree, and a rule change is a data change), with built-in fallbacks.
"""

from __future__ import annotations

import csv
from datetime import date
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from grid_appeals.simulate.calendar_weather import add_workdays

SEED = Path(__file__).resolve().parents[3] / "dbt_project" / "seeds" / "time_limit_rules.csv"
# rule_code -> [(effective_from, effective_to, area_type, value, unit)]; used when the seed is absent
FALLBACK = {
    "repair_restore": [(date(2014, 1, 1), None, "urban", 3, "hours"), (date(2014, 1, 1), None, "rural", 4, "hours")],
    "complaint_reply": [(date(2014, 1, 1), date(2019, 12, 31), "any", 7, "working_days"),
                        (date(2020, 1, 1), None, "any", 4, "working_days")],
    "report_reply": [(date(2014, 1, 1), None, "any", 9, "working_days")],
    "hotline_12345": [(date(2014, 1, 1), None, "any", 7, "days")],
    "meter_check": [(date(2014, 1, 1), None, "any", 5, "working_days")],
    "reconnection": [(date(2014, 1, 1), None, "any", 24, "hours")],
    "service_request_reply": [(date(2014, 1, 1), None, "any", 5, "working_days")],
}
CONSULT_HOURS = 24  # 业务咨询 / 表扬: answered or closed within a day (assumed; no published rule)


@lru_cache(maxsize=1)
def rules() -> dict[str, list[tuple]]:
    """Rules by code from the seed file (fallback: built-in values)."""
    if not SEED.exists():
        return FALLBACK
    out: dict[str, list[tuple]] = {}
    with SEED.open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            out.setdefault(r["rule_code"], []).append((
                date.fromisoformat(r["effective_from"]),
                date.fromisoformat(r["effective_to"]) if r["effective_to"] else None,
                r["area_type"], float(r["limit_value"]), r["limit_unit"]))
    return {**FALLBACK, **out}


def _rule(code: str, d: date, area: str = "any") -> tuple[float, str]:
    for lo, hi, at, v, unit in rules()[code]:
        if lo <= d and (hi is None or d <= hi) and at in (area, "any"):
            return v, unit
    raise KeyError(f"no {code} rule for {d} / {area}")


@lru_cache(maxsize=20000)
def _hours(code: str, d: date, area: str) -> int:
    v, unit = _rule(code, d, area)
    if unit == "hours":
        return int(v)
    if unit == "minutes":
        return max(1, round(v / 60))
    if unit == "days":
        return int(v) * 24
    return (add_workdays(d, int(v)) - d).days * 24  # working days, deadline at the same clock time


def rule_code(busi: str, intent: str, channel: str) -> str | None:
    """Which rule governs an order (None: the 24 h consult default)."""
    if busi == "故障报修":
        return "repair_restore"
    if channel == "12345转办":
        return "hotline_12345"
    if busi == "投诉":
        return "complaint_reply"
    if busi == "举报":
        return "report_reply"
    if intent == "apply_reconnect":
        return "reconnection"
    if intent == "apply_meter_check":
        return "meter_check"
    if busi in ("服务申请", "意见", "建议"):
        return "service_request_reply"
    return None


def time_limit_hours(busi: np.ndarray, intent: np.ndarray, channel: np.ndarray, urban: np.ndarray,
                     handle_time: pd.DatetimeIndex) -> np.ndarray:
    """Vectorised over orders (cached per rule × day × area, so a day costs a few dozen lookups)."""
    days = pd.DatetimeIndex(handle_time).date
    out = np.empty(len(busi), dtype=np.int64)
    for i, (b, it, ch, u, d) in enumerate(zip(busi, intent, channel, urban, days, strict=True)):
        code = rule_code(b, it, ch)
        out[i] = CONSULT_HOURS if code is None else _hours(code, d, "urban" if u else "rural")
    return out
