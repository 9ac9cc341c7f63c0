"""XML documents from strangers: their text in the right encoding, and no DTD entities.

Shared by feeds (parse.py) and OPML (opml.py), so both refuse the same things the same way.

Feeds and OPML files both go through `refuse_entities`. An internal entity is the
whole of an entity-expansion attack (a 10 KB file that expands to gigabytes, or
only to 100x, which no parser's guard stops), and no real feed or subscription list
needs one. So any entity declaration is refused, wherever it sits in the prolog
(after a long comment too) and whatever the encoding: the check is expat itself
reading the prolog, so it sees what the parser would see.
"""

from __future__ import annotations

import codecs
import re
from xml.parsers import expat


class EntityDeclarationError(ValueError):
    """The document declares DTD entities; it is refused, nothing is expanded."""


class _PrologRead(Exception):
    pass


# Byte order marks, longest first (the UTF-32 LE mark starts with the UTF-16 LE one).
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Without a mark, `<?` (or any `<`) in a wide encoding shows by its zero bytes.
_SNIFF = (
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00", "utf-16-le"),
    (b"\x00<", "utf-16-be"),
)
_DECLARED = re.compile(r"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_DECLARATION = re.compile(r"\s*<\?xml[^>]*\?>")
# A run of character references to UTF-16 surrogates (D800-DFFF), decimal or hex.
_REF = (
    rb"&#(?:[xX]0*[dD][89a-fA-F][0-9a-fA-F]{2}"
    rb"|0*(?:5529[6-9]|55[3-9][0-9]{2}|56[0-9]{3}|57[0-2][0-9]{2}|573[0-3][0-9]|5734[0-3]));"
)
# Spelled to start with the literal `&#` (not a group): re then skips ahead to each `&#`
# instead of trying the whole pattern at every byte, 40x faster on a feed of 200 KB.
_SURROGATE_REFS = re.compile(_REF + rb"(?:" + _REF + rb")*")
# A reference with this many digits may be past U+10FFFF (`&#x110000;`, `&#99999999999;`):
# expat refuses the document and feedparser's lenient parser dies on chr() of it.
_LONG_REF = re.compile(rb"&#(?:[xX]0*([0-9a-fA-F]{6,})|0*([0-9]{7,}));")
# References to control characters: C0 but tab, newline and CR (which XML forbids, so expat
# refuses the whole document), DEL, and C1 (which the cleaners strip as the start of an
# escape sequence, taking the markup after it: `&#x9b;</p>` showed `>`).
_CONTROL_REF = re.compile(
    rb"&#(?:[xX]0*([0-8bBcCeEfF]|1[0-9a-fA-F]|7[fF]|[89][0-9a-fA-F])"
    rb"|0*([0-8]|1[124-9]|2[0-9]|3[01]|12[7-9]|1[3-5][0-9]));"
)
_ONE_REF = re.compile(rb"&#(?:[xX]0*([0-9a-fA-F]+)|0*([0-9]+));")
# What the declarations look like in every encoding the fallback can't read: a last resort
# for documents expat gives up on before it reaches the end of their prolog.
_ENTITY_BYTES = tuple("<!ENTITY".encode(name) for name in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"))
# Names that mean a superset in practice; decoding by the superset loses nothing.
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "ascii": "utf-8"}
# Python text codecs that are not character sets a document can be written in.
_NOT_CHARSETS = {"punycode", "idna", "unicode-escape", "raw-unicode-escape", "undefined"}


def decode_xml(data: bytes, charset: str | None = None) -> str:
    """The document as text: by its byte order mark, else its zero-byte pattern, else its
    XML declaration, else `charset` (from HTTP), else UTF-8. Undecodable bytes become U+FFFD.

    Raises ValueError for an encoding Python doesn't know.
    """
    encoding = None
    for bom, name in _BOMS:
        if data.startswith(bom):
            data, encoding = data[len(bom) :], name
            break
    else:
        for pattern, name in _SNIFF:
            if data.startswith(pattern):
                encoding = name
                break
    if encoding is None:
        name = declared_encoding(data) or charset
        encoding = _codec(name) if name else "utf-8"
        if charset_fits(data, encoding) is None:
            encoding = "utf-8"  # a charset that can't be true of these bytes (UTF-16 or EBCDIC on ASCII)
    try:
        return data.decode(encoding, "replace")
    except (UnicodeError, LookupError) as exc:  # a codec that refuses even with "replace"
        raise ValueError(f"cannot decode the document as {encoding}") from exc


def declared_encoding(data: bytes) -> str | None:
    """The encoding name the XML declaration gives, as written (read in ASCII), or None."""
    declared = _DECLARED.match(data[:1024].decode("latin-1"))
    return declared.group(1) if declared else None


def wide_encoding(data: bytes) -> str | None:
    """"utf-16-le" and the like when the document is in a UTF-16/32 form, else None."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return None if name == "utf-8" else name
    return next((name for pattern, name in _SNIFF if data.startswith(pattern)), None)


def as_utf8_document(data: bytes) -> bytes:
    """A document whose bytes a parser can't take as they are, as UTF-8 declaring so:
    one in UTF-16/32, or one whose declared "encoding" is no character set (`x-bogus`,
    `rot13`, `punycode`) or can't be true of its bytes (`UTF-16` or `cp037` declared in
    ASCII): read as UTF-8, as browsers do. Others are returned as they are.

    Byte-level work on the document (character references) then sees ASCII as ASCII.
    """
    if wide_encoding(data) is not None:
        text = decode_xml(data)
    else:
        declared = declared_encoding(data)
        if declared is None or charset_fits(data, declared) is not None:
            return data
        text = data.decode("utf-8", "replace")
    declared = _DECLARATION.match(text)
    if declared:
        text = text[declared.end() :]
    return b'<?xml version="1.0" encoding="utf-8"?>' + text.encode("utf-8", "replace")


def _codec(name: str) -> str:
    """The codec for a declared character set. ValueError for anything that isn't one:
    unknown names, and codecs such as rot13, base64 or punycode."""
    try:
        info = codecs.lookup(name)
    except LookupError:
        info = None
    if info is None or not getattr(info, "_is_text_encoding", True) or info.name in _NOT_CHARSETS:
        raise ValueError(f"unknown character encoding {name[:40]!r}")
    return _SUPERSETS.get(info.name, info.name)


def charset_fits(data: bytes, name: str | None) -> str | None:
    """The codec for `name` if it is a character set these bytes can be in, else None.

    A document's leading ASCII (`<?xml ... encoding="UTF-16"?>`, `<rss`) must read the
    same in its charset: one that reads it as something else (UTF-16, EBCDIC) is a lie,
    and trusting it would lose every post. Callers handle real UTF-16/32 (BOM, zero
    bytes) before asking.
    """
    codec = charset_or_none(name)
    if codec is None:
        return None
    prefix = data.lstrip()[:64]
    end = next((i for i, byte in enumerate(prefix) if byte >= 0x80), len(prefix))
    prefix = prefix[:end]
    try:
        return codec if prefix.decode(codec) == prefix.decode("ascii") else None
    except (UnicodeError, LookupError, ValueError):
        return None


def charset_or_none(name: str | None) -> str | None:
    """The codec for a declared or HTTP character set, or None when it isn't a real one."""
    try:
        return _codec(name) if name else None
    except ValueError:
        return None


def to_utf8(data: bytes, charset: str | None = None) -> bytes:
    """The document re-encoded as UTF-8, for a parser told to read UTF-8 whatever it declares.

    expat reads only UTF-8, UTF-16, Latin-1 and ASCII itself; GB2312, Shift_JIS and the
    rest must be decoded in Python first.
    """
    return decode_xml(data, charset).encode("utf-8", "replace")


def repair_char_refs(body: bytes) -> bytes:
    """Character references no parser can take, as ones it can.

    `&#55356;&#57225;` (an emoji written as UTF-16 halves) becomes the one reference it
    means; a lone half, and a reference past U+10FFFF (`&#x110000;`), becomes U+FFFD,
    and so does one to a control character (C1 ones are read as windows-1252, as HTML5 does).
    XML forbids both: expat refuses the document and feedparser's lenient parser dies on
    them, so the feed would store nothing. Byte-level: `&#` and digits are the same ASCII
    bytes in UTF-8 and every legacy encoding; callers make UTF-16 and UTF-32 documents
    UTF-8 first.
    """
    if b"&#" not in body:
        return body
    body = _LONG_REF.sub(_in_range, _SURROGATE_REFS.sub(_paired, body))
    return _CONTROL_REF.sub(_no_control, body)


def _no_control(match: re.Match[bytes]) -> bytes:
    """A C1 reference means what HTML5 says it means (windows-1252: `&#146;` is ’); any
    other control becomes U+FFFD."""
    hex_digits, decimal = match.groups()
    value = int(hex_digits, 16) if hex_digits else int(decimal)
    if 0x80 <= value <= 0x9F:
        char = bytes([value]).decode("cp1252", "replace")
        return f"&#{ord(char)};".encode()
    return b"&#xFFFD;"


def _in_range(match: re.Match[bytes]) -> bytes:
    hex_digits, decimal = match.groups()
    digits = hex_digits or decimal
    if len(digits) > 8:
        return b"&#xFFFD;"
    value = int(digits, 16) if hex_digits else int(digits)
    return match.group(0) if value <= 0x10FFFF else b"&#xFFFD;"


def _paired(match: re.Match[bytes]) -> bytes:
    units = bytearray()
    for ref in _ONE_REF.finditer(match.group(0)):
        hex_digits, decimal = ref.groups()
        value = int(hex_digits, 16) if hex_digits else int(decimal)
        units += value.to_bytes(2, "little")  # each is a surrogate: one UTF-16 code unit
    text = units.decode("utf-16-le", "replace")
    return "".join(f"&#{ord(char)};" for char in text).encode()


def refuse_entities(data: bytes, encoding: str | None = None) -> None:
    """Raise EntityDeclarationError if the document declares any DTD entity.

    `encoding` overrides what the document declares (pass "utf-8" for `to_utf8` output).
    expat reads the prolog only and stops at the root element, so this costs little
    whatever the document's size. A document in an encoding expat lacks (GB2312,
    Shift_JIS) is decoded in Python and read again. If expat still can't read the
    prolog (it is malformed), a lenient parser still might, so any `<!ENTITY` anywhere refuses.
    """
    found = _prolog_declares_entities(data, encoding)
    if found is None and encoding is None:
        try:
            found = _prolog_declares_entities(to_utf8(data), "utf-8")
        except ValueError:  # an encoding Python doesn't know either
            found = None
    if found is None:
        found = any(pattern in data for pattern in _ENTITY_BYTES)
    if found:
        raise EntityDeclarationError("the document declares XML entities")


def _prolog_declares_entities(data: bytes, encoding: str | None) -> bool | None:
    """True if the prolog declares an entity, False if it doesn't, None if expat can't read it."""
    parser = expat.ParserCreate(encoding)

    def declared(*_args: object) -> None:
        raise EntityDeclarationError

    def root(*_args: object) -> None:
        raise _PrologRead

    parser.EntityDeclHandler = declared
    parser.UnparsedEntityDeclHandler = declared
    parser.StartElementHandler = root
    try:
        parser.Parse(data, True)
    except _PrologRead:
        return False
    except EntityDeclarationError:
        return True
    except (expat.ExpatError, ValueError, LookupError, UnicodeError):
        # ValueError: "multi-byte encodings are not supported"; LookupError: an encoding
        # Python doesn't know (`x-bogus`) or that isn't a character set (`rot13`).
        return None
    return None  # no root element at all: not a document expat accepts
