"""When each feed is fetched next: `reader refresh --due` and the app's background refresh.

Pure functions of what the feed, its server and its history say; the store calls
`next_due` after every fetch (whatever its outcome) and keeps the answer in `feeds.next_due`.

The policy, and why:

1. **The user's word wins.** A per-feed interval (`reader schedule FEED 2h`, `feeds.every`)
   replaces everything worked out below, floor and ceiling included: the user knows
   that feed. Only the server's explicit `Retry-After` and the back-off after failures
   still apply (both are about the server's health, not the feed's pace).
2. **Start from `refresh_every`** (30 minutes when it is 0, i.e. the app's timer is off
   but cron runs `reader refresh --due`).
3. **What the feed and its server ask lengthens it, never shortens it.** RSS `<ttl>`
   (minutes), `sy:updatePeriod`/`sy:updateFrequency`, `Cache-Control: max-age` and
   `Expires` each say "this will not change before then"; the longest of them is a lower
   bound (`asked`). A short one gives no reason to ask more often than the user chose.
4. **How often the feed really posts lengthens it too.** A feed posts about once every
   `gap` (the median gap between its last 20 dated posts); when it has been silent for
   longer than that, it has slowed down or stopped, and `silence` is the better guess. It
   is asked about ten times per max(gap, silence): a new post waits a tenth of the feed's
   own rhythm at most, and a feed silent for a year is asked once a day (the ceiling),
   not every 30 minutes. A feed with no dated posts says nothing here.
5. **Clamp to [refresh_floor, refresh_ceiling]**: no feed is asked more often than the
   floor (politeness, whatever the settings above say) nor less often than the ceiling
   (a dead-looking feed that comes back is seen within a day).
6. **Back off after failures.** After n failed fetches in a row the interval doubles
   n - 1 times (the first failure may be a blip), up to the ceiling (or the user's
   interval, when longer): a server that is down is not hammered, and one that comes
   back is seen within a day. A success resets the count.
7. **Retry-After** (a 429 or 503; capped at a week by the fetcher) is a hard lower
   bound on the next time, on top of all of the above.

A feed just added, or never fetched, has no next-due time: it is due now.
"""

from __future__ import annotations

import itertools
import math
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

DEFAULT_EVERY = 30 * 60.0  # the base when refresh_every is 0 (the app's timer off; cron still asks)
MAX_INTERVAL = 366 * 86400.0  # past a year any hint is nonsense (or hostile): treated as a year
ACTIVITY_DIVISOR = 10  # asked this many times per the feed's own posting rhythm
ACTIVITY_POSTS = 20  # the most recent dated posts looked at for that rhythm
MAX_BACKOFF_DOUBLINGS = 16  # 2**16 times the interval is far past any ceiling already
MIN_EVERY = 60.0  # a per-feed interval below a minute is refused as a typo (`reader schedule`)

_PERIODS = {"hourly": 3600.0, "daily": 86400.0, "weekly": 7 * 86400.0, "monthly": 30 * 86400.0,
            "yearly": 365 * 86400.0}
_DIGITS = re.compile(r"\d{1,12}")
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d{1,12})\"?\s*(?:,|$)", re.I)


@dataclass(frozen=True, slots=True)
class Policy:
    """The user's settings that shape every feed's schedule (seconds)."""

    every: float = DEFAULT_EVERY  # settings.refresh_every (0: DEFAULT_EVERY)
    floor: float = 10 * 60.0  # settings.refresh_floor
    ceiling: float = 24 * 3600.0  # settings.refresh_ceiling

    @property
    def base(self) -> float:
        return self.every if self.every > 0 else DEFAULT_EVERY

    @classmethod
    def of(cls, every: float, floor: float, ceiling: float) -> Policy:
        """From settings; a floor above the ceiling (config.py refuses it) is read as the ceiling."""
        return cls(every=max(0.0, every), floor=min(floor, ceiling), ceiling=ceiling)


def interval(
    policy: Policy,
    *,
    every: float | None = None,
    asked: float | None = None,
    post_dates: Iterable[float] = (),
    failures: int = 0,
    now: float,
) -> float:
    """Seconds from this fetch to the next (see the module's docstring for the policy).

    `every`: the user's interval for this feed (None: worked out). `asked`: the longest interval
    the feed or its server asked for on this fetch (None: none). `post_dates`: the feed's dated
    posts (epoch seconds, any order; the newest ACTIVITY_POSTS are used). `failures`: fetches in
    a row that failed, this one included (0 after a success).
    """
    if every is not None and every > 0:
        normal = min(every, MAX_INTERVAL)
        cap = max(policy.ceiling, normal)
    else:
        normal = policy.base
        if asked is not None and asked > 0:
            normal = max(normal, min(asked, MAX_INTERVAL))
        rhythm = activity(post_dates, now)
        if rhythm is not None:
            normal = max(normal, rhythm / ACTIVITY_DIVISOR)
        normal = min(max(normal, policy.floor), policy.ceiling)
        cap = policy.ceiling
    if failures > 1:
        normal = min(normal * 2.0 ** min(failures - 1, MAX_BACKOFF_DOUBLINGS), max(cap, normal))
    return normal


def next_due(
    policy: Policy,
    *,
    now: float,
    every: float | None = None,
    asked: float | None = None,
    post_dates: Iterable[float] = (),
    failures: int = 0,
    retry_after: float | None = None,
) -> float:
    """The epoch time the feed is next due: `now` + `interval(...)`, but never before `retry_after`."""
    due = now + interval(policy, every=every, asked=asked, post_dates=post_dates, failures=failures, now=now)
    if retry_after is not None and math.isfinite(retry_after):
        due = max(due, retry_after)
    return due


def activity(post_dates: Iterable[float], now: float) -> float | None:
    """The feed's own rhythm: max(median gap between its newest posts, time since the newest).

    None without a dated post. Dates after `now` (clock skew; the store already drops those
    more than a day ahead) count as now.
    """
    dates = sorted((min(d, now) for d in post_dates if math.isfinite(d)), reverse=True)[:ACTIVITY_POSTS]
    if not dates:
        return None
    silence = now - dates[0]
    gaps = sorted(a - b for a, b in itertools.pairwise(dates))
    return max(silence, _median(gaps))


def _median(ordered: list[float]) -> float:
    """statistics.median, without importing it (5 ms, and fractions, for every refresh)."""
    if not ordered:
        return 0.0
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


# --- the hints, as the feed and its server give them ------------------------------------------


def feed_interval(ttl: str | None, update_period: str | None, update_frequency: str | None) -> float | None:
    """The interval (seconds) a feed document asks for: the longer of RSS `<ttl>` (minutes) and
    `sy:updatePeriod` / `sy:updateFrequency` (e.g. hourly / 2 = every 30 minutes). None when it
    asks nothing usable. Both parsers (parse.py, fastfeed.py) hand their raw text here, so they
    agree. Garbage (a negative, a word, 0) asks nothing; past a year is read as a year."""
    found: list[float] = []
    minutes = (ttl or "").strip()
    if _DIGITS.fullmatch(minutes) and int(minutes) > 0:
        found.append(int(minutes) * 60.0)
    period = (update_period or "").strip().lower()
    frequency = (update_frequency or "").strip()
    good_frequency = _DIGITS.fullmatch(frequency) is not None and int(frequency) > 0
    if (period or frequency) and (good_frequency or not frequency):
        # The module's defaults: daily, once. An unknown period or a bad frequency (0, a word) spoils the
        # sy: hint, never the ttl: garbage asks nothing (a feed posting hourly must not become daily).
        seconds = _PERIODS.get(period or "daily")
        times = int(frequency) if good_frequency else 1
        if seconds is not None:
            found.append(seconds / times)
    if not found:
        return None
    return min(max(found), MAX_INTERVAL)


def server_interval(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """How long the server says its answer stays fresh (seconds): `Cache-Control: max-age`, else
    `Expires` minus the response's `Date` (or now). None when it says nothing or "already stale".

    `headers` has lower-case names (FetchResult.headers). max-age wins over Expires, as in HTTP;
    `no-store`/`no-cache` say nothing about how often to ask, so they are not read as 0.
    """
    now = time.time() if now is None else now
    control = headers.get("cache-control", "")[:1000]
    match = _MAX_AGE.search(control)
    if match is not None:
        seconds = float(match.group(1))
        return min(seconds, MAX_INTERVAL) if seconds > 0 else None
    expires = _http_date(headers.get("expires"))
    if expires is None:
        return None
    date = _http_date(headers.get("date"))
    seconds = expires - (date if date is not None else now)
    return min(seconds, MAX_INTERVAL) if seconds > 0 else None


def _http_date(value: str | None) -> float | None:
    if not value or len(value) > 100:
        return None
    try:
        import email.utils  # here, as statistics above: only a fetch's headers need it

        when = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    try:
        stamp = when.timestamp()
    except (OverflowError, OSError, ValueError):
        return None
    return stamp if math.isfinite(stamp) else None


# --- saying it -------------------------------------------------------------------------------


def format_due(due: float | None, now: float | None = None) -> str:
    """"due now", or "next 14:05" (today), "next 11-29 09:00" (this year), "next 2027-01-05 09:00"."""
    now = time.time() if now is None else now
    if due is None or due <= now:
        return "due now"
    return f"next {format_when(due, now)}"


def format_when(when: float, now: float | None = None) -> str:
    """A local time, as short as it can be told from now: "14:05", "11-29 09:00", "2027-01-05 09:00"."""
    now = time.time() if now is None else now
    try:
        local, today = time.localtime(when), time.localtime(now)
    except (OverflowError, OSError, ValueError):
        return "?"
    if local[:3] == today[:3]:
        return time.strftime("%H:%M", local)
    if local.tm_year == today.tm_year:
        return time.strftime("%m-%d %H:%M", local)
    if not 1 <= local.tm_year <= 9999:
        return "?"
    return time.strftime(f"{local.tm_year:04d}-%m-%d %H:%M", local)
