"""newsboat's line tokenizer (its `tokenize_quoted`), shared by the urls and config readers.

A line is words split on whitespace; a word in double quotes may hold spaces and the
escapes \\" \\\\ \\n \\t \\r; an unquoted `#` starts a comment. Backticks (newsboat runs
the command between them in its config) are kept as text: nothing here runs anything.
"""

from __future__ import annotations

MAX_LINE = 64 * 1024  # characters per line read; past that a line is reported, not read
MAX_FILE = 16 * 1024 * 1024  # bytes per file: a urls or config file is kilobytes

_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r"}


class TokenError(ValueError):
    """A line that can't be split into words (an unterminated quote)."""


def tokenize(line: str) -> list[str]:
    """The words of one line, quotes removed and escapes resolved. Linear in the line's length."""
    words: list[str] = []
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c.isspace():
            i += 1
            continue
        if c == "#":
            break  # a comment runs to the end of the line
        if c == '"':
            i += 1
            out: list[str] = []
            while i < n and line[i] != '"':
                if line[i] == "\\" and i + 1 < n:
                    out.append(_ESCAPES.get(line[i + 1], line[i + 1]))
                    i += 2
                    continue
                out.append(line[i])
                i += 1
            if i >= n:
                raise TokenError('unterminated quote: a " is missing')
            i += 1
            words.append("".join(out))
            continue
        start = i
        while i < n and not line[i].isspace():
            i += 1
        words.append(line[start:i])
    return words


def read_lines(data: bytes) -> list[str]:
    """A file's lines as text (UTF-8; a stray byte becomes U+FFFD rather than failing the import)."""
    return data[:MAX_FILE].decode("utf-8", "replace").splitlines()
