"""The notifier's settings, from the environment (README, docs/notify.md)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field


def _number(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        return float(raw) if raw else default
    except ValueError:
        raise SystemExit(f"{name}={raw!r} 不是数字") from None


def _ahead(raw: str) -> tuple[tuple[int, int], ...]:
    """"80:2" → thresholds of 80 and more are told 2 months ahead; "60:1,80:2" several bands."""
    out = []
    for part in filter(None, (p.strip() for p in raw.split(","))):
        age, _, months = part.partition(":")
        try:
            out.append((int(age), int(months)))
        except ValueError:
            raise SystemExit(f"ELDERCARE_NOTIFY_AHEAD={raw!r}：应写成 80:2（满80岁及以上的门槛提前2个月）") from None
    return tuple(sorted(out))


@dataclass(frozen=True)
class NotifySettings:
    # the daily run, at this Suzhou hour (serve, `eldercare notify daily`); None = not scheduled
    hour: int | None = 9
    # no message goes out after this Suzhou hour: a run started later waits for the next morning
    last_hour: int = 21
    # (threshold from, months ahead): where applying takes time, the family hears early. The KB
    # gives no processing times to derive this from, so it is a setting: ages ≥ 80 → 2 months.
    ahead: tuple[tuple[int, int], ...] = field(default_factory=lambda: ((80, 2),))
    catch_up_days: int = 31          # days missed (server down) that a run still goes through
    ends_within_days: int = 30       # a programme someone qualifies for ends within this: tell them
    queue_step: int = 5              # a waiting-list place that moved this much is told
    retry_seconds: float = 60        # a failed delivery waits this, then twice that, …
    max_attempts: int = 5            # … and is 'failed' (and reported) after this many attempts
    keep_days: float = 1095          # a followup is deleted this long after the consent (3 years)
    page_size: int = 20000           # kept elders read per page

    def months_ahead(self, threshold: int) -> int:
        months = 0
        for start, ahead in self.ahead:
            if threshold >= start:
                months = ahead
        return months

    @classmethod
    def from_env(cls) -> "NotifySettings":
        hour = os.environ.get("ELDERCARE_NOTIFY_HOUR", "9").strip().lower()
        return cls(
            hour=None if hour in ("off", "no", "none", "") else int(hour),
            last_hour=int(_number("ELDERCARE_NOTIFY_LAST_HOUR", 21)),
            ahead=_ahead(os.environ.get("ELDERCARE_NOTIFY_AHEAD", "80:2")),
            catch_up_days=int(_number("ELDERCARE_NOTIFY_CATCH_UP_DAYS", 31)),
            ends_within_days=int(_number("ELDERCARE_NOTIFY_ENDS_WITHIN_DAYS", 30)),
            queue_step=int(_number("ELDERCARE_NOTIFY_QUEUE_STEP", 5)),
            retry_seconds=_number("ELDERCARE_NOTIFY_RETRY_SECONDS", 60),
            max_attempts=int(_number("ELDERCARE_NOTIFY_MAX_ATTEMPTS", 5)),
            keep_days=_number("ELDERCARE_FOLLOWUP_DAYS", 1095),
        )
