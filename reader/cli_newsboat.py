"""The CLI's `reader import-newsboat [DIR]`: subscriptions, saved searches, rules and read/starred state from newsboat.

STUB (issue 11 scaffold): a helper fills this in.
"""

from __future__ import annotations

import argparse


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add the commands to the CLI."""
