"""Generate the ``calendar_days`` dbt seed from the official Chinese calendar.

Working days decide every 95598 deadline (complaint replies are due in *working* days, and 调休
make-up Saturdays count as working days), so the calendar is data from ``chinese-calendar``, not
weekday arithmetic. The seed is checked in (reviewable) and a test asserts it matches this code.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar

from grid_appeals.config import PROJECT_ROOT

SEED_PATH = PROJECT_ROOT / "dbt_project" / "seeds" / "calendar_days.csv"
FIRST, LAST = date(2019, 1, 1), date(2026, 12, 31)  # chinese-calendar covers up to 2026

HOLIDAY_ZH = {
    "New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节", "Dragon Boat Festival": "端午节", "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节", "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def calendar_rows(first: date = FIRST, last: date = LAST) -> list[dict[str, object]]:
    rows = []
    day = first
    while day <= last:
        is_holiday, name = chinese_calendar.get_holiday_detail(day)
        is_workday = chinese_calendar.is_workday(day)
        weekend = day.weekday() >= 5
        rows.append({
            "date_day": day.isoformat(),
            "is_workday": is_workday,
            "is_official_holiday": bool(is_holiday and name),
            "holiday_name": HOLIDAY_ZH.get(name, name) if is_holiday and name else "",
            "is_makeup_workday": weekend and is_workday,
            "is_spring_festival_eve": False,
        })
        day += timedelta(days=1)
    # 除夕 (the 95598 peak) is the day before 正月初一; the official holiday block starts on 除夕 in
    # some years and on 初一 in others, so it is marked from the lunar new-year date instead.
    for row in rows:
        d = date.fromisoformat(str(row["date_day"]))
        if d.month in (1, 2) and _is_lunar_new_year_eve(d):
            row["is_spring_festival_eve"] = True
    return rows


_LUNAR_NEW_YEAR = {  # 正月初一 (official data; chinese-calendar has no lunar conversion)
    2019: date(2019, 2, 5), 2020: date(2020, 1, 25), 2021: date(2021, 2, 12), 2022: date(2022, 2, 1),
    2023: date(2023, 1, 22), 2024: date(2024, 2, 10), 2025: date(2025, 1, 29), 2026: date(2026, 2, 17),
}


def lunar_new_year(year: int) -> date:
    return _LUNAR_NEW_YEAR[year]


def _is_lunar_new_year_eve(d: date) -> bool:
    nxt = d + timedelta(days=1)
    return _LUNAR_NEW_YEAR.get(nxt.year) == nxt


def render_seed() -> str:
    buf = io.StringIO()
    rows = calendar_rows()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: str(v).lower() if isinstance(v, bool) else v for k, v in row.items()})
    return buf.getvalue()


def write_seed(path: Path = SEED_PATH) -> Path:
    path.write_text(render_seed(), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(write_seed())
