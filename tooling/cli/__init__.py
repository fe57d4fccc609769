"""The ``gospubliki`` command: run the local stack, mint local tokens, talk to the API."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from tooling.cli import demo, dev, registry, token, triage
from tooling.cli.errors import EXIT_USAGE, CliError, Parser


def build_parser() -> Parser:
    """The parser with every subcommand registered."""
    parser = Parser(prog="gospubliki", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for module in (dev, token, registry, demo, triage):
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script: every user error is one line on stderr and exit code 2."""
    try:
        args = build_parser().parse_args(argv)
        result: int = args.run(args)
    except CliError as error:
        print(error, file=sys.stderr)
        return EXIT_USAGE
    except OSError as error:  # unreachable stack, unreadable or unwritable file
        print(f"gospubliki: {error}", file=sys.stderr)
        return EXIT_USAGE
    return result
