"""Safety by construction: properties of the code itself, not just of its outputs."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from reader.store import Store, StoreError

PACKAGE = Path(__file__).resolve().parents[1] / "reader"


def _calls(tree: ast.AST) -> list[tuple[str, ast.Call]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            found.append((name, node))
    return found


def test_no_shell_is_ever_run() -> None:
    """No os.system/os.popen, and no subprocess call with shell=True, anywhere in the package."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for name, call in _calls(tree):
            if name in ("system", "popen", "getoutput", "getstatusoutput"):
                offenders.append(f"{path.name}:{call.lineno} {name}")
            for keyword in call.keywords:
                if keyword.arg == "shell" and not (
                    isinstance(keyword.value, ast.Constant) and keyword.value.value is False
                ):
                    offenders.append(f"{path.name}:{call.lineno} shell=")
    assert offenders == []


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "javascript:alert(1)", "data:text/xml,<rss/>", "ftp://x.example/f", "feed.xml", ""]
)
def test_the_store_refuses_non_http_feeds(store: Store, url: str) -> None:
    with pytest.raises(StoreError, match="only http and https"):
        store.add_feed(url)
    assert store.list_feeds() == []
