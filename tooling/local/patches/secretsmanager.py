"""Secrets Manager hook (moto 5.2.5): every change of a secret is reported to ``observer.current()``.

Not a moto defect: the local stack's journal needs to hear about secret changes made by any client. After each
write (create, put value, update, delete, restore) the observer gets every secret's current string value in that
account and region - secrets are few, so the whole set is simpler to replay than a diff.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from moto.secretsmanager.models import FakeSecret, SecretsManagerBackend, secretsmanager_backends

from tooling.local.patches import observer, replace

WRITES = ("create_secret", "put_secret_value", "update_secret", "delete_secret", "restore_secret")


def secret_values(account_id: str, region: str) -> dict[str, str]:
    """Name -> current string value of every secret that is not deleted."""
    backend: SecretsManagerBackend = secretsmanager_backends[account_id][region]
    values: dict[str, str] = {}
    for secret in dict.values(backend.secrets):  # the store's own lookups compare every name and ARN
        if not isinstance(secret, FakeSecret) or secret.is_deleted():
            continue
        version = secret.versions.get(secret.default_version_id or "", {})
        if isinstance(version.get("secret_string"), str):
            values[secret.name] = version["secret_string"]
    return values


def _reporting(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def write(self: SecretsManagerBackend, *args: Any, **kwargs: Any) -> Any:
        result = method(self, *args, **kwargs)
        listener = observer.current()
        if listener is not None:
            listener.secrets_changed(
                self.account_id, self.region_name, secret_values(self.account_id, self.region_name)
            )
        return result

    return write


def install() -> None:
    """Wrap moto's secret writes."""
    for name in WRITES:
        replace(SecretsManagerBackend, name, _reporting(getattr(SecretsManagerBackend, name)))
