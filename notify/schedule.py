"""When the daily run happens: at a set Suzhou hour, and on start when the day's run is still
to do — but never at night (families are not woken: a run started late waits for the morning;
missed days are caught up by the run itself)."""
from __future__ import annotations

import datetime as dt

from policy_kb.clock import CHINA


def next_run(now: dt.datetime, hour: int) -> dt.datetime:
    """The next hour:00 in Suzhou strictly after `now`."""
    local = now.astimezone(CHINA)
    at = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if at <= local:
        at += dt.timedelta(days=1)
    return at


def run_on_start(now: dt.datetime, hour: int, last_hour: int) -> bool:
    """On start, run at once when it is already past today's hour and not yet evening."""
    return hour <= now.astimezone(CHINA).hour < last_hour
