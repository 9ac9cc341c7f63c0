"""Issue 11, saved searches and tags in the app: the sidebar's "Saved searches" and "Tags" with
unread counts kept current, selecting one narrows the list (joined with the filter bar's query),
Ctrl+S in the filter bar saves a search, `T` tags a post, `d` removes a saved search, the command
palette's entries. Pilot against a real SQLite cache filled through the core."""

from __future__ import annotations

import pytest
from textual.widgets import Input, OptionList
from tui_support import NARROW, WIDE, make_app, screen_text, settle, wait_for

from reader.models import ParsedEntry, ParsedFeed
from reader.store import Store
from reader.tui.app import ReaderApp
from reader.tui.screens.confirm import ConfirmScreen
from reader.tui.screens.save_search import SaveSearchScreen
from reader.tui.screens.tag_editor import TagEditor, TagInputError, parse_tag_input
from reader.tui.widgets.sidebar import Scope

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("utc")]

ALPHA = "https://alpha.invalid/feed"
BETA = "https://beta.invalid/feed"


def _feed(store: Store, url: str, title: str, count: int, start: float, categories: tuple[str, ...] = ()) -> None:
    store.add_feed(url, title, list(categories))
    entries = [
        ParsedEntry(key=f"{url}#{i}", title=f"{title} post {i}", link=f"{url}/{i}", author="Bot",
                    published=start - i * 3600, categories=[], content=f"<p>{title} body {i}</p>", base_url=None)
        for i in range(count)
    ]
    store.save_parsed(url, ParsedFeed(title, url, entries))


@pytest.fixture
def two_feeds(store: Store) -> Store:
    """Alpha (3 posts, newest) and Beta (2 posts); the welcome feed is not offered."""
    store.set_meta("welcome_offered", "1")
    _feed(store, ALPHA, "Alpha", 3, 1_700_000_000.0, ("News",))
    _feed(store, BETA, "Beta", 2, 1_600_000_000.0)
    return store


def ids_of(store: Store, title: str) -> int:
    return store.entry_ids("e.title = ?", [title])[0]


def titles(app: ReaderApp) -> list[str]:
    posts = app.post_list
    return [posts.get_row(i).title for i in range(posts.row_count)]  # type: ignore[union-attr]


def sidebar_text(app: ReaderApp) -> str:
    return "\n".join(str(app.sidebar.get_option_at_index(i).prompt) for i in range(app.sidebar.option_count))


def messages(app: ReaderApp) -> list[str]:
    return [n.message for n in app._notifications]


async def _select_row(pilot, app: ReaderApp, option_id: str) -> None:  # type: ignore[no-untyped-def]
    """Highlight a sidebar row and press Enter on it, as a user would."""
    app.sidebar.focus()
    app.sidebar.highlighted = app.sidebar.get_option_index(option_id)
    await pilot.press("enter")
    await settle(pilot)


async def test_sidebar_headings_and_counts_kept_current(two_feeds: Store) -> None:
    store = two_feeds
    store.save_search("Alpha news", "feed:alpha")
    store.save_search("Beta", "feed:beta is:unread")
    store.tag_entries([ids_of(store, "Alpha post 0"), ids_of(store, "Beta post 1")], add=["later"])
    app = make_app(store)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        lines = [line.strip() for line in app.sidebar.rendered_lines()]
        assert "Saved searches" in lines and "Tags" in lines
        # Headings come before the categories, each section's rows under its heading.
        assert lines.index("Saved searches") < lines.index("Alpha news 3") < lines.index("Tags")
        assert lines.index("Tags") < lines.index("later 2") < lines.index("News 3")
        # Reading a post (r) lowers the counts of the searches and tags it is in.
        assert app.post_list.current_entry.title == "Alpha post 0"  # type: ignore[union-attr]
        await pilot.press("r")
        await settle(pilot)
        lines = [line.strip() for line in app.sidebar.rendered_lines()]
        assert "Alpha news 2" in lines and "later 1" in lines
        # Posts arriving (another process's refresh) count at the next look for changes.
        _feed(store, "https://alpha.invalid/more", "Alpha more", 2, 1_800_000_000.0)
        app._check_external_changes()
        await settle(pilot)
        lines = [line.strip() for line in app.sidebar.rendered_lines()]
        assert "Alpha news 4" in lines, lines
        # A search saved elsewhere (`reader search save`, another connection) shows up too.
        other = Store(store.path)
        other.save_search("Everything", "post")
        other.close()
        app._check_external_changes()
        await settle(pilot)
        assert "Everything 6" in [line.strip() for line in app.sidebar.rendered_lines()]


async def test_no_headings_without_saved_searches_or_tags(two_feeds: Store) -> None:
    app = make_app(two_feeds)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        text = sidebar_text(app)
        assert "Saved searches" not in text and "Tags" not in text


async def test_selecting_a_saved_search_joins_its_query_with_the_filter(two_feeds: Store) -> None:
    store = two_feeds
    store.save_search("Alpha news", "feed:alpha")
    store.save_search("Hidden alpha", "feed:alpha is:hidden")
    hidden = ids_of(store, "Alpha post 1")
    store.set_hidden([hidden])
    search_id = store.get_search("Alpha news").id  # type: ignore[union-attr]
    hidden_id = store.get_search("Hidden alpha").id  # type: ignore[union-attr]
    app = make_app(store)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await _select_row(pilot, app, f"search:{search_id}")
        assert titles(app) == ["Alpha post 0", "Alpha post 2"]  # the hidden post is left out
        assert "Alpha news" in screen_text(app)  # the status line names the scope
        # The filter narrows the saved search further...
        app.set_filter("2")
        await settle(pilot)
        assert titles(app) == ["Alpha post 2"]
        # ...and `is:hidden` typed in the bar applies to the saved search's terms too.
        app.set_filter("is:hidden")
        await settle(pilot)
        assert titles(app) == ["Alpha post 1"]
        # A saved search that asks for hidden posts itself.
        app.set_filter("")
        await _select_row(pilot, app, f"search:{hidden_id}")
        assert titles(app) == ["Alpha post 1"]


async def test_selecting_a_tag_lists_its_posts(two_feeds: Store) -> None:
    store = two_feeds
    store.tag_entries([ids_of(store, "Alpha post 2"), ids_of(store, "Beta post 0")], add=["Read later"])
    store.tag_entries([ids_of(store, "Alpha post 0")], add=["say [b]hi[/b]"])
    app = make_app(store)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await _select_row(pilot, app, "tag:Read later")
        assert titles(app) == ["Alpha post 2", "Beta post 0"]
        app.set_filter("feed:beta")
        await settle(pilot)
        assert titles(app) == ["Beta post 0"]
        # A name that looks like markup is just a name.
        app.set_filter("")
        await _select_row(pilot, app, "tag:say [b]hi[/b]")
        assert titles(app) == ["Alpha post 0"]


async def test_saved_search_replaced_or_removed_elsewhere_is_followed(two_feeds: Store) -> None:
    store = two_feeds
    store.save_search("Mine", "feed:alpha")
    search_id = store.get_search("Mine").id  # type: ignore[union-attr]
    app = make_app(store)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await _select_row(pilot, app, f"search:{search_id}")
        assert len(titles(app)) == 3
        other = Store(store.path)  # `reader search save Mine ...` in another terminal
        other.save_search("Mine", "feed:beta")
        app._check_external_changes()
        await settle(pilot)
        assert titles(app) == ["Beta post 0", "Beta post 1"]
        assert app.scope.kind == "search" and app.scope.query == "feed:beta"
        other.remove_search("Mine")
        other.close()
        app._check_external_changes()
        await settle(pilot)
        assert app.scope.kind == "all" and len(titles(app)) == 5


async def test_ctrl_s_saves_the_filter_query_under_a_name(two_feeds: Store) -> None:
    store = two_feeds
    app = make_app(store)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"feed:beta")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, SaveSearchScreen))
        await pilot.press(*"Beta posts", "enter")
        await wait_for(pilot, lambda: store.get_search("Beta posts") is not None)
        assert store.get_search("Beta posts").query == "feed:beta"  # type: ignore[union-attr]
        await settle(pilot)
        assert "Beta posts 2" in [line.strip() for line in app.sidebar.rendered_lines()]
        assert any("Saved the search Beta posts" in m for m in messages(app))


async def test_ctrl_s_with_a_bad_query_shows_the_filter_bars_error(two_feeds: Store) -> None:
    app = make_app(two_feeds)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *'"open')
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, SaveSearchScreen)
        assert "unterminated quote" in screen_text(app)
        assert two_feeds.saved_searches() == []


async def test_ctrl_s_asks_before_replacing_a_name(two_feeds: Store) -> None:
    store = two_feeds
    store.save_search("Mine", "feed:alpha")
    app = make_app(store)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"feed:beta", "ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, SaveSearchScreen))
        await pilot.press(*"MINE", "enter")  # the same name, whatever its case
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "Replace the saved search Mine?" in screen_text(app)
        await pilot.press("n")  # no: back to the name
        await pilot.pause()
        assert isinstance(app.screen, SaveSearchScreen)
        assert store.get_search("Mine").query == "feed:alpha"  # type: ignore[union-attr]
        await pilot.press("enter", "y")
        await wait_for(pilot, lambda: store.get_search("Mine").query == "feed:beta")  # type: ignore[union-attr]
        assert len(store.saved_searches()) == 1
        # An empty name is refused inside the dialog.
        await settle(pilot)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, SaveSearchScreen))
        await pilot.press("space", "enter")
        await pilot.pause()
        assert isinstance(app.screen, SaveSearchScreen)
        assert "needs a name" in screen_text(app)
        await pilot.press("escape")
        assert len(store.saved_searches()) == 1


async def test_T_tags_the_post_under_the_cursor(two_feeds: Store) -> None:
    store = two_feeds
    first = ids_of(store, "Alpha post 0")
    app = make_app(store)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("T")
        await wait_for(pilot, lambda: isinstance(app.screen, TagEditor))
        assert "no tags yet" in screen_text(app)
        await pilot.press(*'+ab "c d" -z', "enter")
        await wait_for(pilot, lambda: store.entry_tags([first]).get(first) == ["ab", "c d"])
        await settle(pilot)
        lines = [line.strip() for line in app.sidebar.rendered_lines()]
        assert "ab 1" in lines and "c d 1" in lines
        assert "Tags: +ab +c d" in messages(app)
        # Again: the post's tags are shown, `-name` takes one off.
        await pilot.press("T")
        await wait_for(pilot, lambda: isinstance(app.screen, TagEditor))
        assert "On this post: ab, c d" in screen_text(app)
        await pilot.press(*"-ab", "enter")
        await wait_for(pilot, lambda: store.entry_tags([first]).get(first) == ["c d"])


async def test_T_picks_an_existing_tag_and_esc_changes_nothing(two_feeds: Store) -> None:
    store = two_feeds
    store.tag_entries([ids_of(store, "Beta post 0")], add=["later"])
    first = ids_of(store, "Alpha post 0")
    app = make_app(store)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("T")
        await wait_for(pilot, lambda: isinstance(app.screen, TagEditor))
        await pilot.press("down")  # into the list of the tags there are
        assert isinstance(app.focused, OptionList)
        await pilot.press("enter")
        await wait_for(pilot, lambda: store.entry_tags([first]).get(first) == ["later"])
        # A bad input is an error inside the dialog; Esc leaves the tags as they were.
        await settle(pilot)
        await pilot.press("T")
        await wait_for(pilot, lambda: isinstance(app.screen, TagEditor))
        await pilot.press(*'+"a', "enter")
        await pilot.pause()
        assert isinstance(app.screen, TagEditor) and "Unterminated quote" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, TagEditor)
        assert store.entry_tags([first]).get(first) == ["later"]


async def test_T_tags_the_open_post_when_it_has_the_focus(two_feeds: Store) -> None:
    store = two_feeds
    app = make_app(store)
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        await pilot.press("j", "enter")
        await wait_for(pilot, lambda: app.reading_pane.post is not None)
        await pilot.press("T")
        await wait_for(pilot, lambda: isinstance(app.screen, TagEditor))
        await pilot.press(*"x", "enter")
        opened = ids_of(store, "Alpha post 1")
        await wait_for(pilot, lambda: store.entry_tags([opened]).get(opened) == ["x"])
        # The open post's header says its tags at once, as `reader show` does.
        await wait_for(pilot, lambda: "Tags: x" in str(app.reading_pane.post.header))


async def test_d_on_a_saved_search_removes_it_after_asking(two_feeds: Store) -> None:
    store = two_feeds
    store.save_search("Mine", "feed:alpha")
    search_id = store.get_search("Mine").id  # type: ignore[union-attr]
    app = make_app(store)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await _select_row(pilot, app, f"search:{search_id}")
        app.sidebar.focus()
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "Remove the saved search Mine?" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert store.get_search("Mine") is not None
        await pilot.press("d", "y")
        await wait_for(pilot, lambda: store.get_search("Mine") is None)
        await settle(pilot)
        assert app.scope.kind == "all" and "Saved searches" not in sidebar_text(app)
        assert len(store.list_feeds()) == 2  # no feed went with it
        # On a feed's row, `d` is still the app's remove-feed question.
        app.sidebar.focus()
        rows = [app.sidebar.get_option_at_index(i).id or "" for i in range(app.sidebar.option_count)]
        app.sidebar.highlighted = next(i for i, row in enumerate(rows) if row.startswith("feed:"))
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "Remove the feed" in screen_text(app)
        await pilot.press("n")


async def test_names_with_markup_are_shown_as_text(two_feeds: Store) -> None:
    store = two_feeds
    store.save_search("[@click=app.quit]x[/]", "feed:alpha")
    store.tag_entries([ids_of(store, "Alpha post 0")], add=["[/]", "[bold]b"])
    app = make_app(store)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "[@click=app.quit]x[/]" in text and "[/] 1" in text and "[bold]b 1" in text
        await _select_row(pilot, app, "tag:[/]")
        assert titles(app) == ["Alpha post 0"]
        assert app.is_running
        # The command palette lists each by its name (escaped: Textual reads titles as markup).
        commands = [c for c in app.get_system_commands(app.screen) if c.title.startswith(("Saved search:", "Tag:"))]
        assert len(commands) == 3
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Tag: [/]")
        await settle(pilot)
        assert "Tag: [/]" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("T")
        await wait_for(pilot, lambda: isinstance(app.screen, TagEditor))
        text = screen_text(app)
        assert "On this post: [/], [bold]b" in text
        await pilot.press("escape")


async def test_palette_shows_a_saved_search_on_a_narrow_screen(two_feeds: Store) -> None:
    store = two_feeds
    store.save_search("Betas", "feed:beta")
    app = make_app(store)
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        command = next(c for c in app.get_system_commands(app.screen) if c.title == "Saved search: Betas")
        command.callback()
        await settle(pilot)
        assert titles(app) == ["Beta post 0", "Beta post 1"]
        assert app.scope == Scope("search", "Betas", store.get_search("Betas").id)  # type: ignore[union-attr]


async def test_n_goes_on_to_the_next_saved_search_with_unread(two_feeds: Store) -> None:
    store = two_feeds
    store.save_search("A", "feed:alpha")
    store.save_search("B", "feed:beta")
    a_id = store.get_search("A").id  # type: ignore[union-attr]
    app = make_app(store, mark_read_after=0)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await settle(pilot)
        await _select_row(pilot, app, f"search:{a_id}")
        for _ in range(3):
            await pilot.press("n")
            await settle(pilot)
        await pilot.press("n")
        await wait_for(pilot, lambda: app.scope.kind == "search" and app.scope.label == "B")
        assert any("now in B" in m for m in messages(app))


@pytest.mark.filterwarnings("ignore::pytest.PytestWarning")  # not async: the module's asyncio mark
def test_tag_input_is_read_as_adds_and_removes() -> None:
    assert parse_tag_input('+a -b c "d e" +"f g"') == [
        (True, "a"), (False, "b"), (True, "c"), (True, "d e"), (True, "f g"),
    ]
    assert parse_tag_input("   ") == []
    assert parse_tag_input("a-b") == [(True, "a-b")]
    for bad in ('"open', "+", "-", '""', "x" * 101):
        with pytest.raises(TagInputError):
            parse_tag_input(bad)
    # Hostile text: escapes and controls are cleaned away, never kept in a name.
    assert parse_tag_input("+\x1b[31mred") == [(True, "red")]


async def test_input_widgets_keep_markup_literal(two_feeds: Store) -> None:
    """The save dialog quotes the query as typed, `[/]` and all."""
    app = make_app(two_feeds)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *'"[/]x"', "ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, SaveSearchScreen))
        assert 'Query: "[/]x"' in screen_text(app)
        assert isinstance(app.focused, Input)
        await pilot.press("escape")


async def test_ctrl_s_saves_what_the_list_shows_scope_included(two_feeds: Store) -> None:
    """In a saved search (or a category, a tag, Unread), Ctrl+S saves the scope's terms with the typed ones."""
    store = two_feeds
    store.save_search("Alpha news", "feed:alpha")
    search_id = store.get_search("Alpha news").id  # type: ignore[union-attr]
    app = make_app(store)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await _select_row(pilot, app, f"search:{search_id}")
        await pilot.press("slash", "2", "ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, SaveSearchScreen))
        assert "Query: feed:alpha 2" in screen_text(app)
        await pilot.press("x", "enter")
        await wait_for(pilot, lambda: store.get_search("x") is not None)
        assert store.get_search("x").query == "feed:alpha 2"  # type: ignore[union-attr]
        await settle(pilot)
        assert "x 1" in [line.strip() for line in app.sidebar.rendered_lines()]


@pytest.mark.filterwarnings("ignore::pytest.PytestWarning")  # not async: the module's asyncio mark
def test_scope_query_text_says_each_scope_exactly() -> None:
    from reader.tui.labels import scope_query_text
    from reader.tui.widgets.sidebar import ALL, UNCATEGORIZED

    assert scope_query_text(ALL) == ""
    assert scope_query_text(Scope("unread", "Unread")) == "is:unread"
    assert scope_query_text(Scope("category", "Hong Kong", "Hong Kong")) == 'category:"Hong Kong"'
    assert scope_query_text(Scope("category", UNCATEGORIZED, UNCATEGORIZED)) == ""
    assert scope_query_text(Scope("tag", "later", "later")) == "tag:later"
    assert scope_query_text(Scope("tag", 'say "hi"', 'say "hi"')) == ""  # can't be quoted
    assert scope_query_text(Scope("search", "S", 1, query="is:hidden bgp")) == "is:hidden bgp"
    assert scope_query_text(Scope("feed", "Alpha", 1, ALPHA)) == ""


async def test_a_saved_search_whose_query_no_longer_parses_is_marked_and_lists_nothing(two_feeds: Store) -> None:
    store = two_feeds
    store.save_search("Broken", "is:bogus")  # the store keeps text: as from an older reader, or by hand
    search_id = store.get_search("Broken").id  # type: ignore[union-attr]
    app = make_app(store)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await settle(pilot)
        assert "Broken !" in [line.strip() for line in app.sidebar.rendered_lines()]
        await _select_row(pilot, app, f"search:{search_id}")
        assert titles(app) == []
        assert any(m.startswith("The saved search Broken can't be used: is:bogus is not known") for m in messages(app))
        app.reload()  # reloads (a look for changes, a refresh) don't repeat the notification
        await settle(pilot)
        assert sum("can't be used" in m for m in messages(app)) == 1


async def test_issue11_hidden_posts_are_not_in_the_first_list_the_app_shows(two_feeds: Store) -> None:
    """The list at startup (All, no filter yet) leaves hidden posts out, as every later load does."""
    store = two_feeds
    store.set_hidden([ids_of(store, "Alpha post 1")])
    app = make_app(store)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        assert "Alpha post 1" not in titles(app)
        assert app.post_list.row_count == 4
        assert "4 shown (4 unread) · 4 unread of 4 in all" in screen_text(app)


async def test_issue11_ctrl_s_in_a_feed_says_the_feed_is_not_part_of_the_saved_query(two_feeds: Store) -> None:
    """`feed:` matches text in titles and URLs: a feed scope can't be saved exactly, and the dialog says so."""
    store = two_feeds
    app = make_app(store)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        feed_id = next(f.id for f in store.list_feeds() if f.title == "Beta")
        await _select_row(pilot, app, f"feed:{feed_id}:1")
        await pilot.press("slash", "p", "o", "s", "t", "ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, SaveSearchScreen))
        text = screen_text(app)
        assert "Query: post" in text
        assert "Not part of it: Beta" in text
