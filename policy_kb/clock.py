"""Suzhou's clock. "Today", "明天" and a reference's date are Suzhou's, whatever zone the
server runs in: at 07:00 in Suzhou a UTC server still says yesterday. China has no DST."""
from __future__ import annotations

import datetime as dt

CHINA = dt.timezone(dt.timedelta(hours=8))


def today() -> dt.date:
    return dt.datetime.now(CHINA).date()


def date_words(day: dt.date) -> str:
    """A date as people say it: 2026年12月31日."""
    return f"{day.year}年{day.month}月{day.day}日"
