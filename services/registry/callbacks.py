"""VK Callback API settings of a page: the secret kept only as a salted hash, the access token in the secret store.

Neither the secret nor the token is ever stored in the table, returned by the API or logged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from services.registry.records import PageRecord
from shared.errors import InvalidInputError, UnavailableError
from shared.vk_api import VkApi, VkApiError
from shared.vk_secret import hash_secret, new_salt

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

    from services.registry.models import CallbackSettings


class AccessTokenStore:
    """Community access tokens in Secrets Manager, one secret per page: ``{stack}/vk/{page_id}``.

    The client comes from ``client_factory`` on first use: most page writes store no token.
    """

    def __init__(self, *, client_factory: Callable[[], SecretsManagerClient], stack_name: str) -> None:
        self._client_factory = client_factory
        self._stack_name = stack_name

    def put(self, *, page_id: str, token: str) -> None:
        """Store (or replace) a page's access token."""
        client = self._client_factory()
        name = f"{self._stack_name}/vk/{page_id}"
        try:
            client.put_secret_value(SecretId=name, SecretString=token)
        except client.exceptions.ResourceNotFoundException:
            client.create_secret(Name=name, SecretString=token, Description="VK community access token")


def with_callback(*, record: PageRecord, settings: CallbackSettings) -> PageRecord:
    """The page with new callback settings (a fresh salt and hash)."""
    if record["platform"] != "vk":
        raise InvalidInputError("only VK pages have callback settings", field="callback")
    if record.get("group_id") is None:
        raise InvalidInputError("a VK community id is required for callback settings", field="group_id")
    salt = new_salt()
    result = record.copy()
    result["secret_salt"] = salt
    result["secret_hash"] = hash_secret(settings.secret.get_secret_value(), salt)
    result["confirmation_code"] = settings.confirmation_code
    return result


def token_permissions(*, vk: VkApi, token: str) -> list[str]:
    """The permissions VK reports for a community token (``groups.getTokenPermissions``).

    422 naming ``access_token`` when VK refuses the token, 503 when VK cannot be asked now.
    """
    try:
        answer = vk.call("groups.getTokenPermissions", {}, token=token)
    except VkApiError as error:
        if error.transient:
            raise UnavailableError("VK cannot check the token now; try again later") from None
        raise InvalidInputError(f"VK refused the token: {error.reason}", field="access_token") from None
    permissions = answer.get("permissions", []) if isinstance(answer, dict) else []
    return sorted({str(item["name"]) for item in permissions if isinstance(item, dict) and "name" in item})
