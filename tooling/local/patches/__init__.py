"""Patches the local stack installs into moto before it starts (moto runs in this process, in server mode).

moto models AWS faithfully but naively: several operations cost time proportional to everything stored, which a
local stack under VK-like load cannot afford (see ``dynamodb`` and ``sqs``), every request repeats work that could
be done once (see ``server``), and nothing tells the stack what changed, which its journal needs (see
``observer``). Each module replaces a few methods of moto's classes with ones of the same observable behaviour.
They target exactly ``MOTO_VERSION``: any other moto fails ``install()`` loudly, so an upgrade is a decision
(re-check each patch against the new code), not a silent change.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

MOTO_VERSION = "5.2.5"

_installed: list[str] = []


def replace(owner: type | ModuleType, name: str, replacement: Any) -> None:
    """Replace ``owner.name`` (a method or property of a moto class, or a function of a moto module)."""
    setattr(owner, name, replacement)


def install() -> None:
    """Install every patch once per process; refuses any moto but ``MOTO_VERSION``."""
    import moto

    if moto.__version__ != MOTO_VERSION:
        raise RuntimeError(
            f"the local stack's moto patches target moto {MOTO_VERSION}, found {moto.__version__}: "
            "re-check tooling/local/patches against the new moto, then update MOTO_VERSION"
        )
    if _installed:
        return
    from tooling.local.patches import dynamodb, secretsmanager, server, sqs

    server.install()
    dynamodb.install()
    sqs.install()
    secretsmanager.install()
    _installed.append(moto.__version__)
