"""The CLI's enclosure commands: `reader download ID`. (Scaffold: filled in by the enclosure work.)"""

from __future__ import annotations

import argparse


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add the enclosure commands to the CLI."""
