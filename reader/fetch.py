"""Fetching feeds over HTTP with httpx: conditional GET, caps, and readable errors.

Redirects are followed by hand so that each hop can be checked (http(s) only, at most
MAX_REDIRECTS) and so a chain of permanent redirects can update the stored URL.
Decompression is done here too, with a cap on the decompressed size, because httpx
would inflate a gzip bomb chunk by chunk without a bound per chunk.

Everything a server sends besides the body (status line, headers, redirect targets)
is hostile text: whatever of it reaches an error message is cleaned here, where it
enters, so every caller can print `FetchResult.error` as it is.
"""

from __future__ import annotations

import asyncio
import email.utils
import re
import ssl
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

import httpx

from . import __version__
from .body import BodyError, BodyReader
from .models import FetchResult
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


def make_client(
    options: FetchOptions = FetchOptions(), *, connections: int | None = None, ssl_context: ssl.SSLContext | None = None
) -> httpx.AsyncClient:
    connections = connections or options.concurrency
    return httpx.AsyncClient(
        headers={"User-Agent": USER_AGENT, "Accept": ACCEPT, "Accept-Encoding": "gzip, deflate"},
        timeout=httpx.Timeout(options.timeout, connect=min(options.timeout, 10.0)),
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        follow_redirects=False,
        trust_env=False,
        verify=ssl_context or True,
    )


def make_ssl_context() -> ssl.SSLContext:
    """One verifying context to share: loading the CA bundle costs ~20 ms per client otherwise."""
    return httpx.create_ssl_context()


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    options: FetchOptions = FetchOptions(),
    accept: str | None = None,
) -> FetchResult:
    """Fetch one feed (or, with `accept`, another resource: a page, an image). Never raises
    (but for cancellation): any trouble ends up in `error`.

    `options.timeout` bounds the whole fetch, redirects and body included: httpx's own
    timeouts are per read, so a server dripping a byte a second would never trip them.
    """
    result = FetchResult(url=url, final_url=url)
    try:
        async with asyncio.timeout(options.timeout):
            await _fetch(client, result, etag, last_modified, options, accept)
    except (TimeoutError, httpx.TimeoutException):
        result.error = f"timed out after {options.timeout:g} s"
    except FetchError as exc:
        result.error = str(exc)
    except Exception as exc:  # one feed's trouble, whatever it is, is that feed's error
        result.error = describe_error(exc)
        result.unreachable = _unreachable(exc, result.error)
    if result.error:
        result.error = clean_message(result.error)
        result.body = None
    return result


def describe_error(exc: BaseException) -> str:
    """A plain one-line account of a network failure (never raw OpenSSL text or a traceback)."""
    exc = _leaf(exc)
    tls = _find(exc, ssl.SSLError)
    if isinstance(tls, ssl.SSLCertVerificationError):
        reason = tls.verify_message or tls.reason or "verification failed"
        return f"certificate not trusted: {reason}"
    if tls is not None or isinstance(exc, ssl.SSLError):
        return _tls_error(tls or exc)
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError) or _find(exc, ConnectionRefusedError):
        return _connect_error(exc)
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
        return f"connection broken mid-response ({_short(exc)})"
    if isinstance(exc, (httpx.InvalidURL, httpx.UnsupportedProtocol)):
        return f"invalid URL: {_short(exc)}"
    if isinstance(exc, httpx.HTTPError):
        return f"network error: {_short(exc)}"
    if isinstance(exc, (OSError, ValueError, OverflowError, UnicodeError)):
        return f"network error: {_short(exc)}"
    return f"unexpected error: {type(exc).__name__}: {_short(exc)}"


def _unreachable(exc: BaseException, message: str) -> bool:
    """No connection or no TLS handshake (but the host name resolved): another scheme may work."""
    if message.startswith(("certificate not trusted", "could not resolve")):
        return False
    return isinstance(_leaf(exc), (httpx.ConnectError, ssl.SSLError)) or _find(exc, ssl.SSLError) is not None


def _tls_error(exc: BaseException) -> str:
    reason = (getattr(exc, "reason", None) or "").upper()
    text = str(exc).upper()
    if any(word in reason or word in text for word in ("WRONG_VERSION_NUMBER", "HTTP_REQUEST", "PACKET_LENGTH",
                                                           "RECORD_LAYER", "UNEXPECTED_EOF", "EOF OCCURRED")):
        return "TLS handshake failed: the server does not speak https on this port"
    if "UNSUPPORTED_PROTOCOL" in reason or "VERSION" in reason:
        return "TLS handshake failed: the server only offers an outdated TLS version"
    if "ALERT" in reason or "HANDSHAKE_FAILURE" in reason or "NO_SHARED_CIPHER" in reason:
        return "TLS handshake failed: the server refused the secure connection"
    return "TLS handshake failed: the secure connection could not be set up"


def _leaf(exc: BaseException) -> BaseException:
    """The first real exception inside (nested) exception groups: anyio raises those."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _find(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    """`exc` or the first exception of type `kind` in its cause/context chain."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        current = _leaf(current)
        if isinstance(current, kind):
            return current
        current = current.__cause__ or current.__context__
    return None


def redirect_target(url: str, response: httpx.Response) -> str | None:
    """Where a 3xx answer to `url` points: its Location resolved against `url`, or None without one.
    A Location urljoin refuses (ValueError) is kept as given: the caller's safe_url check judges it.
    The feed fetch and the enclosure download follow redirects by hand and both resolve them here."""
    location = response.headers.get("location", "").strip()
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
    client: httpx.AsyncClient,
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
        try:
            request = client.build_request("GET", url, headers=headers)
            response = await client.send(request, stream=True)
        except httpx.InvalidURL as exc:
            # httpx parses a redirect's Location even when not following it.
            raise FetchError(f"redirect to an invalid or non-http(s) URL refused ({_short(exc)})") from exc
        except httpx.RemoteProtocolError as exc:
            if "location header" not in str(exc).lower():
                raise
            # ...and says so as a protocol error when the Location holds control characters.
            raise FetchError(f"redirect to an invalid URL refused ({_short(exc)})") from exc
        try:
            if response.status_code in (301, 302, 303, 307, 308):
                target = redirect_target(url, response)
                if target is None:
                    raise FetchError(f"HTTP {response.status_code} redirect without a Location")
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
            result.headers = {k.lower(): v for k, v in response.headers.items()}
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
            result.body = await _read_body(response, options.max_body)
            result.etag = _validator(response.headers.get("etag"))
            result.last_modified = _validator(response.headers.get("last-modified"))
            return
        finally:
            await response.aclose()
    raise FetchError(f"too many redirects (more than {MAX_REDIRECTS})")


def _validator(value: str | None) -> str | None:
    """An ETag or Last-Modified fit to send back, else None (the feed is then fetched in full)."""
    if value is None:
        return None
    value = value.strip()
    return value if _VALIDATOR.fullmatch(value) else None


async def _read_body(response: httpx.Response, cap: int) -> bytes:
    try:
        body = BodyReader(response.headers.get("content-encoding", ""), cap)
        async for raw in response.aiter_raw():
            body.feed(raw)
        return body.finish()
    except BodyError as exc:
        raise FetchError(str(exc)) from exc


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


def _connect_error(exc: BaseException) -> str:
    text = _short(exc)
    if _find(exc, ConnectionRefusedError) is not None:
        return "connection refused (is the server down?)"
    lowered = text.lower()
    if "refused" in lowered or "all connection attempts failed" in lowered:
        return "connection refused (is the server down?)"
    if "name or service" in lowered or "nodename" in lowered or "getaddrinfo" in lowered:
        return "could not resolve the host name"
    return f"could not connect: {text}"


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200] if text.strip() else type(exc).__name__
