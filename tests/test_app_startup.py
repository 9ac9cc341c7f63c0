"""Issue 12, the app's start: what `import reader.tui.app` loads, and a first frame that does not wait
for every post's id (the start shows the first page of the list and the count, then swaps the whole
list in). The timings themselves are in tests/benchmarks/bench_tui.py --start."""

from __future__ import annotations

import io
import subprocess
import sys
import threading
from array import array

import pytest
from tui_support import WIDE, add_synthetic, make_app, screen_text, settle, wait_for

from reader.storage.pages import entry_ids_page, visible_count
from reader.store import VISIBLE_SQL, Store
from reader.tui import source as source_module
from reader.tui.source import StoreSource

pytestmark = pytest.mark.usefixtures("utc")

# Needed only by keys pressed later (a download's sizes, a hook, a refresh's announcement, the dialogs),
# each imported where it is used.
LATER = (
    "reader.render", "html2text", "reader.hooks", "reader.announce", "reader.welcome",
    "reader.tui.screens.tag_editor", "reader.tui.screens.save_search", "reader.tui.screens.help",
)


def test_issue12_the_app_imports_nothing_only_later_keys_need() -> None:
    probe = "import sys\nimport reader.tui.app\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    loaded = set(out.stdout.split())
    assert not loaded & set(LATER), sorted(loaded & set(LATER))


def _fill(store: Store, count: int, hidden: int = 0) -> list[int]:
    add_synthetic(store, "https://a.example/feed", count)
    store.set_meta("welcome_offered", "1")
    if hidden:
        store.db.execute(
            "UPDATE entries SET hidden = 1 WHERE id IN (SELECT id FROM entries ORDER BY id LIMIT ?)", (hidden,)
        )
    return store.entry_ids(VISIBLE_SQL)


def test_issue12_a_partial_source_is_the_whole_list_page_by_page(store: Store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(source_module, "FIRST_PAGE", 4)
    every = _fill(store, 11, hidden=2)
    assert visible_count(store) == store.count_entries(VISIBLE_SQL) == 9
    assert entry_ids_page(store, VISIBLE_SQL, (), 3, 5) == every[5:8]

    first = StoreSource.first_page(store)
    assert not first.complete and len(first) == 9
    # Rows past the first page come by their place in the order, before every id is read.
    assert [r.id for r in first.rows(0, 4)] == every[:4]
    assert [r.id for r in first.rows(4, 4)] == every[4:8]
    assert [r.id for r in first.rows(8, 4)] == every[8:]
    assert first.index_of(every[2]) == 2
    # A key that needs every id (n, A) reads them then.
    assert list(first.ids) == every and first.complete and first.index_of(every[7]) == 7
    assert first.index_of(-1) is None
    # The whole list is held as an array of ids: no Python object per post (100,000 posts would be
    # 100,000 ints, ~4 MB, for as long as the list is shown).
    assert isinstance(first.ids, array) and first.ids.typecode == "q"
    assert isinstance(StoreSource.query(store).ids, array)

    # A list shorter than the first page is complete from the start; so is a filtered one's count.
    short = StoreSource.first_page(store, "e.id = ?", [every[0]])
    assert short.complete and list(short.ids) == every[:1]


@pytest.mark.asyncio
async def test_issue12_the_first_frame_shows_rows_before_every_id_is_read(store: Store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(source_module, "FIRST_PAGE", 5)
    every = _fill(store, 30, hidden=3)
    release = threading.Event()
    query = StoreSource.query.__func__  # type: ignore[attr-defined]

    def held_query(cls, *args, **kwargs):  # type: ignore[no-untyped-def]
        release.wait(10)  # the whole list is held back: the first frame must not need it
        return query(cls, *args, **kwargs)

    monkeypatch.setattr(StoreSource, "query", classmethod(held_query))
    app = make_app(store)
    try:
        async with app.run_test(size=WIDE) as pilot:
            await pilot.pause()
            assert app.post_list.row_count == 27  # the count, not the first page's 5
            assert app.source is not None and not app.source.complete
            assert "Synthetic post 3" in screen_text(app)  # the newest visible (posts 0–2 are hidden... by id)
            # The user moves while the rest is read: the swap keeps the cursor on that post.
            await pilot.press("j", "j")
            kept = app.post_list.current_entry
            assert kept is not None
            release.set()
            await wait_for(pilot, lambda: app.source is not None and app.source.complete)
            await settle(pilot)
            assert list(app.source.ids) == every
            assert app.post_list.row_count == 27
            assert app.post_list.current_entry is not None and app.post_list.current_entry.id == kept.id
            assert app.post_list.cursor == 2
    finally:
        release.set()


@pytest.mark.asyncio
async def test_issue12_a_filter_typed_before_the_whole_list_came_is_not_undone(store: Store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(source_module, "FIRST_PAGE", 5)
    _fill(store, 30)
    release = threading.Event()
    query = StoreSource.query.__func__  # type: ignore[attr-defined]
    calls: list[str] = []

    def held_query(cls, store_, where=VISIBLE_SQL, params=()):  # type: ignore[no-untyped-def]
        calls.append(where)
        if len(calls) == 1:
            release.wait(10)  # the start's read of every id, still running when the filter lands
        return query(cls, store_, where, params)

    monkeypatch.setattr(StoreSource, "query", classmethod(held_query))
    app = make_app(store)
    try:
        async with app.run_test(size=WIDE) as pilot:
            await pilot.pause()
            app.set_filter('"Synthetic post 7"')
            await wait_for(pilot, lambda: app.post_list.row_count == 1)
            release.set()
            await settle(pilot)
            assert app.post_list.row_count == 1  # the start's whole list did not replace the filtered one
    finally:
        release.set()


@pytest.mark.asyncio
@pytest.mark.parametrize("count", [0, 3])
async def test_issue12_a_short_list_starts_complete(store: Store, count: int) -> None:
    if count:
        _fill(store, count)
    else:
        store.set_meta("welcome_offered", "1")
    app = make_app(store)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        assert app.source is not None and app.source.complete and len(app.source) == count


def test_issue12_a_long_posts_first_screen_comes_from_the_head_of_its_html(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Opening a 50 KB post: the first screen is laid out from the head of its HTML before the whole
    of it is converted (html2text is pure Python), and it is the same text, links numbered the same."""
    from rich.console import Console

    import reader.render
    from reader.models import Entry
    from reader.tui import post_layout

    paragraph = (
        "<h2>Part {n}</h2><p>Words about routers and caches, <a href='https://example.com/{n}'>link {n}</a>, "
        "<em>emphasis</em> and <code>code()</code>, then more words to fill the line out.</p>"
    )
    html = "".join(paragraph.format(n=n) for n in range(400))  # ~70 KB
    entry = Entry(
        id=1, feed_id=1, feed_title="Feed", feed_url="https://example.com/feed", title="Long", link=None,
        author="", published=0.0, date_known=True, read=False, starred=False, categories=[], content=html,
        base_url="https://example.com/",
    )
    converted: list[int] = []
    render_html = reader.render.render_html

    def counting(source: str, *args, **kwargs):  # type: ignore[no-untyped-def]
        converted.append(len(source))
        return render_html(source, *args, **kwargs)

    monkeypatch.setattr(reader.render, "render_html", counting)
    previews: list[list[str]] = []

    def on_preview(lines) -> None:  # type: ignore[no-untyped-def]
        assert converted == [post_layout.PREVIEW_HTML_CHARS]  # only the head was converted so far
        previews.append([strip.text for strip in lines])

    console = Console(width=100, file=io.StringIO())
    post = post_layout.build_post(entry, console, 80, on_preview=on_preview)
    assert converted == [post_layout.PREVIEW_HTML_CHARS, len(html)]
    assert len(previews) == 1 and len(previews[0]) > 20
    full = [strip.text for strip in post.lines]
    assert previews[0][:-1] == full[: len(previews[0]) - 1]  # the same lines (the last may end a block)
    assert "link 0[1]" in "".join(previews[0])
