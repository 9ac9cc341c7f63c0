"""Sync with a Google Reader API server (FreshRSS, Miniflux, Inoreader, The Old Reader, BazQux)."""
