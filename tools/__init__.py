"""Maintenance tools of the repository, run as modules from its root (``python -m tools.screenshot``)."""
