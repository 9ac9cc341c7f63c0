"""Cleaning text that strangers wrote before it is stored or printed.

Feed text reaches a terminal, so anything that a terminal acts on has to go:
escape sequences (which can retitle the window, write the clipboard or move the
cursor), C0/C1 control characters and bidi overrides (which can make text read
differently from what it is).
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

# ESC-introduced sequences: CSI (ESC [ ... final), OSC/DCS/SOS/PM/APC (ESC ] ... BEL or ST),
# and two-character escapes. Their 8-bit C1 forms (U+009B CSI, U+009D OSC, ...) too.
# A string sequence (OSC, DCS, ...) is removed whole only up to its terminator, and its body can
# hold no control character: one with no terminator before the next control character (a newline,
# another ESC) or the end loses only its introducer and parameters. With `.*?(BEL|ST|$)` an
# unterminated "ESC ]" swallowed the rest of the text, a whole post after one stray byte. What is
# left is printable text (every control character is removed after this), which a terminal only prints.
# No sequence takes a character that delimits markup (< > " ' &): this runs on HTML (a feed's content,
# an article page), where ESC before the quote closing an attribute took the quote, and the text up
# to the next quote became the attribute's. Those characters stay as text; the ESC is gone anyway.
# Linear: the body's class excludes every terminator, so its run can only end at the next control
# character (or markup delimiter), and the runs of successive sequences never overlap.
_ESCAPES = re.compile(
    r"""
    (?: \x1b\[ | \x9b ) [\x30-\x3b\x3d\x3f]* [\x20\x21\x23-\x25\x28-\x2f]* [\x40-\x7e]?     # CSI
  | (?: \x1b[\]PX^_] | [\x90\x98\x9d\x9e\x9f] )                                # OSC, DCS, SOS, PM, APC:
    (?: [^\x00-\x1f\x7f-\x9f<>"']* (?: \x07 | \x1b\\ | \x9c )                   #   whole, up to BEL or ST
      | [\x30-\x3b\x3d\x3f]* )                                                #   unterminated: introducer, parameters
  | \x1b [\x20\x21\x23-\x25\x28-\x2f]* [\x30-\x3b\x3d\x3f-\x7e]?                  # other ESC sequences
    """,
    re.VERBOSE,
)
# Where an escape sequence can start: a cheap scan before the regex runs over a whole page.
_ESCAPE_START = re.compile("[\x1b\x90\x98\x9b\x9d-\x9f]")

# C0 except tab and newline, DEL, C1, the bidi embedding/override/isolate controls, and
# the characters no XML document may hold (lone surrogates, U+FFFE, U+FFFF): a title
# with one would make `reader export` write OPML that nothing can read back.
_BAD = "\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\ud800-\udfff\ufffe\uffff"
_CONTROLS = re.compile(f"[\x00-\x08\x0b-\x1f{_BAD}]")
_CONTROLS_ONE_LINE = re.compile(f"[\x00-\x1f{_BAD}]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# The userinfo of a URL anywhere in a text, up to the authority's last "@" (a password may hold one).
_CREDENTIALS = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)([^\s/?#]*)@")
_SPACES = re.compile(r"\s+")
# A tag cannot hold a "<": with `[^>]*` a run of "<" and no ">" made every "<" scan to
# the end of the text (a 200,000-character run took minutes).
_TAGS = re.compile(r"<[^<>]*>")

SAFE_SCHEMES = ("http", "https")
# A category that is a URI or a URN (Blogger's `http://schemas.google.com/g/2005#post`,
# `tag:`, `urn:`) is a scheme term for machines, not a label for people.
_URI_TERM = re.compile(r"^(?:[a-z][a-z0-9+.-]*://\S*|(?:urn|tag):\S+)$", re.I)


def is_uri_term(name: str) -> bool:
    return bool(_URI_TERM.match(name.strip()))


def clean_text(text: str | None) -> str:
    """Strip escape sequences and control characters; keep newlines and tabs."""
    if not text:
        return ""
    if not _CONTROLS.search(text):  # ESC is a control character too
        return text  # the common case costs one scan
    text = _pair_surrogates(text.replace("\r\n", "\n").replace("\r", "\n"))
    return _CONTROLS.sub("", _ESCAPES.sub("", text))


def strip_escapes(text: str) -> str:
    """Terminal escape sequences (7- and 8-bit) removed whole; every other character kept.

    For text that is cleaned of control characters later, by its own rules (a web page before
    parsing): the sequences must go first, while the BEL or ESC that ends one is still there.
    """
    if not _ESCAPE_START.search(text):
        return text
    return _ESCAPES.sub("", text)


def clean_line(text: str | None, limit: int = 1000) -> str:
    """A single-line field (title, author, category): cleaned, whitespace collapsed, capped.

    The cap keeps a 100,000-character title from costing anything downstream.
    """
    if not text:
        return ""
    if text.isprintable() and len(text) <= limit and "  " not in text:
        return text.strip()  # the common case: nothing to strip (controls and bidi marks aren't printable)
    if len(text) > limit * 4:
        text = text[: limit * 4]
    text = _ESCAPES.sub("", _pair_surrogates(text))
    text = _SPACES.sub(" ", _CONTROLS_ONE_LINE.sub(" ", text)).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def _pair_surrogates(text: str) -> str:
    """UTF-16 surrogate pairs (from `&#55356;&#57225;`) joined into the character they mean.

    A lone surrogate can't be encoded as UTF-8 at all (SQLite and the terminal would
    raise): it becomes U+FFFD, the replacement character.
    """
    if not _SURROGATE.search(text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


# Characters XML 1.0 forbids outright (even as character references).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str | None) -> str:
    """Text fit for an XML document: surrogate pairs joined, what XML forbids dropped."""
    if not text:
        return ""
    if not _NOT_XML.search(text):
        return text
    return _NOT_XML.sub("", _pair_surrogates(text))


def mask_credentials(text: str | None) -> str:
    """Text fit to show: every URL's `user:secret@` in it becomes `user:***@`.

    Works on a bare URL and on a message that holds several. The stored URL keeps the
    password (it is needed to fetch); only what is shown hides it.
    """
    if not text or "@" not in text:
        return text or ""
    return _CREDENTIALS.sub(_hide_password, text)


def _hide_password(match: re.Match[str]) -> str:
    user, colon, _password = match.group(2).partition(":")
    return f"{match.group(1)}{user}:***@" if colon else f"{match.group(1)}***@"


def clean_message(text: str | None, limit: int = 500) -> str:
    """A message built from server, feed or user text (an error, say), fit to print on one line."""
    return clean_line(mask_credentials(text), limit)


def strip_tags(markup: str | None) -> str:
    """Markup to plain text, cheaply: for titles and the search index, not for reading."""
    if not markup:
        return ""
    if "<" in markup:
        markup = _TAGS.sub(" ", markup)
    if "&" in markup:
        markup = html.unescape(markup)
    return markup



def safe_url(url: str | None) -> str | None:
    """The URL if it is http(s) and printable, else None. Nothing else is ever opened."""
    if not url:
        return None
    url = url.strip()
    if _CONTROLS_ONE_LINE.search(url):
        return None
    url = url.replace(" ", "%20")
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in SAFE_SCHEMES or not parts.hostname:
        return None
    try:
        parts.port  # noqa: B018 -- raises on a port out of range ("host:99999", from an OPML file, say)
    except ValueError:
        return None
    return url


def media_type(content_type: str | None) -> str:
    """The media type of a Content-Type (or a feed's type attribute), lowercased, without its
    parameters: "Audio/MPEG; charset=x" → "audio/mpeg"; "" for none."""
    return (content_type or "").split(";", 1)[0].strip().lower()
