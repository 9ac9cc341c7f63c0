"""A page's bytes as text: a BOM, then the charset of Content-Type, then <meta charset>, then UTF-8;
cut to MAX_PAGE_CHARS; then, once, where the page's text enters, the terminal escape sequences and
every character lxml refuses removed."""

from __future__ import annotations

import codecs
import re

from reader.sanitize import strip_escapes

# Pages longer than this are cut before parsing. Real articles are far smaller (the largest of
# the 90 test pages is 1.6 MB of HTML, nearly all of it markup and scripts around a few KB of
# text), and every stage of the extraction is at worst proportional to the page's size times its nesting
# depth, which libxml2 caps at 256: this is what bounds the work one page can cost, whatever
# the server sends (a 50 MB page costs what 2.5 MB does).
MAX_PAGE_CHARS = 2_500_000
# A page's bytes are cut before decoding too, at the most bytes MAX_PAGE_CHARS characters can take.
_MAX_PAGE_BYTES = MAX_PAGE_CHARS * 4
# Where a <meta charset> is looked for: the HTML spec says the first 1024 bytes; real pages
# put long <head>s first, so a little more.
_SNIFF_BYTES = 8192

# What no page means and lxml refuses (every C0 control but tab and line ends, lone surrogates, U+FFFE,
# U+FFFF: setting a node's text to a string holding one raises "All strings must be XML compatible",
# which cost the whole article), and DEL and the C1 controls, which a terminal acts on. Form feed is
# HTML whitespace: it becomes a space.
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# A numeric character reference, whole (leading zeros, no ";" allowed, as parsers read them).
_CHAR_REF = re.compile(r"&#(?:[xX]0*([0-9a-fA-F]{1,6})(?![0-9a-fA-F])|0*([0-9]{1,7})(?![0-9]));?")
# The characters libxml2 makes of a reference as they are, and lxml then refuses or a terminal acts on
# ("&#27;[31m" is an escape sequence once parsed). The other C1 references (&#150;) are windows-1252
# characters to a parser ("–"), and NUL and surrogates become U+FFFD: those stay references.
_RESOLVED_REFS = frozenset(
    [*range(0x01, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, 0x81, 0x8D, 0x8F, 0x90, 0x9D, 0xFFFE, 0xFFFF]
)
_CT_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([\w.:-]+)", re.I)
_META_CHARSET = re.compile(rb"""<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([\w.:-]+)""", re.I)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# What browsers decode a declared label as (the WHATWG Encoding standard): latin-1 and ascii
# pages are windows-1252 in practice, gb2312 is gb18030, and an HTML page can't declare
# UTF-16 in its own (ASCII-compatible) bytes.
_ALIASES = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin-1": "cp1252",
    "latin1": "cp1252",
    "l1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "big5": "big5hkscs",
    "shift-jis": "cp932",
    "shift_jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "euc-kr": "cp949",
    "tis-620": "cp874",
    "utf-16": "utf-8",
    "utf-16le": "utf-8",
    "utf-16be": "utf-8",
}


def _codec(label: str | None) -> str | None:
    """The Python codec for a charset label, or None for an unknown one (x-user-defined, junk)."""
    if not label:
        return None
    label = label.strip().lower()
    label = _ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except (LookupError, ValueError):
        return None


def decode_page(page: bytes, content_type: str | None = None) -> str:
    """The page's text: a BOM, then the charset of Content-Type, then <meta>, then UTF-8 (invalid bytes replaced)."""
    cut = len(page) > _MAX_PAGE_BYTES
    page = page[:_MAX_PAGE_BYTES]
    encoding = None
    for bom, name in _BOMS:
        if page.startswith(bom):
            encoding, page = name, page[len(bom) :]
            break
    if encoding is None and content_type:
        match = _CT_CHARSET.search(content_type)
        encoding = _codec(match.group(1)) if match else None
    if encoding is None:
        match = _META_CHARSET.search(page[:_SNIFF_BYTES])  # also <meta http-equiv content="...; charset=x">
        encoding = _codec(match.group(1).decode("ascii", "replace")) if match else None
    if encoding not in (None, "utf-8") and not page.isascii():
        # A page declared as a legacy charset whose bytes are all valid UTF-8 is UTF-8: servers
        # default to "charset=iso-8859-1" and pages keep the <meta> of the CMS they were moved from,
        # while text in a legacy charset is practically never valid UTF-8 by accident.
        try:
            return page.decode("utf-8")[:MAX_PAGE_CHARS]
        except UnicodeDecodeError as e:
            if cut and e.end == len(page):  # only the last character, cut in two by the byte cap
                return page.decode("utf-8", errors="replace")[:MAX_PAGE_CHARS]
    text = page.decode(encoding or "utf-8", errors="replace")
    return text[:MAX_PAGE_CHARS]


def without_controls(text: str) -> str:
    """The page's text with terminal escape sequences, and then every character lxml refuses, removed.

    The order matters: an escape sequence goes whole while the BEL or ESC that ends it is still there
    (removing controls first left an OSC with no terminator). References to such characters are
    turned into them first, so that one pass removes both spellings. What is left can hold no
    character that lxml refuses, so no node of the page can fail to be set.
    """
    if "&#" in text:
        text = _CHAR_REF.sub(_resolve_control_ref, text)
    text = strip_escapes(text)  # the project's one escape stripper (reader.sanitize), 7- and 8-bit forms
    if not _CONTROL_CHARS.search(text):
        return text
    return _CONTROL_CHARS.sub(_drop_control, text)


def _resolve_control_ref(match: re.Match[str]) -> str:
    hex_digits, digits = match.groups()
    value = int(hex_digits, 16) if hex_digits else int(digits)
    return chr(value) if value in _RESOLVED_REFS else match.group()


def _drop_control(match: re.Match[str]) -> str:
    return " " if match.group() == "\x0c" else ""
