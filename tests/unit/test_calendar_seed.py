from datetime import date

from grid_appeals.transform.calendar_seed import SEED_PATH, calendar_rows, render_seed


def test_checked_in_seed_matches_generator() -> None:
    assert SEED_PATH.read_text(encoding="utf-8") == render_seed(), (
        "regenerate with: .venv/bin/python -m grid_appeals.transform.calendar_seed"
    )


def test_official_calendar_facts() -> None:
    rows = {r["date_day"]: r for r in calendar_rows(date(2026, 1, 1), date(2026, 12, 31))}
    assert rows["2026-02-14"]["is_makeup_workday"] and rows["2026-02-14"]["is_workday"]  # 调休 Saturday
    assert rows["2026-02-16"]["is_spring_festival_eve"]  # 除夕 2026
    assert not rows["2026-02-18"]["is_workday"] and rows["2026-02-18"]["holiday_name"] == "春节"
    assert rows["2026-10-01"]["holiday_name"] == "国庆节"
    assert rows["2026-03-07"]["is_workday"] is False  # ordinary Saturday
    assert sum(r["is_spring_festival_eve"] for r in rows.values()) == 1
