"""Dates are Suzhou's: "明天" at 06:00 in Suzhou is not a UTC server's tomorrow."""
import datetime as dt

from actions import kb_access
from policy_kb import clock


def test_today_is_suzhou_today_whatever_the_server_zone():
    suzhou = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
    assert clock.today() == suzhou == kb_access.today()
