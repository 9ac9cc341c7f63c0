"""Network failures in plain words, one line each (never raw OpenSSL text or a traceback).

The wording is shared by both HTTP stacks: libcurl's (reader/http_client.py, for feeds,
pages and images) and httpx's blocking client (the sync client and enclosure downloads,
which run in worker threads). `describe_error` words httpx's exceptions; fetch.py words
libcurl's with the text helpers here.
"""

from __future__ import annotations

import re
import ssl


def describe_error(exc: BaseException) -> str:
    """A plain one-line account of an httpx (or OS) network failure."""
    import httpx  # only its callers (sync, downloads) have it loaded: this module stays cheap to import

    exc = _leaf(exc)
    tls = _find(exc, ssl.SSLError)
    if isinstance(tls, ssl.SSLCertVerificationError):
        reason = tls.verify_message or tls.reason or "verification failed"
        return f"certificate not trusted: {reason}"
    if tls is not None or isinstance(exc, ssl.SSLError):
        return tls_failure(f"{getattr(tls or exc, 'reason', None) or ''} {tls or exc}")
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError) or _find(exc, ConnectionRefusedError):
        if _find(exc, ConnectionRefusedError) is not None:
            return "connection refused (is the server down?)"
        return connect_failure(short_text(exc))
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
        return f"connection broken mid-response ({short_text(exc)})"
    if isinstance(exc, (httpx.InvalidURL, httpx.UnsupportedProtocol)):
        return f"invalid URL: {short_text(exc)}"
    if isinstance(exc, httpx.HTTPError):
        return f"network error: {short_text(exc)}"
    if isinstance(exc, (OSError, ValueError, OverflowError, UnicodeError)):
        return f"network error: {short_text(exc)}"
    return f"unexpected error: {type(exc).__name__}: {short_text(exc)}"


def connect_failure(text: str) -> str:
    lowered = text.lower()
    if "refused" in lowered or "all connection attempts failed" in lowered or "couldn't connect" in lowered \
            or "could not connect to server" in lowered:
        return "connection refused (is the server down?)"
    if "name or service" in lowered or "nodename" in lowered or "getaddrinfo" in lowered:
        return "could not resolve the host name"
    return f"could not connect: {text}"


def tls_failure(text: str) -> str:
    """What a failed TLS handshake means, from OpenSSL's words for it (in either stack's message)."""
    text = text.upper()
    if any(word in text for word in ("WRONG_VERSION_NUMBER", "WRONG VERSION NUMBER", "HTTP_REQUEST",
                                     "PACKET_LENGTH", "PACKET LENGTH", "RECORD_LAYER", "RECORD LAYER",
                                     "UNEXPECTED_EOF", "UNEXPECTED EOF", "EOF OCCURRED")):
        return "TLS handshake failed: the server does not speak https on this port"
    if "UNSUPPORTED_PROTOCOL" in text or "UNSUPPORTED PROTOCOL" in text or "PROTOCOL VERSION" in text \
            or "PROTOCOL_VERSION" in text:
        return "TLS handshake failed: the server only offers an outdated TLS version"
    if "ALERT" in text or "HANDSHAKE_FAILURE" in text or "HANDSHAKE FAILURE" in text or "NO_SHARED_CIPHER" in text:
        return "TLS handshake failed: the server refused the secure connection"
    return "TLS handshake failed: the secure connection could not be set up"


def certificate_failure(text: str) -> str:
    """libcurl's "SSL certificate OpenSSL verify result: self-signed certificate (18)" (or "SSL certificate
    problem: ...") as "certificate not trusted: self-signed certificate"; one for another name says so."""
    lowered = text.lower()
    for marker in ("verify result:", "problem:"):
        if marker in lowered:
            reason = re.sub(r"\s*\(\d+\)$", "", text[lowered.index(marker) + len(marker):].strip())
            return f"certificate not trusted: {reason or 'verification failed'}"
    if "subject name" in lowered or "does not match" in lowered or "hostname" in lowered:
        return "certificate not trusted: it is for another host name"
    return "certificate not trusted: verification failed"


def short_text(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200] if text.strip() else type(exc).__name__


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
