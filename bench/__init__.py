"""The benchmark scripts, run as modules from the repository root: ``python -m bench.<name> --help``.

Not part of the installed package: they import corpus, index and qa (nothing there imports them).
"""
