"""The ``qa`` command line: index, add, search, ask, eval, chat.

Each command's module registers its arguments and turns the parsed namespace into a typed options object
(``cli.options.options_from``) before any work starts; the work itself lives in ``index``, ``qa`` and ``ui``.

Example:
    $ qa index                      # the default corpus into .qa-index/
    $ qa search "Who is Geng Shuang?" --k 3 --json
    $ qa ask "Who is the Chinese foreign ministry spokesman?"
"""

from __future__ import annotations

import argparse
import sys

from cli import answer_commands, chat_command, index_commands
from cli.options import options_from
from index.store import IndexProblem


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return args.run(options_from(args.options, args))
    except IndexProblem as exc:
        print(f"qa: {exc}", file=sys.stderr)
        return 1
    except (FileNotFoundError, ValueError) as exc:  # a path or a value the user gave (the message names it)
        print(f"qa: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. --index naming a file, or a folder that cannot be read: no traceback
        print(f"qa: cannot use {exc.filename or 'a file'}: {exc.strerror or exc}", file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qa", description="Extractive, cited answers from a collection of news articles.")
    sub = parser.add_subparsers(dest="command")
    index_commands.register(sub)
    answer_commands.register(sub)
    chat_command.register(sub)
    return parser


if __name__ == "__main__":
    sys.exit(main())
