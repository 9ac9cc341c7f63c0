"""Issue 10, acceptance bugs: terminal escape sequences in feed text and article pages, and same-page links.

- An unterminated OSC/DCS/APC/PM/SOS (`ESC ]` with no BEL or ST) swallowed the rest of the text: a whole
  post, or an article, lost after one stray sequence (reader/sanitize.py).
- An ESC in an article page cost the whole article: lxml refuses it, the error read as "no article"
  (reader/extract/decode.py).
- Same-page links (`<a href="#img-1">` around every image) were numbered links to the page itself
  (reader/render.py).

Every slow-input case runs under a deadline this file enforces.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

import pytest

from reader.parse import parse_feed
from reader.render import render_html
from reader.sanitize import clean_line, clean_text, strip_escapes

# What a terminal acts on: C0 (but tab and newline), DEL and C1.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
PARAGRAPHS = [f"Paragraph {i} keeps every one of its words, whatever came before it." for i in range(8)]


def within(seconds: float, fn: Callable[[], Any]) -> Any:
    """fn() run in a thread; the test fails if it hasn't finished within `seconds` (or raised)."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["result"] = fn()
        except BaseException as e:  # handed to the test below
            box["error"] = e

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"did not finish within {seconds} s"
    if "error" in box:
        raise box["error"]
    return box["result"]


# --- item 2: an unterminated string sequence ends, and the text after it stays ----------------------------------

# Every string-sequence introducer, 7-bit and 8-bit: OSC, DCS, SOS, PM, APC.
STRING_INTRODUCERS = ["\x1b]", "\x1bP", "\x1bX", "\x1b^", "\x1b_", "\x9d", "\x90", "\x98", "\x9e", "\x9f"]


@pytest.mark.parametrize("intro", STRING_INTRODUCERS, ids=[repr(i) for i in STRING_INTRODUCERS])
def test_issue10_unterminated_string_sequence_keeps_the_rest_of_the_text(intro: str) -> None:
    text = f"First para {intro}0;title continues here. " + " ".join(PARAGRAPHS)
    for cleaned in (clean_text(text), clean_line(text, 5000), strip_escapes(text)):
        assert cleaned.startswith("First para ")
        assert "continues here." in cleaned
        assert all(p in cleaned for p in PARAGRAPHS), "nothing after the sequence may be lost"
        assert "0;" not in cleaned, "the introducer's parameters go with it"
        assert intro not in cleaned
    assert not CONTROL.search(clean_text(text))


def test_issue10_unterminated_osc_ends_at_a_newline_or_another_escape() -> None:
    assert clean_text("a \x1b]0;title\nnext line") == "a title\nnext line"
    # A new escape inside the string aborts it (as in a terminal), and is removed as what it is.
    assert clean_text("a \x1b]0;title \x1b[31mred\x1b[0m text") == "a title red text"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a\x1b]0;window title\x07b", "ab"),  # BEL
        ("a\x1b]52;c;Y2xpcGJvYXJk\x1b\\b", "ab"),  # ST, 7-bit: the clipboard payload goes too
        ("a\x9d0;title\x9cb", "ab"),  # 8-bit OSC and ST
        ("a\x1b]8;;https://evil.example/\x07link\x1b]8;;\x07b", "alinkb"),  # hyperlink: its text stays
        ("a\x1bPq#0;2;0;0;0#0~~~~\x1b\\b", "ab"),  # sixel DCS
        ("a\x1b_Gf=100,a=T;iVBORw0KGgo=\x1b\\b", "ab"),  # kitty graphics APC
        ("a\x1b[2J\x1b[31mb\x9b1mc", "abc"),  # CSI, 7- and 8-bit
    ],
)
def test_issue10_terminated_sequences_still_go_whole(text: str, expected: str) -> None:
    assert clean_text(text) == expected
    assert clean_line(text) == expected


def test_issue10_feed_post_with_unterminated_osc_keeps_its_body() -> None:
    """Through the feed parser and the renderer, as a post arrives: the body after the stray sequence is all there."""
    paragraphs = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    rss = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><guid>1</guid><title>x</title>'
        f"<description><![CDATA[<p>First para \x1b]0;title continues here.</p>{paragraphs}]]></description>"
        "</item></channel></rss>"
    ).encode()
    entry = parse_feed(rss, "http://127.0.0.1/feed.xml").entries[0]
    assert all(p in entry.content for p in PARAGRAPHS)
    shown = render_html(entry.content, "http://127.0.0.1/post").text
    assert "continues here." in shown and all(p in shown for p in PARAGRAPHS)
    assert not CONTROL.search(shown)


@pytest.mark.parametrize(
    "text",
    [
        "\x1b]" * 500_000,  # 1 MB of introducers
        "\x9d" * 1_000_000,
        "\x1bP" * 500_000,
        ("\x1b]" + "a" * 1000) * 1000,  # unterminated strings, each running to the next
        "\x1b]" + "a" * 1_000_000,
        ("\x1b]0;" + "b" * 100 + "\x1b[") * 10_000,
    ],
    ids=["osc-intros", "c1-osc-intros", "dcs-intros", "osc-and-text", "one-long-osc", "osc-then-csi"],
)
def test_issue10_escape_stripping_is_linear(text: str) -> None:
    cleaned = within(3, lambda: clean_text(text))  # ~0.1 s here; a quadratic pattern would take minutes
    assert not CONTROL.search(cleaned)
    assert cleaned == text.translate({ord(c): None for c in "\x1b]P\x9d0;["})  # only the sequences went
    assert within(3, lambda: clean_line(text, 10_000_000)) == cleaned.strip()
