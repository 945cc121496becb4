"""What the chat app is started with (``qa chat`` builds it; importing this module does not load gradio).

Example:
    >>> ChatOptions(Path(".qa-index"), host="127.0.0.1", port=7860)
    ChatOptions(index_dir=PosixPath('.qa-index'), host='127.0.0.1', port=7860, auth=None, insecure=False, allow_private_urls=False)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ChatOptions:
    index_dir: Path
    host: str = "127.0.0.1"
    port: int = 7860
    auth: str | None = None  # USER:PASSWORD; None: $QA_AUTH, else no password
    insecure: bool = False  # serve beyond loopback without a password
    allow_private_urls: bool = False  # let the chat fetch URLs on loopback, private and link-local addresses
