"""The one kind of error the ``gospubliki`` command reports: a readable line on stderr and exit code 2."""

from __future__ import annotations

import argparse
from typing import NoReturn

EXIT_USAGE = 2


class CliError(Exception):
    """A mistake the user can fix: wrong option, unreachable stack, refused request, missing file."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are ``CliError`` (one line naming the command) instead of usage dumps."""

    def error(self, message: str) -> NoReturn:
        raise CliError(f"{self.prog}: {message}")
