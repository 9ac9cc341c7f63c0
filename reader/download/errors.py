"""What a failed download raises, and the progress callback's shape (shared by every part of the package)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

Progress = Callable[[int, int | None], None]


class DownloadError(Exception):
    """A download that failed: the message is one clean line. `part`: the .part kept for a resume, if any."""

    part: Path | None = None


class DownloadStopped(DownloadError):
    """`stop` was set: the .part stays, and the next download of the URL resumes it."""
