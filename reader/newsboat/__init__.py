"""Moving from newsboat: its urls file, filter language, config's ignore-article rules and cache.db.

See importer.py for what goes where; cli_newsboat.py is the command.
"""

from .importer import NewsboatImportError, Report, Sources, find_sources, import_newsboat

__all__ = ["NewsboatImportError", "Report", "Sources", "find_sources", "import_newsboat"]
