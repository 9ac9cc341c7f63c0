"""The command palette's entries: every action of the app by name, with its key, and each saved
search and tag (on a narrow screen the sidebar hides: this is how to reach them there)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from textual.app import SystemCommand
from textual.markup import escape

from reader.sanitize import clean_line
from reader.tui.widgets.sidebar import Scope

if TYPE_CHECKING:
    from reader.tui.app import ReaderApp

# Textual's own entries that duplicate ours: its "Keys" panel is a second help.
REPLACED_SYSTEM_COMMANDS = {"Keys"}

# Saved searches and tags listed in the palette, each: the palette stays quick with thousands of tags.
MAX_LABEL_COMMANDS = 500


def _title(text: str) -> str:
    """A palette title holding user text: Textual parses titles as markup, so `[/]` in a tag name
    would break it (or `[@click=…]` act): escaped, after cleaning like any shown name."""
    return escape(clean_line(text))


def reader_commands(app: ReaderApp) -> Iterable[SystemCommand]:
    from reader.tui.screens.help import key_label

    commands: list[tuple[str, str, Callable[[], object]]] = [
        ("Help: all keys", "Show every key and its binding id", app.action_help),
        ("Filter posts", "Type a query: words, category:NAME, is:unread, since:7d", app.action_filter),
        ("Pick a category", "Filter the list to one category", app.action_pick_category),
        ("Toggle unread only", "Show only unread posts, or all", app.action_toggle_unread_only),
        ("Next unread post", "Open the next unread post (then the next feed's)", app.action_next_unread),
        ("Previous unread post", "Open the previous unread post", app.action_previous_unread),
        ("Toggle read", "Mark the post under the cursor read or unread", app.action_toggle_read),
        ("Toggle star", "Star or unstar the post under the cursor", app.action_toggle_star),
        ("Open in browser", "Open the post's link in the web browser", app.action_open_in_browser),
        ("Copy post URL", "Copy the post's link to the clipboard", app.action_copy_url),
        ("Fetch full article", "Fetch the open post's full article now", app.action_fetch_article),
        ("Article / feed text", "Switch the open post between its full article and the feed's text",
         app.action_toggle_article),
        ("Play enclosure", "Play or open the open post's enclosure (podcast episode, video)",
         app.action_play_enclosure),
        ("Download enclosure", "Save the open post's enclosure to the downloads directory",
         app.action_download_enclosure),
        ("Mark all shown read", "Mark every post in the list read", app.action_mark_all_read),
        ("Refresh all feeds", "Fetch every feed in the background", app.action_refresh_feeds),
        ("Show refresh errors", "Details of the feeds that failed", app.action_show_errors),
        ("Add a feed", "Subscribe to a feed URL", app.action_add_feed),
        ("Remove feed", "Unsubscribe from the feed under the cursor", app.action_remove_feed),
        ("Tag post", "Add or remove your own tags on the post under the cursor", app.action_tag_post),
        ("Save this search", "Save the filter bar's query under a name (Ctrl+S in the filter bar)",
         app.action_save_search),
        ("Remove saved search", "Remove the saved search highlighted in the sidebar (or shown)",
         app.action_remove_search),
    ]
    keys = {b.action.split("(")[0]: b for b in app.all_bindings()}
    for title, help_text, callback in commands:
        binding = keys.get(getattr(callback, "__name__", "").removeprefix("action_"))
        if binding is not None and binding.id:
            title = f"{title} · {key_label(app.settings.keymap.get(binding.id, binding.key))}"
        yield SystemCommand(title, help_text, callback)
    yield from _label_commands(app)


def _label_commands(app: ReaderApp) -> Iterable[SystemCommand]:
    """"Saved search: NAME" and "Tag: NAME", from the sidebar's last load (no query on the UI thread)."""
    sidebar = app.sidebar
    for search in sidebar.saved_searches[:MAX_LABEL_COMMANDS]:
        scope = sidebar.search_scope(search)
        yield SystemCommand(f"Saved search: {_title(search.name)}", _title(search.query),
                            lambda scope=scope: app.show_saved_search(scope), discover=False)
    for name in sidebar.tag_names[:MAX_LABEL_COMMANDS]:
        scope = Scope("tag", name, name)
        yield SystemCommand(f"Tag: {_title(name)}", "Show the posts with this tag",
                            lambda scope=scope: app.show_saved_search(scope), discover=False)
