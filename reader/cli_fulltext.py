"""The CLI's full-article commands: `reader full-text FEED on|off|auto`. (Scaffold: filled in by the full-text work.)"""

from __future__ import annotations

import argparse


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add the full-article commands to the CLI."""
