"""The SQLite cache, split by concern; `reader.store.Store` puts the parts together."""
