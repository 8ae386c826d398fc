"""Effective-value diffs between revisions or environments, unit by unit."""
