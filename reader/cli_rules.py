"""The CLI's `reader rules test|apply`, and what a refresh reports of the rules' matches.

STUB (issue 11 scaffold): a helper fills this in.
"""

from __future__ import annotations

import argparse


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add the commands to the CLI."""


def after_refresh(args: argparse.Namespace, summary: object) -> None:
    """After `reader refresh`: report what the rules did and run the notify hook for their `notify` matches."""
