"""The access rules as data: every route x every role x in and out of scope, over HTTP on the local stack.

Targets: ``own`` is the institution an institution admin holds (region 54), ``peer`` another institution of region
54, ``foreign`` an institution of region 77. For a route about a region, ``own`` and ``peer`` are region 54 and
``foreign`` region 77. Every token but the federal admin's is of region 54 (the institution admin's of ``own``).

The rules (README, "Access"): reading outside the scope answers 404, writing outside it 403, a role that may not
do something at all 403; without a token every route answers 401. A 409 is a caller the rules let through whom the
appeal's lifecycle then refuses (the matrix's appeals are not escalated under 59-ФЗ, so registration and extension
stop there). Portals never read appeals (citizens' texts and VK ids). A route missing here fails
``test_every_route_is_in_the_matrix``.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import wait_for
from tests.factories import wall_comment
from tests.registry.helpers import institution_payload, page_payload
from tooling.local import keys
from tooling.local.stack import LocalStack

ROLES = ("federal_admin", "regional_admin", "operator", "institution_admin", "portal")
TARGETS = ("own", "peer", "foreign")

# route                                           federal      regional     operator     institution  portal
MATRIX = """
GET   /registry/regions                           200 200 200  200 200 200  200 200 200  200 200 200  200 200 200
GET   /registry/regions/{region}/settings         200 200 200  200 200 404  200 200 404  200 200 404  200 200 404
PUT   /registry/regions/{region}/settings         200 200 200  200 200 403  403 403 403  403 403 403  403 403 403
POST  /registry/institutions                      201 201 201  201 201 403  403 403 403  403 403 403  403 403 403
GET   /registry/institutions?region               200 200 200  200 200 404  200 200 404  200 200 404  200 200 404
GET   /registry/institutions/{institution}        200 200 200  200 200 404  200 200 404  200 404 404  200 200 404
PATCH /registry/institutions/{institution}        200 200 200  200 200 403  403 403 403  403 403 403  403 403 403
POST  /registry/institutions/{institution}/pages  201 201 201  201 201 403  403 403 403  201 403 403  403 403 403
GET   /registry/pages?region                      200 200 200  200 200 404  200 200 404  200 200 404  200 200 404
GET   /registry/pages?institution_id              200 200 200  200 200 404  200 200 404  200 404 404  200 200 404
GET   /registry/pages/{page}                      200 200 200  200 200 404  200 200 404  200 404 404  200 200 404
PATCH /registry/pages/{page}                      200 200 200  200 200 403  403 403 403  200 403 403  403 403 403
PUT   /registry/pages/{page}/callback             200 200 200  200 200 403  403 403 403  200 403 403  403 403 403
PUT   /registry/pages/{page}/vk-token             200 200 200  200 200 403  403 403 403  200 403 403  403 403 403
POST  /registry/import?region                     200 200 200  200 200 403  403 403 403  403 403 403  403 403 403
GET   /registry/export?region                     200 200 200  200 200 404  200 200 404  403 403 404  200 200 404
GET   /registry/coverage?region                   200 200 200  200 200 404  200 200 404  403 403 404  200 200 404
GET   /appeals?region                             200 200 200  200 200 404  200 200 404  200 200 404  403 403 403
GET   /appeals?institution_id                     200 200 200  200 200 404  200 200 404  200 404 404  403 403 403
GET   /appeals/{appeal}                           200 200 200  200 200 404  200 200 404  200 404 404  403 403 403
PATCH /appeals/{appeal}                           200 200 200  200 200 403  200 200 403  403 403 403  403 403 403
GET   /appeals/labels/export?region               200 200 200  200 200 404  403 403 403  403 403 403  403 403 403
GET   /appeals/triage/stats?region                200 200 200  200 200 404  200 200 404  403 403 404  403 403 403
GET   /appeals/policies/{region}                  200 200 200  200 200 404  200 200 404  200 200 404  200 200 404
PUT   /appeals/policies/{region}                  200 200 200  200 200 403  403 403 403  403 403 403  403 403 403
GET   /appeals/policies/{region}/deadline         200 200 200  200 200 404  200 200 404  200 200 404  200 200 404
POST  /appeals/{appeal}/assign                    200 200 200  200 200 403  200 200 403  403 403 403  403 403 403
POST  /appeals/{appeal}/status                    200 200 200  200 200 403  200 200 403  200 403 403  403 403 403
POST  /appeals/{appeal}/reply                     202 202 202  202 202 403  202 202 403  202 403 403  403 403 403
POST  /appeals/{appeal}/registration              409 409 409  409 409 403  409 409 403  409 403 403  403 403 403
POST  /appeals/{appeal}/extension                 409 409 409  409 409 403  409 409 403  409 403 403  403 403 403
GET   /metrics/pages/{page}/activity              200 200 200  200 200 404  200 200 404  200 404 404  200 200 404
GET   /metrics/regions/{region}/activity          200 200 200  200 200 404  200 200 404  403 403 404  200 200 404
GET   /metrics/regions/{region}/dashboard         200 200 200  200 200 404  200 200 404  403 403 404  200 200 404
GET   /metrics/pages/{page}                       200 200 200  200 200 404  200 200 404  200 404 404  200 200 404
GET   /metrics/ratings?region                     200 200 200  200 200 404  200 200 404  403 403 404  200 200 404
GET   /metrics/reports/weekly?region              200 200 200  200 200 404  200 200 404  403 403 404  403 403 403
GET   /metrics/national                           200 200 200  403 403 403  403 403 403  403 403 403  403 403 403
POST  /metrics/quality-marks/award                200 200 200  200 200 403  403 403 403  403 403 403  403 403 403
GET   /metrics/quality-marks?region               200 200 200  200 200 404  200 200 404  403 403 404  200 200 404
"""


@dataclass(frozen=True, slots=True)
class Case:
    method: str
    route: str
    role: str
    target: str
    expected: int

    def __str__(self) -> str:
        return f"{self.method} {self.route} as {self.role} on {self.target}"


def _cases() -> list[Case]:
    cases = []
    for line in MATRIX.strip().splitlines():
        method, route, *codes = line.split()
        assert len(codes) == len(ROLES) * len(TARGETS), f"{route}: {len(codes)} codes"
        for (role, target), code in zip(itertools.product(ROLES, TARGETS), codes, strict=True):
            cases.append(Case(method, route, role, target, int(code)))
    return cases


CASES = _cases()
ROUTES = sorted({(case.method, case.route.split("?")[0]) for case in CASES})


@dataclass(frozen=True, slots=True)
class Target:
    region: str
    institution: str
    page: str
    appeal: str


@dataclass
class World:
    stack: LocalStack
    targets: dict[str, Target]
    clients: dict[str, httpx.Client]


_group_ids = itertools.count(209_100_000 + int(time.time()) % 100_000)


def _create_target(admin: httpx.Client, region: str) -> tuple[str, str, int, str]:
    institution = admin.post("/registry/institutions", json=institution_payload(region))
    assert institution.status_code == 201, institution.text
    group_id, secret = next(_group_ids), "matrix-" + uuid.uuid4().hex
    body = page_payload(group_id, callback={"confirmation_code": "abcd1234", "secret": secret})
    page = admin.post(f"/registry/institutions/{institution.json()['id']}/pages", json=body)
    assert page.status_code == 201, page.text
    return institution.json()["id"], page.json()["id"], group_id, secret


@pytest.fixture(scope="module")
def world(local_stack: LocalStack) -> Iterator[World]:
    """Three institutions with a page and an appeal each, and a client per role."""
    federal = keys.issue_token(local_stack.state_dir, role="federal_admin")
    admin = httpx.Client(base_url=local_stack.base_url, headers={"Authorization": f"Bearer {federal}"}, timeout=30)
    created = {name: _create_target(admin, region) for name, region in zip(TARGETS, ("54", "54", "77"), strict=True)}
    vk = httpx.Client(base_url=local_stack.base_url, timeout=30)
    targets = {}
    for name, (institution, page, group_id, secret) in created.items():
        envelope = wall_comment(group_id, secret, "Когда починят освещение во дворе школы?")
        wait_for(lambda envelope=envelope: vk.post("/vk/callback", json=envelope).text == "ok", timeout=30)
        found = wait_for(lambda page=page: admin.get("/appeals", params={"page_id": page}).json()["items"], timeout=30)
        region = "77" if name == "foreign" else "54"
        targets[name] = Target(region=region, institution=institution, page=page, appeal=found[0]["id"])

    clients = {"anonymous": httpx.Client(base_url=local_stack.base_url, timeout=30)}
    for role in ROLES:
        token = keys.issue_token(
            local_stack.state_dir,
            role=role,
            region=None if role == "federal_admin" else "54",
            institution=targets["own"].institution if role == "institution_admin" else None,
        )
        clients[role] = httpx.Client(
            base_url=local_stack.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
    yield World(stack=local_stack, targets=targets, clients=clients)
    for client in [admin, vk, *clients.values()]:
        client.close()


def _request(case: Case, target: Target) -> dict[str, Any]:
    """The method, URL and a valid body for ``case`` aimed at ``target``."""
    path, _, query = case.route.partition("?")
    path = path.format(region=target.region, institution=target.institution, page=target.page, appeal=target.appeal)
    params = {query: getattr(target, "institution" if query == "institution_id" else query)} if query else {}
    request: dict[str, Any] = {"method": case.method, "url": path, "params": params}
    bodies: dict[str, Callable[[], dict[str, Any]]] = {
        "PUT /registry/regions/{region}/settings": lambda: {"json": {"posting_norms": {"active": 3}}},
        "POST /registry/institutions": lambda: {"json": institution_payload(target.region)},
        "PATCH /registry/institutions/{institution}": lambda: {"json": {"short_name": f"n{uuid.uuid4().hex[:6]}"}},
        "POST /registry/institutions/{institution}/pages": lambda: {"json": page_payload()},
        "PATCH /registry/pages/{page}": lambda: {"json": {"subscribers": 100}},
        "PUT /registry/pages/{page}/callback": lambda: {
            "json": {"confirmation_code": "abcd1234", "secret": "matrix-" + uuid.uuid4().hex}
        },
        "PATCH /appeals/{appeal}": lambda: {"json": {"priority": "urgent"}},
        "PUT /appeals/policies/{region}": lambda: {"json": {"hours": 8, "final_days": 7}},
        "GET /appeals/policies/{region}/deadline": lambda: {"params": {"received_at": "2026-11-28T10:00:00+03:00"}},
        "POST /appeals/{appeal}/assign": lambda: {"json": {"institution_id": target.institution}},
        "POST /appeals/{appeal}/status": lambda: {"json": {"action": "take"}},
        "POST /appeals/{appeal}/registration": lambda: {"json": {"number": "ЦУР-54/2026-1"}},
        "POST /appeals/{appeal}/extension": lambda: {"json": {"days": 10, "reason": "запрошены документы"}},
        "POST /appeals/{appeal}/reply": lambda: {"json": {"text": "Спасибо, передали в учреждение.", "interim": True}},
        "PUT /registry/pages/{page}/vk-token": lambda: {"json": {"access_token": "vk1.a.matrix-token"}},
        "POST /metrics/quality-marks/award": lambda: {
            "json": {"region_code": target.region, "year": 2026, "min_score": 100}
        },
        "POST /registry/import": lambda: {
            "params": {**params, "dry_run": "true"},
            "files": {"file": ("r.csv", b"x", "text/csv")},
        },
    }
    body = bodies.get(f"{case.method} {case.route.split('?')[0]}")
    if body is not None:
        request.update(body())
    return request


@pytest.mark.parametrize("method,route", ROUTES, ids=[f"{m} {r}" for m, r in ROUTES])
def test_route_answers_every_role_and_scope_as_the_rules_say(world: World, method: str, route: str) -> None:
    mismatches = []
    for case in (c for c in CASES if (c.method, c.route.split("?")[0]) == (method, route)):
        response = world.clients[case.role].request(**_request(case, world.targets[case.target]))
        if response.status_code != case.expected:
            mismatches.append(f"{case}: {response.status_code} (expected {case.expected}) {response.text[:160]}")
        elif response.status_code in (403, 404):
            assert response.json()["message"], f"{case}: an error without a message"
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.parametrize("method,route", ROUTES, ids=[f"{m} {r}" for m, r in ROUTES])
def test_route_answers_401_without_a_token(world: World, method: str, route: str) -> None:
    case = next(c for c in CASES if (c.method, c.route.split("?")[0]) == (method, route))
    response = world.clients["anonymous"].request(**_request(case, world.targets["own"]))
    assert response.status_code == 401 and response.headers.get("WWW-Authenticate") == "Bearer"


def test_portals_never_see_a_citizens_text_or_id(world: World) -> None:
    portal = world.clients["portal"]
    for path in ("/registry/pages", "/registry/institutions", "/registry/coverage"):
        text = portal.get(path, params={"region": "54"}).text
        assert "499047616" not in text and "освещение" not in text, path
    page = world.targets["own"].page
    assert "499047616" not in portal.get(f"/metrics/pages/{page}/activity").text


def test_every_route_is_in_the_matrix(world: World) -> None:
    schema = httpx.get(f"{world.stack.base_url}/openapi.json", timeout=30).json()
    documented = {(method.upper(), path) for path, operations in schema["paths"].items() for method in operations} - {
        ("GET", "/health"),
        ("POST", "/vk/callback"),
    }
    in_matrix = {(method, _openapi_path(route)) for method, route in ROUTES}
    assert documented == in_matrix


def _openapi_path(route: str) -> str:
    names = {
        "{region}": "{region_code}",
        "{institution}": "{institution_id}",
        "{page}": "{page_id}",
        "{appeal}": "{appeal_id}",
    }
    for short, full in names.items():
        route = route.replace(short, full)
    return route
