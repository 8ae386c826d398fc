"""Errors that end a command with exit 2 and one clear line."""


class MergeError(Exception):
    """Shard reports that cannot be merged."""
