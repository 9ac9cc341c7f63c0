"""Dates as a reader sees them: epoch seconds to local time, never raising.

Feed dates come from strangers; a year 1 or a year 9999 must print as something
(or nothing), not crash a listing.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

NO_DAY = "----------"


def _local(ts: float, fmt: str) -> str | None:
    try:
        local = time.localtime(ts)
        # localtime takes years a calendar date can't show ("-31686769-06-29" breaks a
        # column); outside 1..9999 there is no usable date.
        if not 1 <= local.tm_year <= 9999:
            return None
        # glibc's %Y doesn't pad (year 1 is "1"): pad it, so every date is as wide as a column.
        return time.strftime(fmt.replace("%Y", f"{local.tm_year:04d}"), local)
    except (OverflowError, OSError, ValueError, TypeError):
        return None


def format_day(ts: float | None) -> str:
    """`YYYY-MM-DD`, the width of a list column, or dashes when there is no usable date."""
    return (_local(ts, "%Y-%m-%d") if ts is not None else None) or NO_DAY


def format_time(ts: float | None, known: bool = True) -> str:
    """`YYYY-MM-DD HH:MM`, marked when it is only when the post was first seen; "" if unusable."""
    stamp = _local(ts, "%Y-%m-%d %H:%M") if ts is not None else None
    if stamp is None:
        return ""
    return stamp if known else f"{stamp} (first seen)"


def iso_utc(ts: float | None) -> str | None:
    """ISO 8601 in UTC (for JSON), or None when there is no date a datetime can hold (a feed's year 20000)."""
    if ts is None:
        return None
    try:
        return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        return None
