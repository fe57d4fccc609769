"""Every service answers what its OpenAPI declares: schemathesis sends each operation its coverage cases (boundary
and invalid values) and ``MAX_EXAMPLES`` generated ones, against a real moto server; no answer is a 5xx, and each has
a declared status and content type and a body matching its schema.

The n-th request of an operation carries the token of role ``n % 5`` and, every other time, the seeded objects' ids
(and region) in place of the generated path and query parameters: each role reads and writes objects inside and
outside its scope. Writes whose bodies no schema can generate (registration numbers with checksums, spreadsheets)
are sent as hand-made valid requests with every role's token.
Reproducible: derandomized (a fixed seed per test), so the same requests go in the same order.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import count
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from services.appeals.app import app as appeals_app
from services.metrics.app import app as metrics_app
from services.registry.app import app as registry_app
from tests.contract.conftest import World
from tests.registry.helpers import institution_payload, page_payload

MAX_EXAMPLES = 25
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
BOUNDED = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)

registry = schemathesis.openapi.from_asgi("/openapi/registry.json", registry_app)
appeals = schemathesis.openapi.from_asgi("/openapi/appeals.json", appeals_app)
metrics = schemathesis.openapi.from_asgi("/openapi/metrics.json", metrics_app)


_sent: defaultdict[str, count[int]] = defaultdict(count)


def _validate(case: Any, world: World) -> None:
    """Send ``case`` as the next role, aimed at the seeded objects every other time; the answer must conform."""
    number = next(_sent[case.operation.label])
    roles = list(world.headers)
    if number % 2:
        case.path_parameters, case.query = world.aim(case.path_parameters), world.aim(case.query)
    case.call_and_validate(headers=world.headers[roles[number % len(roles)]], checks=CHECKS)


@registry.parametrize()
@BOUNDED
def test_registry_answers_as_declared(case: Any, world: World) -> None:
    _validate(case, world)


@appeals.parametrize()
@BOUNDED
def test_appeals_answers_as_declared(case: Any, world: World) -> None:
    _validate(case, world)


@metrics.parametrize()
@BOUNDED
def test_metrics_answers_as_declared(case: Any, world: World) -> None:
    _validate(case, world)


@pytest.mark.parametrize("schema", [registry, appeals, metrics], ids=["registry", "appeals", "metrics"])
def test_every_operation_declares_the_errors_any_route_may_answer(schema: Any) -> None:
    for operation in schema.get_all_operations():
        declared = set(operation.ok().definition.raw["responses"])
        assert {"401", "403", "404", "409", "413", "422"} <= declared, operation.ok().label


def _handmade(world: World, exported: bytes) -> list[tuple[str, str, dict[str, Any]]]:
    """Valid writes (and the exports they come from) that generated data cannot make: (method, path, case fields)."""
    ids = {"institution_id": world.institution_id, "page_id": world.page_id}
    callback = {"confirmation_code": "a1b2c3d4", "secret": "another-secret-0123456789"}
    return [
        ("POST", "/registry/institutions", {"body": institution_payload("54")}),
        ("POST", "/registry/institutions/{institution_id}/pages", {"path_parameters": ids, "body": page_payload()}),
        ("PUT", "/registry/pages/{page_id}/callback", {"path_parameters": ids, "body": callback}),
        ("GET", "/registry/export", {"query": {"region": "54", "format": "csv"}}),
        ("GET", "/registry/export", {"query": {"region": "54", "format": "xlsx"}}),
        (
            "POST",
            "/registry/import",
            {
                "query": {"region": "54", "dry_run": True},
                "body": {"file": exported},
                "media_type": "multipart/form-data",
            },
        ),
    ]


def test_valid_writes_and_files_answer_as_declared(world: World) -> None:
    export = registry["/registry/export"]["GET"].Case(query={"region": "54", "format": "csv"})
    exported = export.call(headers=world.headers["federal_admin"])
    assert exported.status_code == 200, exported.text
    statuses = []
    for role, headers in world.headers.items():
        for method, path, fields in _handmade(world, exported.content):
            case = registry[path][method].Case(**fields)
            statuses.append((role, method, path, case.call_and_validate(headers=headers, checks=CHECKS).status_code))
    assert {status for *_, status in statuses} >= {200, 201, 403}, statuses
