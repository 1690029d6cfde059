"""When a site is next due: a fixed interval or a cron expression (croniter), in UTC.

>>> from datetime import UTC, datetime, timedelta
>>> next_due(timedelta(hours=6), None, datetime(2030, 1, 1, 1, tzinfo=UTC))
datetime.datetime(2030, 1, 1, 7, 0, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from croniter import croniter

from linkdoctor.errors import ConfigError

MAX_INTERVAL = timedelta(days=366)  # also keeps the stored seconds inside a 32-bit integer column


def check_schedule(every: timedelta | None, cron: str | None) -> None:
    """Raise :class:`ConfigError` for a schedule that cannot run: both set, a non-positive interval, bad cron."""
    if every is not None and cron is not None:
        raise ConfigError("give an interval or a cron expression, not both")
    if every is not None and every < timedelta(minutes=1):
        raise ConfigError(f"the interval must be at least one minute, not {every}")
    if every is not None and every > MAX_INTERVAL:
        raise ConfigError(f"the interval must be at most a year, not {every.days} days")
    if cron is not None and not croniter.is_valid(cron):
        raise ConfigError(f"not a cron expression: {cron!r}")


def next_due(every: timedelta | None, cron: str | None, after: datetime) -> datetime | None:
    """The first run time strictly after ``after``; None for a site scanned only on request."""
    if every is not None:
        return after + every
    if cron is not None:
        following = croniter(cron, after.astimezone(UTC)).get_next(datetime)
        assert isinstance(following, datetime)
        return following.astimezone(UTC)
    return None
