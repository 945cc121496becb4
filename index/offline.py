"""Nothing downloads at run time: the one place that sets the offline switches of the libraries we use.

Called before sentence-transformers, transformers or gradio are imported (the embedder, the reader, the chat
app and training all call it). ``setdefault``: a user who wants a download can still set a variable first.

Example:
    >>> use_offline_defaults()
    >>> os.environ["HF_HUB_OFFLINE"]
    '1'
"""

from __future__ import annotations

import os

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TOKENIZERS_PARALLELISM": "false",
}
# Gradio's usage analytics would post to an outside service: always off, whatever the environment says.
FORCED_ENV = {"GRADIO_ANALYTICS_ENABLED": "False"}


def use_offline_defaults() -> None:
    """Set every offline switch that the environment does not set already (Gradio's analytics: always)."""
    for name, value in OFFLINE_ENV.items():
        os.environ.setdefault(name, value)
    os.environ.update(FORCED_ENV)
