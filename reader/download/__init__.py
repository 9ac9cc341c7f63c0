"""Saving an enclosure (a podcast episode, a video) to the downloads directory, resumably.

The file is written as `NAME.part`, with the validator (a strong ETag, else Last-Modified)
and the URL saved beside it in `NAME.part.meta`. A later call asks for the rest with
`Range: bytes=N-` and `If-Range`: a 206 appends, a 200 (the server ignores ranges, or the
file changed) starts again from zero, a 416 for a .part that is already whole finishes it.
A 206 is not taken on trust: a server may ignore If-Range and still answer with a range of a
new version of the file. Its validator must be the one saved (and it must give one), its
Content-Range must start at the .part's size, and its total must be the size saved from the
first answer; anything else discards the .part and fetches the whole file again (no Range),
so a download never splices the head of one version to the tail of another.
When the body is complete the .part becomes NAME, and the URL → NAME pair is kept in the
directory's index (`.reader-downloads.json`), which is how `downloaded_path` knows an
episode is on disk without the network, and how a different file that happens to have the
same name is never overwritten (the new one becomes "NAME (2)").

Everything the server and the feed send is hostile: the URL's last segment becomes a file
name only after cleaning (no path parts, no control characters or escape sequences, no
leading dot, a length cap), every redirect is checked (http(s) only, at most
MAX_REDIRECTS), and the body is capped (MAX_TOTAL) and checked against Content-Length.

Blocking (httpx's sync client): run it in a worker thread. `stop` is looked at between
reads; a read waits at most `timeout` seconds, and a server that sends almost nothing for
`timeout` seconds (a drip of bytes) is "stalled": the .part stays for the next try.
"""

from .errors import DownloadError, DownloadStopped, Progress
from .index import INDEX_NAME, MAX_INDEX_BYTES, downloaded_path, downloaded_paths
from .names import (
    FALLBACK_NAME,
    MAX_NAME_BYTES,
    MAX_NAME_CHARS,
    PREFERRED_EXTENSIONS,
    clean_name,
    extension_for,
    name_for,
    shown,
)
from .part import MAX_SUFFIX_TRIES
from .transfer import MAX_TOTAL, STALL_BYTES, download

__all__ = [
    "FALLBACK_NAME",
    "INDEX_NAME",
    "MAX_INDEX_BYTES",
    "MAX_NAME_BYTES",
    "MAX_NAME_CHARS",
    "MAX_SUFFIX_TRIES",
    "MAX_TOTAL",
    "PREFERRED_EXTENSIONS",
    "STALL_BYTES",
    "DownloadError",
    "DownloadStopped",
    "Progress",
    "clean_name",
    "download",
    "downloaded_path",
    "downloaded_paths",
    "extension_for",
    "name_for",
    "shown",
]
