"""Dates as a reader sees them: epoch seconds to local time, never raising.

Feed dates come from strangers; a year 1 or a year 9999 must print as something
(or nothing), not crash a listing.
"""

from __future__ import annotations

import time

NO_DAY = "----------"


def _local(ts: float, fmt: str) -> str | None:
    try:
        return time.strftime(fmt, time.localtime(ts))
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
