"""``gospubliki triage [FILE|-]``: triage JSON lines of citizens' messages with the committed weights.

Each input line is a JSON object with a ``"text"``; it is written back (same keys, same order) with ``kind``,
``rubric``, ``priority``, ``obscene`` and ``confidence`` added. Reads standard input when FILE is ``-`` or absent.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from typing import IO, Any

from tooling.cli.errors import CliError

FIELDS = ("kind", "rubric", "priority", "obscene", "confidence")


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("triage", help="add kind/rubric/priority/obscene/confidence to JSON lines")
    parser.add_argument("file", nargs="?", default="-", help="JSON lines with a 'text' field, or - for stdin (-)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from services.appeals.triage.analyser import default_analyser
    from services.appeals.triage.model import ModelError

    try:
        analyser = default_analyser()
    except ModelError as error:
        raise CliError(f"gospubliki triage: {error}") from None
    if args.file == "-":
        triage_lines(sys.stdin, sys.stdout, analyser.analyse, "<stdin>")
        return 0
    try:
        with open(args.file, encoding="utf-8") as source:
            triage_lines(source, sys.stdout, analyser.analyse, args.file)
    except FileNotFoundError:
        raise CliError(f"gospubliki triage: {args.file}: no such file") from None
    except UnicodeDecodeError:
        raise CliError(f"gospubliki triage: {args.file}: not UTF-8 text") from None
    return 0


def triage_lines(lines: Iterable[str], out: IO[str], analyse: Any, name: str) -> None:
    """Write each JSON line of ``lines`` back with the triage fields; ``CliError`` names the first bad line."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise CliError(f"gospubliki triage: {name}:{number}: not JSON ({error.msg})") from None
        if not isinstance(row, dict) or not isinstance(row.get("text"), str):
            raise CliError(f'gospubliki triage: {name}:{number}: expected an object with a string "text"')
        result = analyse(row["text"]).as_dict()
        row.update({field: result[field] for field in FIELDS})
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        out.flush()
