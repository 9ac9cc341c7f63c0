"""reader: a terminal feed reader with an offline cache."""

__version__ = "0.1.0"
