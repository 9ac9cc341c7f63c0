"""File names for downloads: a hostile URL segment, title or MIME type made into a safe name."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..sanitize import clean_line, mask_credentials, media_type

MAX_NAME_CHARS = 120
# Most file systems allow 255 bytes a name; leave room for " (99)" and ".part.meta".
MAX_NAME_BYTES = 200
FALLBACK_NAME = "enclosure"

# Characters no file name should hold on any system (Windows' reserved set, and the separators).
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,10}$")


def clean_name(text: str) -> str:
    """`text` as a file name fit for any directory, or "" when nothing of it is usable.

    Escape sequences and control characters go first (clean_line), then separators and
    characters file systems refuse become "_"; leading dots go (no hidden files, no "..")
    and trailing dots and spaces (Windows drops them). Capped at MAX_NAME_CHARS characters
    and MAX_NAME_BYTES of UTF-8, keeping a short extension.
    """
    if len(text) > 4 * MAX_NAME_CHARS:
        text = text[: 2 * MAX_NAME_CHARS] + text[-16:]  # bounded work, and the extension at the end kept
    text = unicodedata.normalize("NFC", clean_line(text, 8 * MAX_NAME_CHARS))
    text = _UNSAFE.sub("_", text).strip().lstrip(".").strip().rstrip(". ")
    if not text or set(text) <= {"_", " ", "."}:
        return ""
    match = _EXTENSION.search(text)
    extension = match.group(0) if match and match.start() > 0 else ""
    stem = text[: len(text) - len(extension)]
    while len(stem) + len(extension) > MAX_NAME_CHARS or len((stem + extension).encode()) > MAX_NAME_BYTES:
        stem = stem[:-1]
    stem = stem.rstrip(". ")
    return stem + extension if stem else ""


# What players and file managers expect for the usual podcast types (mimetypes' own answer
# varies by system: audio/mpeg is ".mp2" or ".mpga" on some).
PREFERRED_EXTENSIONS = {
    "audio/mpeg": ".mp3",
    "audio/mp3": ".mp3",
    "audio/mp4": ".m4a",
    "audio/x-m4a": ".m4a",
    "audio/aac": ".aac",
    "audio/ogg": ".ogg",
    "audio/opus": ".opus",
    "audio/wav": ".wav",
    "audio/flac": ".flac",
    "video/mp4": ".mp4",
    "video/webm": ".webm",
    "application/pdf": ".pdf",
}
_MIME = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")


def extension_for(mime_type: str | None) -> str:
    """The file extension for a MIME type (".mp3" for audio/mpeg), or "" for none or one unknown.

    The type comes from a feed: only a well-formed type is looked up, and only a short
    alphanumeric extension is given back."""
    kind = media_type(mime_type)
    if not _MIME.fullmatch(kind):
        return ""
    import mimetypes

    extension = PREFERRED_EXTENSIONS.get(kind) or mimetypes.guess_extension(kind, strict=False) or ""
    return extension if _EXTENSION.fullmatch(extension) else ""


def name_for(url: str, name_hint: str = "", mime_type: str | None = None) -> str:
    """The file name for `url`: its path's last segment (percent-decoded, cleaned), else the hint, else "enclosure";
    with an extension from `mime_type` when the name has none (a player, a file manager go by it)."""
    try:
        segment = urlsplit(url).path.rsplit("/", 1)[-1]
    except ValueError:
        segment = ""
    name = clean_name(unquote(segment)) or clean_name(name_hint) or FALLBACK_NAME
    extension = extension_for(mime_type)
    if extension and not _has_extension(name, extension):
        name = clean_name(name + extension) or FALLBACK_NAME + extension
    return name


def _has_extension(name: str, wanted: str) -> bool:
    """Whether `name` ends in a real extension: `wanted`, or one the system knows a type of.
    A title's "Episode 1.5" or "v2.0" ends in a dot and digits, which is no extension."""
    match = _EXTENSION.search(name)
    if not match or match.start() == 0:
        return False
    import mimetypes

    found = match.group(0).lower()
    return found == wanted or mimetypes.guess_type("x" + found, strict=False)[0] is not None


def numbered(name: str, n: int) -> str:
    if n == 1:
        return name
    match = _EXTENSION.search(name)
    if match and match.start() > 0:
        return f"{name[: match.start()]} ({n}){match.group(0)}"
    return f"{name} ({n})"


def shown(path: Path) -> str:
    """A path fit to print: the file name came from a stranger's URL (cleaned already, but still)."""
    return mask_credentials(clean_line(str(path), 1000))
