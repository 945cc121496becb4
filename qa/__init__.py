"""Retrieval, reading answers, citations, evaluation, CLI."""
