"""The console's API contract (``console/app/js/contract.json``) checked against an OpenAPI document."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

CONTRACT_FILE = Path(__file__).resolve().parents[2] / "console" / "app" / "js" / "contract.json"
SUCCESS = ("200", "201", "202")


@cache
def services_openapi() -> dict[str, Any]:
    """The merged OpenAPI the local stack serves at ``/openapi.json``, built in-process from the template's apps."""
    from tooling.local.gateway import merged_openapi
    from tooling.local.lambda_runtime import load_handler
    from tooling.local.template import load_template

    template = load_template(
        stack_name="console-contract",
        region="eu-central-1",
        parameters={"JwtIssuer": "issuer", "JwtAudience": "audience", "JwksUrl": ""},
    )
    modules = dict.fromkeys(route.handler.rpartition(".")[0] for route in template.http_routes())
    return merged_openapi([load_handler(f"{module}.app") for module in modules])


def has_route(method: str, path: str) -> bool:
    """Whether the services serve ``method path`` (by the in-process OpenAPI)."""
    return find_operation(services_openapi(), method, path) is not None


def contract() -> dict[str, dict[str, Any]]:
    """Operation id -> its entry (method, path, query, sends, form, reads, optional_reads, coming, binary)."""
    operations: dict[str, dict[str, Any]] = json.loads(CONTRACT_FILE.read_text(encoding="utf-8"))["operations"]
    return operations


def normalise(path: str) -> str:
    """``/appeals/{appeal_id}`` and ``/appeals/{id}`` are the same route."""
    return re.sub(r"\{[^}]+\}", "{}", path)


def find_operation(spec: dict[str, Any], method: str, path: str) -> dict[str, Any] | None:
    """The OpenAPI operation object for ``method path``, if the API has it."""
    for candidate, item in spec["paths"].items():
        if normalise(candidate) == normalise(path) and method.lower() in item:
            operation: dict[str, Any] = item[method.lower()]
            return operation
    return None


def _deref(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def _variants(spec: dict[str, Any], schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The non-null alternatives of a schema (``anyOf``/``oneOf``/``allOf`` flattened, refs resolved)."""
    schema = _deref(spec, schema)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return [v for part in schema[key] for v in _variants(spec, part) if v.get("type") != "null"]
    return [schema]


def _child(spec: dict[str, Any], schema: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """The schemas ``key`` (a property name, or ``[]`` for array items) can have under ``schema``."""
    found = []
    for variant in _variants(spec, schema):
        if key == "[]":
            if variant.get("type") == "array" and "items" in variant:
                found.extend(_variants(spec, variant["items"]))
        elif key in variant.get("properties", {}):
            found.extend(_variants(spec, variant["properties"][key]))
        elif isinstance(variant.get("additionalProperties"), dict):
            found.extend(_variants(spec, variant["additionalProperties"]))
    return found


def field_exists(spec: dict[str, Any], schema: dict[str, Any], path: str) -> bool:
    """Whether a read like ``items[].source.type`` (``[]``: each item of an array) resolves in ``schema``."""
    keys = [part for part in re.split(r"\.|(\[\])", path) if part]
    schemas = [schema]
    for key in keys:
        schemas = [child for current in schemas for child in _child(spec, current, key)]
        if not schemas:
            return False
    return True


def response_schema(operation: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON schema of the operation's success response."""
    for status in SUCCESS:
        content = operation.get("responses", {}).get(status, {}).get("content", {})
        if "application/json" in content:
            schema: dict[str, Any] = content["application/json"].get("schema", {})
            return schema
    return None


def body_fields(spec: dict[str, Any], operation: dict[str, Any]) -> set[str]:
    """The property names the operation's request body (JSON or multipart form) accepts."""
    names: set[str] = set()
    for media in operation.get("requestBody", {}).get("content", {}).values():
        for variant in _variants(spec, media.get("schema", {})):
            names.update(variant.get("properties", {}))
    return names


def problems(spec: dict[str, Any], op_id: str, entry: dict[str, Any]) -> list[str]:
    """What in the console's use of ``op_id`` the OpenAPI does not have (empty: all of it is there)."""
    where = f"{op_id} ({entry['method'].upper()} {entry['path']})"
    operation = find_operation(spec, entry["method"], entry["path"])
    if operation is None:
        return [f"{where}: no such route"]
    found = []
    parameters = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
    found += [f"{where}: no query parameter {name}" for name in entry.get("query", []) if name not in parameters]
    accepted = body_fields(spec, operation)
    sent = [*entry.get("sends", []), *entry.get("form", [])]
    found += [f"{where}: the body has no field {name}" for name in sent if name not in accepted]
    reads = [*entry.get("reads", [])]
    if reads:
        schema = response_schema(operation)
        if schema is None:
            return [*found, f"{where}: no JSON response"]
        found += [
            f"{where}: the response has no field {path}" for path in reads if not field_exists(spec, schema, path)
        ]
    return found
