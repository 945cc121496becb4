"""The ``qa`` command line: the composition root above ``ui`` and ``qa``.

It parses the arguments into typed option objects and hands them to the layers below; nothing below imports it.
"""
