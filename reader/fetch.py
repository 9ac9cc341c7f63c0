"""Fetching feeds over HTTP with httpx: conditional GET, caps, and readable errors.

Redirects are followed by hand so that each hop can be checked (http(s) only, at most
MAX_REDIRECTS) and so a chain of permanent redirects can update the stored URL.
Decompression is done here too, with a cap on the decompressed size, because httpx
would inflate a gzip bomb chunk by chunk without a bound per chunk.
"""

from __future__ import annotations

import email.utils
import ssl
import time
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx

from . import __version__
from .models import FetchResult
from .sanitize import safe_url

USER_AGENT = f"reader/{__version__} (terminal feed reader; +https://github.com/reader-app/reader)"
MAX_BODY = 10 * 1024 * 1024
MAX_REDIRECTS = 5
DEFAULT_TIMEOUT = 30.0
DEFAULT_CONCURRENCY = 16
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)


class FetchError(Exception):
    pass


@dataclass(frozen=True)
class FetchOptions:
    timeout: float = DEFAULT_TIMEOUT
    max_body: int = MAX_BODY
    concurrency: int = DEFAULT_CONCURRENCY


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
) -> FetchResult:
    """Fetch one feed. Never raises for network or HTTP trouble: it ends up in `error`."""
    result = FetchResult(url=url, final_url=url)
    try:
        await _fetch(client, result, etag, last_modified, options)
    except httpx.TimeoutException:
        result.error = f"timed out after {options.timeout:g} s"
    except httpx.ConnectError as exc:
        result.error = _connect_error(exc)
    except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
        result.error = f"connection broken mid-response ({_short(exc)})"
    except httpx.HTTPError as exc:
        result.error = f"network error: {_short(exc)}"
    except httpx.InvalidURL as exc:
        result.error = f"invalid URL: {_short(exc)}"
    except FetchError as exc:
        result.error = str(exc)
    except (OSError, ValueError) as exc:
        result.error = f"network error: {_short(exc)}"
    if result.error:
        result.body = None
    return result


async def _fetch(
    client: httpx.AsyncClient,
    result: FetchResult,
    etag: str | None,
    last_modified: str | None,
    options: FetchOptions,
) -> None:
    url = result.url
    permanent = True
    for _hop in range(MAX_REDIRECTS + 1):
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        request = client.build_request("GET", url, headers=headers)
        try:
            response = await client.send(request, stream=True)
        except httpx.InvalidURL as exc:
            # httpx parses a redirect's Location even when not following it.
            raise FetchError(f"redirect to an invalid or non-http(s) URL refused ({_short(exc)})") from exc
        try:
            if response.status_code in (301, 302, 303, 307, 308):
                location = response.headers.get("location", "").strip()
                if not location:
                    raise FetchError(f"HTTP {response.status_code} redirect without a Location")
                target = urljoin(url, location)
                if not safe_url(target):
                    raise FetchError(f"redirect to a non-http(s) URL refused: {target[:100]}")
                permanent = permanent and response.status_code in (301, 308)
                url = target
                continue
            result.final_url = url
            result.permanent_redirect = permanent and url != result.url
            result.status = response.status_code
            result.headers = {k.lower(): v for k, v in response.headers.items()}
            if response.status_code == 304:
                result.not_modified = True
                result.etag = response.headers.get("etag") or etag
                result.last_modified = response.headers.get("last-modified") or last_modified
                return
            if response.status_code == 410:
                result.gone = True
                raise FetchError("HTTP 410 Gone: the feed was removed by its publisher")
            if response.status_code in (429, 503):
                result.retry_after = _retry_after(response.headers.get("retry-after"))
            if response.status_code >= 400 or response.status_code < 200:
                raise FetchError(f"HTTP {response.status_code} {response.reason_phrase}".rstrip())
            result.body = await _read_body(response, options.max_body)
            result.etag = response.headers.get("etag")
            result.last_modified = response.headers.get("last-modified")
            return
        finally:
            await response.aclose()
    raise FetchError(f"too many redirects (more than {MAX_REDIRECTS})")


async def _read_body(response: httpx.Response, cap: int) -> bytes:
    encoding = response.headers.get("content-encoding", "").strip().lower()
    inflater = None
    if encoding in ("gzip", "x-gzip"):
        inflater = zlib.decompressobj(wbits=47)  # gzip or zlib header, auto-detected
    elif encoding == "deflate":
        inflater = zlib.decompressobj()
    elif encoding not in ("", "identity"):
        raise FetchError(f"unsupported Content-Encoding: {encoding[:40]}")
    chunks: list[bytes] = []
    total = 0
    try:
        async for data in _decoded(response, inflater, cap):
            total += len(data)
            if total > cap:
                raise FetchError(f"response larger than {cap // (1024 * 1024)} MB, gave up")
            chunks.append(data)
    except zlib.error as exc:
        raise FetchError(f"corrupt {encoding} body ({exc})") from exc
    return b"".join(chunks)


async def _decoded(response: httpx.Response, inflater: zlib._Decompress | None, cap: int) -> AsyncIterator[bytes]:
    """The body's bytes, inflated in steps that never exceed the cap (a bomb stops there)."""
    async for raw in response.aiter_raw():
        if inflater is None:
            yield raw
            continue
        data = inflater.decompress(raw, cap + 1)
        yield data
        while inflater.unconsumed_tail and data:
            data = inflater.decompress(inflater.unconsumed_tail, cap + 1)
            yield data
    if inflater is not None:
        yield inflater.flush()


def _retry_after(value: str | None) -> float | None:
    """Retry-After as an epoch time, capped at a week so a hostile server can't mute a feed forever."""
    if not value:
        return None
    value = value.strip()
    now = time.time()
    if value.isdigit():
        delay = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        delay = when.timestamp() - now
    return now + max(0.0, min(delay, 7 * 24 * 3600))


def _connect_error(exc: Exception) -> str:
    text = _short(exc)
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused (is the server down?)"
        cause = cause.__cause__ or cause.__context__
    if "refused" in text.lower() or "all connection attempts failed" in text.lower():
        return "connection refused (is the server down?)"
    if "name or service" in text.lower() or "nodename" in text.lower() or "getaddrinfo" in text.lower():
        return "could not resolve the host name"
    return f"could not connect: {text}"


def _short(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]
