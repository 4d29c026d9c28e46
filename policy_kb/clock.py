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


def time_words(moment: dt.datetime, year: bool = False) -> str:
    """A moment as Suzhou's clock shows it, for people: 12月7日 11:51 (2026年12月7日 11:51).
    Every time the console shows goes through here, so none is the server's own zone; a moment
    without a zone was stored in UTC (SQLite hands timestamps back bare)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    local = moment.astimezone(CHINA)
    day = date_words(local.date()) if year else f"{local.month}月{local.day}日"
    return f"{day} {local:%H:%M}"
