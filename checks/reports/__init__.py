"""Reports: run reports (formats.py looks them up by name) and diff reports (diff_*.py)."""
