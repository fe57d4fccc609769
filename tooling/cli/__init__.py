"""The ``gospubliki`` command: run the local stack, mint local tokens, talk to the API."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from tooling.cli import demo, dev, registry, token


def build_parser() -> argparse.ArgumentParser:
    """The parser with every subcommand registered."""
    parser = argparse.ArgumentParser(prog="gospubliki", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for module in (dev, token, registry, demo):
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    result: int = args.run(args)
    return result
