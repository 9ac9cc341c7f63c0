"""The bundled Welcome feed: a first run shows something useful with no network."""

from __future__ import annotations

from importlib import resources

from .store import Store

WELCOME_URL = "reader:welcome"


def welcome_bytes() -> bytes:
    return resources.files("reader").joinpath("data/welcome.xml").read_bytes()


def load_welcome(store: Store) -> int:
    """(Re)load the Welcome feed from package data. Returns the number of new posts."""
    from .parse import parse_feed  # here: every refresh imports this module, few load the Welcome feed

    parsed = parse_feed(welcome_bytes(), "https://example.invalid/welcome.xml")
    new, _updated = store.save_parsed(WELCOME_URL, parsed)
    return new


def offer_welcome(store: Store) -> bool:
    """Subscribe a brand-new cache to the Welcome feed, once. A user who removes it keeps it removed."""
    if store.get_meta("welcome_offered") or store.list_feeds():
        return False
    store.add_feed(WELCOME_URL, "Welcome to reader", ["Welcome"])
    load_welcome(store)
    store.set_meta("welcome_offered", "1")
    return True
