"""``qa chat``: the chat app in the browser, through the UI's one entry point ``ui.app.serve``.

gradio is imported only when this command runs (``ui.options`` is light), so the other commands start
without it.

Example:
    $ qa chat --port 7860
    $ qa chat --host 0.0.0.0 --auth me:secret
    $ qa chat --allow-private-urls       # the chat may add pages from this machine or its network
"""

from __future__ import annotations

from cli.options import add_index_option
from ui.options import ChatOptions


def register(sub) -> None:
    sp = add_index_option(sub.add_parser("chat", help="the chat app in the browser (and a JSON HTTP endpoint)"))
    sp.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    sp.add_argument("--port", type=int, default=7860)
    sp.add_argument("--auth", help="USER:PASSWORD required to use the app (default: $QA_AUTH)")
    sp.add_argument("--insecure", action="store_true", help="allow binding beyond localhost without --auth")
    sp.add_argument("--allow-private-urls", action="store_true",
                    help="let URLs added in the chat be fetched from loopback, private and link-local addresses "
                         "(refused by default: the server would fetch them for whoever uses the chat)")
    sp.set_defaults(options=ChatOptions, run=run_chat)


def run_chat(options: ChatOptions) -> int:
    from ui.app import (
        serve,  # the UI's entry point: gradio loads here, for this command only
    )

    return serve(options)
