"""Fetching feeds over HTTP (libcurl, reader/http_client.py): conditional GET, caps, and readable errors.

Redirects are followed by hand so that each hop can be checked (http(s) only, at most
MAX_REDIRECTS) and so a chain of permanent redirects can update the stored URL.
Decompression is done here too (reader/body.py), with a cap on the decompressed size and
a bound on every step, so a gzip bomb stops at the cap.

Everything a server sends besides the body (status line, headers, redirect targets)
is hostile text: whatever of it reaches an error message is cleaned here, where it
enters, so every caller can print `FetchResult.error` as it is.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from . import __version__
from .body import BodyError, BodyReader
from .http_client import AsyncClient, HTTPError, Response
from .models import FetchResult
from .net_errors import certificate_failure, connect_failure, short_text, tls_failure
from .sanitize import clean_message, safe_url
from .schedule import Policy, server_interval

if TYPE_CHECKING:
    from .config import Settings

USER_AGENT = f"reader/{__version__} (terminal feed reader; +https://github.com/reader-app/reader)"
MAX_BODY = 10 * 1024 * 1024
MAX_REDIRECTS = 5
DEFAULT_TIMEOUT = 30.0
DEFAULT_CONCURRENCY = 16
DEFAULT_PER_HOST = 4
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
# Validators are sent back verbatim as request headers: anything else than a short line
# of printable ASCII would make the next request invalid (or carry the server's junk).
MAX_VALIDATOR = 512
_VALIDATOR = re.compile(rf"[\x20-\x7e]{{1,{MAX_VALIDATOR}}}")
DEFAULT_POLICY = Policy()  # frozen: one instance shared by every default FetchOptions


class FetchError(Exception):
    pass


@dataclass(frozen=True)
class FetchOptions:
    timeout: float = DEFAULT_TIMEOUT
    max_body: int = MAX_BODY
    concurrency: int = DEFAULT_CONCURRENCY
    # Feeds fetched from one host at once, whatever `concurrency` is: 30 feeds on one small server
    # must not flood it (a short listen queue, as Python's http.server has, drops the rest).
    per_host: int = DEFAULT_PER_HOST
    # When each feed fetched is due next (reader/schedule.py): refresh_every, _floor, _ceiling.
    schedule: Policy = DEFAULT_POLICY

    @classmethod
    def of(cls, settings: Settings) -> FetchOptions:
        """The options a refresh takes from the user's settings."""
        return cls(
            timeout=settings.timeout, concurrency=settings.concurrency, per_host=settings.per_host,
            schedule=Policy.of(settings.refresh_every, settings.refresh_floor, settings.refresh_ceiling),
        )


def make_client(options: FetchOptions = FetchOptions(), *, connections: int | None = None) -> AsyncClient:
    """A client for `fetch`: keep-alive connections, at most `connections` (default: the concurrency) at once."""
    return AsyncClient(
        headers={"User-Agent": USER_AGENT, "Accept": ACCEPT, "Accept-Encoding": "gzip, deflate"},
        timeout=options.timeout,
        connect_timeout=min(options.timeout, 10.0),
        connections=connections or options.concurrency,
        cainfo=ca_bundle(),
    )


@functools.cache
def ca_bundle() -> str | None:
    """The certificates https is checked against: certifi's bundle (what httpx used), else the system's.
    libcurl's own default is a path compiled into pycurl's wheel, which need not exist here."""
    try:
        import certifi

        return certifi.where()
    except ImportError:
        import ssl

        return ssl.get_default_verify_paths().cafile


async def fetch(
    client: AsyncClient,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    options: FetchOptions = FetchOptions(),
    accept: str | None = None,
) -> FetchResult:
    """Fetch one feed (or, with `accept`, another resource: a page, an image). Never raises
    (but for cancellation): any trouble ends up in `error`.

    `options.timeout` bounds the whole fetch, redirects and body included: each request's own
    timeout bounds only that hop.
    """
    result = FetchResult(url=url, final_url=url)
    try:
        async with asyncio.timeout(options.timeout):
            await _fetch(client, result, etag, last_modified, options, accept)
    except TimeoutError:
        result.error = f"timed out after {options.timeout:g} s"
    except HTTPError as exc:
        if exc.kind == "timeout":
            result.error = f"timed out after {options.timeout:g} s"
        else:
            result.error = describe_http_error(exc)
            # No connection or no TLS handshake (but the name resolved): another scheme may work.
            result.unreachable = exc.kind in ("connect", "tls")
    except FetchError as exc:
        result.error = str(exc)
    except Exception as exc:  # one feed's trouble, whatever it is, is that feed's error
        result.error = f"unexpected error: {type(exc).__name__}: {short_text(exc)}"
    if result.error:
        result.error = clean_message(result.error)
        result.body = None
    return result


def describe_http_error(exc: HTTPError) -> str:
    """A plain one-line account of a request that failed (never raw OpenSSL text)."""
    text = short_text(exc)
    if exc.kind == "resolve":
        return "could not resolve the host name"
    if exc.kind == "connect":
        return connect_failure(text)
    if exc.kind == "certificate":
        return certificate_failure(text)
    if exc.kind == "tls":
        return tls_failure(text)
    if exc.kind in ("broken", "protocol"):
        return f"connection broken mid-response ({text})"
    if exc.kind == "invalid-url":
        return f"invalid URL: {text}"
    return f"network error: {text}"


def redirect_target(url: str, headers: Mapping[str, str]) -> str | None:
    """Where a 3xx answer to `url` points: its Location resolved against `url`, or None without one.
    A Location urljoin refuses (ValueError) is kept as given: the caller's safe_url check judges it.
    The feed fetch and the enclosure download follow redirects by hand and both resolve them here."""
    location = headers.get("location", "").strip()
    if not location:
        return None
    try:
        return urljoin(url, location)
    except ValueError:
        return location


def _check_url(url: str) -> None:
    """Refuse what the network stack would choke on with an obscure error (a port of 99999,
    from a cache written before URLs were checked): the same test every URL passes."""
    if safe_url(url) is None:
        raise FetchError("invalid URL: not an http(s) URL with a host name and a valid port")


async def _fetch(
    client: AsyncClient,
    result: FetchResult,
    etag: str | None,
    last_modified: str | None,
    options: FetchOptions,
    accept: str | None = None,
) -> None:
    url = result.url
    permanent = True
    etag, last_modified = _validator(etag), _validator(last_modified)
    for _hop in range(MAX_REDIRECTS + 1):
        _check_url(url)
        headers = {"Accept": accept} if accept else {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        body: list[BodyReader] = []

        def sink_for(response: Response, body: list[BodyReader] = body) -> BodyReader | None:
            # Only a 2xx body is read; a redirect's, a 304's or an error page's never is.
            if not 200 <= response.status_code < 300:
                return None
            result.status = response.status_code  # known even if the body then fails (too big, corrupt)
            body.append(BodyReader(response.headers.get("content-encoding", ""), options.max_body))
            return body[0]

        try:
            response = await client.get(url, headers, sink_for)
        except BodyError as exc:
            raise FetchError(str(exc)) from exc
        if response.status_code in (301, 302, 303, 307, 308):
            target = redirect_target(url, response.headers)
            if target is None:
                raise FetchError(f"HTTP {response.status_code} redirect without a Location")
            if any(ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0 for char in target):
                raise FetchError("redirect to an invalid URL refused (control characters in its Location)")
            if not safe_url(target):
                raise FetchError(f"redirect to a non-http(s) or malformed URL refused: {target[:100]}")
            permanent = permanent and response.status_code in (301, 308)
            url = target
            continue
        # A redirect that adds or changes credentials is followed, never stored: the
        # subscription would then send a password the user never gave reader. Nor is
        # it what the feed's relative links resolve against (they would carry it).
        same_credentials = _userinfo(url) == _userinfo(result.url)
        result.permanent_redirect = permanent and url != result.url and same_credentials
        result.final_url = url if same_credentials else _without_userinfo(url)
        result.status = response.status_code
        result.headers = dict(response.headers)
        result.fresh_for = server_interval(result.headers)
        if response.status_code == 304:
            result.not_modified = True
            result.etag = _validator(response.headers.get("etag")) or etag
            result.last_modified = _validator(response.headers.get("last-modified")) or last_modified
            return
        if response.status_code == 410:
            result.gone = True
            raise FetchError("HTTP 410 Gone: the feed was removed by its publisher")
        if response.status_code in (429, 503):
            result.retry_after = _retry_after(response.headers.get("retry-after"))
        if response.status_code >= 400 or response.status_code < 200:
            raise FetchError(f"HTTP {response.status_code} {response.reason_phrase}".rstrip())
        try:
            result.body = body[0].finish() if body else b""
        except BodyError as exc:
            raise FetchError(str(exc)) from exc
        result.etag = _validator(response.headers.get("etag"))
        result.last_modified = _validator(response.headers.get("last-modified"))
        return
    raise FetchError(f"too many redirects (more than {MAX_REDIRECTS})")


def _validator(value: str | None) -> str | None:
    """An ETag or Last-Modified fit to send back, else None (the feed is then fetched in full)."""
    if value is None:
        return None
    value = value.strip()
    return value if _VALIDATOR.fullmatch(value) else None


def _userinfo(url: str) -> str:
    netloc = urlsplit(url).netloc
    return netloc.rpartition("@")[0]


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


def _retry_after(value: str | None) -> float | None:
    """Retry-After as an epoch time, capped at a week so a hostile server can't mute a feed forever."""
    if not value:
        return None
    value = value.strip()
    now = time.time()
    if value.isascii() and value.isdigit():
        delay = float(value)
    else:
        try:
            delay = email.utils.parsedate_to_datetime(value).timestamp() - now
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    return now + max(0.0, min(delay, 7 * 24 * 3600))
