"""Start-up: what a command or the app imports before it does anything (issue 12's lead: import only what
is needed). Each check runs a fresh interpreter, since this test process has imported everything."""

from __future__ import annotations

import subprocess
import sys

import pytest

# Not needed to paint the list: the HTTP clients, the feed parser, the article extractor, the image decoder,
# the posts' decompressor (a post is decompressed when opened). (html2text is: it renders the posts, and costs 4 ms.)
HEAVY = ("httpx", "pycurl", "feedparser", "lxml", "PIL", "zstandard")


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


# Modules only other commands use: `reader entries` builds no parser of theirs and imports none of them.
OTHER_COMMANDS = (
    "reader.cli_account", "reader.cli_fulltext", "reader.cli_labels", "reader.cli_media", "reader.cli_newsboat",
    "reader.cli_rename", "reader.cli_rules", "reader.cli_schedule", "reader.render", "reader.subscribe",
    "getpass", "signal",
    "rich", "reader.feednames",  # only for a title that isn't plain ASCII, or two feeds of one title
)


def test_issue12_listing_imports_no_other_commands_modules(tmp_path) -> None:  # type: ignore[no-untyped-def]
    code = (
        "import os\n"
        f"os.environ['READER_DATA_DIR'] = {str(tmp_path / 'data')!r}\n"
        f"os.environ['READER_CONFIG_DIR'] = {str(tmp_path / 'config')!r}\n"
        "from reader.cli import main\n"
        "main(['entries', '--limit', '5'])"
    )
    loaded = _loaded(code)
    assert not loaded & set(OTHER_COMMANDS), loaded & set(OTHER_COMMANDS)


@pytest.mark.parametrize("argv", [
    ["entries"],
    ["entries", "--limit", "5", "server"],
    ["--data-dir", "/x", "entries", "-n3", "--json", "--body"],
    ["--data-dir=/x", "show", "7", "--feed-text"],
    ["mark", "1", "2", "--read", "--star"],
])
def test_issue12_the_post_commands_parser_parses_as_the_whole_one(argv: list[str]) -> None:
    """Only the post commands' parsers are built for them (cli._parser): the same namespace and help result."""
    from reader.cli import _parser
    from reader.cli_entries import negated_terms_last

    words = negated_terms_last(argv)
    assert vars(_parser(argv).parse_args(words)) == vars(_parser().parse_args(words))
    command = argv[2] if argv[0] == "--data-dir" else argv[1] if argv[0].startswith("--") else argv[0]
    helps = []
    for parser in (_parser(argv), _parser()):
        sub = next(a for a in parser._actions if a.dest == "command")
        helps.append(sub.choices[command].format_help())  # type: ignore[index]
    assert helps[0] == helps[1]


@pytest.mark.parametrize("argv", [
    ["--data", "/x", "entries"],  # an abbreviation argparse accepts: the whole parser reads it
    ["--data-dir", "-x", "entries"],
    ["--help"],
    ["feeds"],
    ["entriess"],
    [],
])
def test_issue12_any_other_command_line_gets_the_whole_parser(argv: list[str]) -> None:
    from reader.cli import _parser

    sub = next(a for a in _parser(argv)._actions if a.dest == "command")
    assert {"entries", "feeds", "add", "refresh", "account", "rename"} <= set(sub.choices)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", [
    "", "Plain", "exactly twenty cells", "a title longer than the twenty-cell column", "x" * 19,
    "日本語のブログ", "日本語のブログのタイトルはとても長い", "Café Zürich", "tab\there", "bell\x07", "Привет мир",
    "emoji 🎉 party time", "a\u0301ccent", " ", "~" * 25,
])
def test_issue12_feed_column_is_fitted_as_rich_fits_it(text: str) -> None:
    """The listing's ASCII shortcut (cli_entries._fit) gives what rich's set_cell_size gives, in every script."""
    from rich.cells import set_cell_size

    from reader.cli_entries import _fit

    for cells in (0, 1, 5, 20):
        assert _fit(text, cells) == set_cell_size(text, cells), (text, cells)


def _cache_with_posts(tmp_path) -> tuple[dict[str, str], list[str]]:  # type: ignore[no-untyped-def]
    """A cache of two feeds' posts (one of them with a CJK title), and the environment that points at it."""
    from reader.models import ParsedEntry, ParsedFeed
    from reader.store import Store

    store = Store(tmp_path / "data" / "reader.sqlite")
    for n, title in enumerate(["Plain feed", "日本語のブログ"]):
        url = f"https://example.org/{n}.xml"
        store.add_feed(url)
        entries = [ParsedEntry(f"k{i}", f"post {n}.{i}", None, "", 1_700_000_000.0 + i, [], "", None)
                   for i in range(3)]
        store.save_parsed(url, ParsedFeed(title, None, entries))
    store.close()
    import os

    env = {**os.environ, "READER_DATA_DIR": str(tmp_path / "data"), "READER_CONFIG_DIR": str(tmp_path / "config")}
    return env, sorted(p.name for p in (tmp_path / "data").iterdir())


def test_issue12_listing_run_as_the_program_ends_with_its_output_and_the_cache_closed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`python -m reader entries` leaves by os._exit once flushed (cli._exit_now): all of its output, status 0,
    and the cache's connection closed as before (SQLite removes the -wal and -shm files then)."""
    env, files = _cache_with_posts(tmp_path)
    out = subprocess.run([sys.executable, "-m", "reader", "entries", "--limit", "4"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 4 and all("post " in line for line in lines), out.stdout
    assert any("日本語のブログ" in line for line in lines), out.stdout
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["reader.sqlite"], files
    assert out.stderr == ""


def test_issue12_listing_leaves_normally_when_an_atexit_handler_waits(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env, _ = _cache_with_posts(tmp_path)
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('handler ran'))\n"
        "from reader.cli import main\n"
        "sys.argv = ['reader', 'entries', '--limit', '1']\n"
        "sys.exit(main())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.endswith("handler ran\n"), out.stdout


PLAIN_LISTINGS = [
    ["entries"], ["entries", "--limit", "50"], ["entries", "-n", "5", "server", "-category:Sports"],
    ["--data-dir", "/d", "entries", "--limit=7", "is:unread"], ["--data-dir=/d", "entries", "--json", "-n", "2"],
    ["entries", "--json", "--body", "--json"], ["entries", "", "x y"], ["entries", "-n", " 9 "],
]


@pytest.mark.parametrize("argv", PLAIN_LISTINGS)
def test_issue12_a_plain_listing_is_read_without_a_parser_as_the_parser_reads_it(argv: list[str]) -> None:
    from reader.cli import _parser
    from reader.cli_entries import negated_terms_last, plain_listing

    quick = plain_listing(argv)
    assert quick is not None
    assert vars(quick) == vars(_parser().parse_args(negated_terms_last(argv)))


def test_issue12_any_command_line_plain_listing_takes_is_read_alike(capsys: pytest.CaptureFixture[str]) -> None:
    """Random command lines of the words that matter: each one plain_listing reads, the whole parser reads
    the same way (and without an error); the rest it leaves to the parser."""
    import random

    from reader.cli import _parser
    from reader.cli_entries import negated_terms_last, plain_listing

    words = ["--data-dir", "/d", "--data-dir=/e", "--data", "entries", "feeds", "--json", "--body", "--limit", "-n",
             "--limit=3", "-n=2", "--lim", "5", "0", "x", "-3", " 4", "99999999999999999999", "abc", "-neg",
             "is:unread", "--", "-h", "--help", "", "--version"]
    parser = _parser()
    rng = random.Random(12)
    taken = 0
    for _ in range(3000):
        argv = [rng.choice(words) for _ in range(rng.randint(0, 6))]
        if rng.random() < 0.6:
            argv.insert(rng.choice([0, 2]) if argv[:1] == ["--data-dir"] else 0, "entries")
        quick = plain_listing(argv)
        if quick is None:
            continue
        taken += 1
        assert vars(quick) == vars(parser.parse_args(negated_terms_last(argv))), argv
    assert taken > 300  # the common lines are taken
    assert capsys.readouterr().err == ""  # argparse refused none of them


def test_issue12_listing_leaves_normally_while_another_thread_runs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env, _ = _cache_with_posts(tmp_path)
    code = (
        "import sys, threading, time\n"
        "threading.Thread(target=lambda: (time.sleep(0.3), print('thread done', flush=True))).start()\n"
        "from reader.cli import main\n"
        "sys.argv = ['reader', 'entries', '--limit', '1']\n"
        "sys.exit(main())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.endswith("thread done\n"), out.stdout


def test_issue12_a_refresh_loads_the_parser_and_the_pool_only_when_it_parses() -> None:
    """A cron refresh of feeds that answer 304 parses nothing: the parser and multiprocessing (~14 ms) wait."""
    loaded = _loaded("import reader.cli, reader.refresh, reader.fetch")
    assert not loaded & {"reader.parse", "reader.fastfeed", "multiprocessing", "feedparser"}
