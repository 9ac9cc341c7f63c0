"""The CLI's `reader schedule FEED [INTERVAL|auto]`: a feed's own refresh interval.

STUB (issue 11 scaffold): a helper fills this in.
"""

from __future__ import annotations

import argparse


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add the commands to the CLI."""
