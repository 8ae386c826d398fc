"""Errors that end a command with exit 2 and one clear line."""


class MergeError(Exception):
    """Shard reports that cannot be merged."""


class UsageError(Exception):
    """The command was asked something it cannot do (options that contradict each other, nothing to run)."""
