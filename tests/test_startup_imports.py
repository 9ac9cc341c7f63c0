"""Start-up: what a command or the app imports before it does anything (issue 12's lead: import only what
is needed). Each check runs a fresh interpreter, since this test process has imported everything."""

from __future__ import annotations

import subprocess
import sys

import pytest

# Not needed to paint the list: the HTTP client, the feed parser, the article extractor, the image decoder.
# (html2text is: it renders the posts, and costs 4 ms.)
HEAVY = ("httpx", "feedparser", "lxml", "PIL")


def _loaded(code: str) -> set[str]:
    probe = f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    return set(out.stdout.split())


@pytest.mark.parametrize("module", ["reader.tui.app"])
def test_the_app_opens_without_the_http_client_or_the_parsers(module: str) -> None:
    loaded = _loaded(f"import {module}")
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_listing_imports_no_asyncio_nor_the_http_client(tmp_path) -> None:  # type: ignore[no-untyped-def]
    code = (
        "import os\n"
        f"os.environ['READER_DATA_DIR'] = {str(tmp_path / 'data')!r}\n"
        f"os.environ['READER_CONFIG_DIR'] = {str(tmp_path / 'config')!r}\n"
        "from reader.cli import main\n"
        "main(['entries', '--limit', '5'])"
    )
    loaded = _loaded(code)
    assert "asyncio" not in loaded
    assert not loaded & {*HEAVY, "html2text"}, loaded & {*HEAVY, "html2text"}
