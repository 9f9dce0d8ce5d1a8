"""When a permitted stay ends.

China's exit-entry administration counts a transit stay from 00:00 of the day
after the day of entry, local time (confirmed for 144 hours: entry on 1 August
means leaving before 00:00 on 8 August). The returned instant is exclusive: the
traveller must depart *before* it.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from policy.pack import Counting


def permitted_until(entry: datetime, hours: int, counting: Counting, tz: timezone) -> datetime:
    """The first instant at which a stay of `hours` begun at `entry` is exceeded."""
    local = entry.astimezone(tz)
    if counting == "from_entry":
        return local + timedelta(hours=hours)
    start = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=tz)
    return start + timedelta(hours=hours)


def age_in_years(birth: date | None, on: date) -> int | None:
    """Whole years of age on `on` (None when the birth date is unknown).

    A 29 February birthday is reached on 1 March in common years.
    """
    if birth is None:
        return None
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
