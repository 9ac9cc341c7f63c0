"""The CLI's `reader search save|list|remove` and `reader tag ID... +NAME -NAME`.

STUB (issue 11 scaffold): a helper fills this in.
"""

from __future__ import annotations

import argparse


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add the commands to the CLI."""
