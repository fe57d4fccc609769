"""Request dispatch patches (moto 5.2.5): constant work per request done once per process instead.

What moto 5.2.5 does and why it is patched:

* ``DomainDispatcherApplication.get_backend_for_host`` - run for every request, twice, while holding the server's
  one dispatch lock - checks ``host in backends.list_of_moto_modules()``, a generator that lists moto's package
  folder and stats each of its ~180 entries, then tries the URL pattern of every service in turn. That is ~360
  ``stat`` calls and hundreds of regular expressions per request, during which no other request can be dispatched.
  The folder does not change while the process runs and the answer depends only on the host, so the listing is
  read once and each host's backend is remembered.
* ``BaseResponse.call_action`` lists the response class's methods with ``inspect.getmembers`` on every request to
  check that the action exists; the methods of a class do not change, so the list is computed once per class.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from moto import backends
from moto.core import responses, utils
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

from tooling.local.patches import replace


def _remembered(get_backend_for_host: Callable[[Any, str | None], Any]) -> Callable[[Any, str | None], Any]:
    known: dict[str | None, Any] = {}

    @functools.wraps(get_backend_for_host)
    def backend_for_host(self: DomainDispatcherApplication, host: str | None) -> Any:
        if host not in known:  # called with the dispatch lock held
            known[host] = get_backend_for_host(self, host)
        return known[host]

    return backend_for_host


def install() -> None:
    """Replace moto's functions with remembering ones."""
    modules = tuple(backends.list_of_moto_modules())

    def list_of_moto_modules() -> Iterable[str]:
        return modules

    replace(backends, "list_of_moto_modules", list_of_moto_modules)
    replace(
        DomainDispatcherApplication,
        "get_backend_for_host",
        _remembered(DomainDispatcherApplication.get_backend_for_host),
    )
    replace(responses, "method_names_from_class", functools.cache(utils.method_names_from_class))
