"""Every function's built artifact runs on its own: only the stdlib, its code folder and its layer on ``sys.path``.

The artifacts are built for this machine's interpreter (``--platform host``, the same layout and pins as the Lambda
build); each function runs in a fresh ``python -I -S`` against the moto server of the ``aws`` fixture.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import distributions, version
from importlib.util import cache_from_source
from pathlib import Path
from typing import Any

import pytest

from tooling.build import PYPROJECT, Artifacts, PlatformName, Target, build, canonical_name
from tooling.local.template import ACCOUNT_ID, HttpRoute, Template, load_template

HARNESS = Path(__file__).with_name("invoke_handler.py")
FUNCTION_IDS = sorted(load_template(stack_name="artifacts", region="eu-central-1").functions())
SOURCE_TREE_ONLY = {"tooling", "tests", "bench", "moto", ".venv", ".venv-tools", ".git", ".aws-sam", ".local"}
UNCHECKED_HASH_PYC = 0b01  # PEP 552 flags: hash-based, source not checked (what the build writes)


@dataclass(frozen=True)
class SampleRequest:
    """A request a route of the template forwards, and the status that proves the function's stack loaded."""

    method: str
    path: str
    status: int
    body: str | None = None


# Template route (method, path) -> sample. A function none of whose routes is listed here fails the test.
SAMPLE_REQUESTS = {
    ("ANY", "/registry/{proxy+}"): SampleRequest("GET", "/registry/institutions", 401),  # FastAPI, auth, settings
    ("GET", "/health"): SampleRequest("GET", "/health", 200),
    ("POST", "/vk/callback"): SampleRequest("POST", "/vk/callback", 400, body="{}"),
    ("ANY", "/appeals"): SampleRequest("GET", "/appeals", 401),
    ("ANY", "/metrics/{proxy+}"): SampleRequest("GET", "/metrics/regions/77/activity", 401),
}
INVOKABLE_EVENT_TYPES = {"HttpApi", "SQS", "ScheduleV2"}


@dataclass(frozen=True)
class Invocation:
    """One event for a handler and what its answer must be (``answer`` picks the part compared)."""

    event: dict[str, Any]
    answer: Callable[[Any], Any]
    expected: Any


@dataclass(frozen=True)
class Run:
    """A finished harness process."""

    returncode: int
    stderr: str
    results: list[Any]
    loaded: dict[str, str]


def http_api_event(route: HttpRoute, sample: SampleRequest) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event for ``sample``, routed by ``route``."""
    now = datetime.now(UTC)
    route_key = f"{route.method} {route.path}"
    return {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": sample.path,
        "rawQueryString": "",
        "headers": {"host": "api.example.invalid", "content-type": "application/json", "user-agent": "artifact-test"},
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": "api",
            "domainName": "api.example.invalid",
            "domainPrefix": "api",
            "http": {
                "method": sample.method,
                "path": sample.path,
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.1",
                "userAgent": "artifact-test",
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "body": sample.body,
        "isBase64Encoded": False,
    }


def invocations(template: Template, function_id: str) -> list[Invocation]:
    """The events the template routes to the function: one per sampled route, an empty batch, each schedule."""
    types = {event["Type"] for event in template.functions()[function_id].get("Events", {}).values()}
    assert types <= INVOKABLE_EVENT_TYPES, f"{function_id}: the artifact test cannot invoke {types} events yet"
    result = []
    routes = [route for route in template.http_routes() if route.function_id == function_id]
    sampled = [route for route in routes if (route.method, route.path) in SAMPLE_REQUESTS]
    assert sampled or not routes, f"{function_id}: add a SAMPLE_REQUESTS entry for one of its routes {routes}"
    for route in sampled:
        sample = SAMPLE_REQUESTS[route.method, route.path]
        assert route.matches(sample.method, sample.path), (route, sample)
        result.append(Invocation(http_api_event(route, sample), lambda answer: answer["statusCode"], sample.status))
    if any(mapping.function_id == function_id for mapping in template.queue_mappings()):
        result.append(Invocation({"Records": []}, lambda answer: answer, {"batchItemFailures": []}))
    for schedule in template.schedules():
        if schedule.function_id == function_id:
            execution_id = str(uuid.uuid4())
            scheduler_input = schedule.input.replace("<aws.scheduler.execution-id>", execution_id).replace(
                "<aws.scheduler.scheduled-time>", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            )
            result.append(Invocation(json.loads(scheduler_input), lambda answer: answer["execution_id"], execution_id))
    assert result, f"{function_id}: no event to invoke it with"
    return result


def standard_library_paths() -> list[str]:
    """The base interpreter's stdlib, platform stdlib and extension modules - no site-packages."""
    prefixes = {
        "base": sys.base_prefix,
        "installed_base": sys.base_prefix,
        "platbase": sys.base_exec_prefix,
        "installed_platbase": sys.base_exec_prefix,
    }
    paths = sysconfig.get_paths(vars=prefixes)
    return list(dict.fromkeys([paths["stdlib"], paths["platstdlib"], os.path.join(paths["platstdlib"], "lib-dynload")]))


def run_handler(
    template: Template, function_id: str, import_paths: list[Path], events: list[dict[str, Any]], tmp_path: Path
) -> Run:
    """Invoke the function's handler in a fresh isolated interpreter with the function's environment."""
    props = template.functions()[function_id]
    variables = template.resolve(props.get("Environment", {}).get("Variables", {}))
    request = {
        "sys_path": [*map(str, import_paths), *standard_library_paths()],
        "artifact_paths": [str(path) for path in import_paths],
        "function_name": function_id,
        "handler": props["Handler"],
        "events": events,
    }
    result_file = tmp_path / f"{function_id}-{uuid.uuid4().hex}.json"
    process = subprocess.run(
        [sys.executable, "-I", "-S", str(HARNESS), str(result_file)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        env={**os.environ, **variables},
        cwd=tmp_path,
        check=False,
        timeout=120,
    )
    outcome = json.loads(result_file.read_text(encoding="utf-8")) if process.returncode == 0 else {}
    return Run(process.returncode, process.stderr, outcome.get("results", []), outcome.get("loaded", {}))


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Artifacts:
    """Every function and layer of the template, built for this machine (pip's cache makes re-runs fast)."""
    return build(out=tmp_path_factory.mktemp("artifacts") / "build", platform_name=PlatformName.HOST)


def test_every_function_of_the_template_is_built_with_a_layer(artifacts: Artifacts) -> None:
    assert sorted(artifacts.functions) == FUNCTION_IDS
    assert artifacts.layers
    for function in artifacts.functions.values():
        assert function.layer_ids, function.function_id
    assert artifacts.compiled_with == sys.executable
    built = load_template(stack_name="artifacts", region="eu-central-1", path=artifacts.out / "template.yaml")
    assert {lid: props["CodeUri"] for lid, props in built.functions().items()} == {lid: lid for lid in FUNCTION_IDS}
    layers = built.of_type("AWS::Serverless::LayerVersion")
    assert {lid: props["ContentUri"] for lid, props in layers.items()} == {lid: lid for lid in artifacts.layers}


@pytest.mark.parametrize("function_id", FUNCTION_IDS)
def test_every_function_answers_from_its_artifact_alone(
    function_id: str, artifacts: Artifacts, aws: Template, tmp_path: Path
) -> None:
    planned = invocations(aws, function_id)
    run = run_handler(aws, function_id, artifacts.import_paths(function_id), [p.event for p in planned], tmp_path)
    assert run.returncode == 0, run.stderr
    assert [p.answer(result) for p, result in zip(planned, run.results, strict=True)] == [p.expected for p in planned]
    assert run.loaded[artifacts.functions[function_id].handler.rpartition(".")[0]]


def test_the_check_fails_without_a_dependency_of_the_layer(artifacts: Artifacts, aws: Template, tmp_path: Path) -> None:
    function_id = FUNCTION_IDS[0]
    (layer_id,) = artifacts.functions[function_id].layer_ids
    site = artifacts.layers[layer_id] / "python"
    without_pydantic = tmp_path / "python"
    without_pydantic.mkdir()
    for entry in site.iterdir():
        if entry.name != "pydantic":
            (without_pydantic / entry.name).symlink_to(entry)
    events = [planned.event for planned in invocations(aws, function_id)]
    run = run_handler(aws, function_id, [artifacts.functions[function_id].code_dir, without_pydantic], events, tmp_path)
    assert run.returncode != 0
    assert "No module named 'pydantic'" in run.stderr


def test_the_check_fails_without_a_module_of_the_service(artifacts: Artifacts, aws: Template, tmp_path: Path) -> None:
    function_id = FUNCTION_IDS[0]
    function = artifacts.functions[function_id]
    events = [planned.event for planned in invocations(aws, function_id)]
    complete = run_handler(aws, function_id, artifacts.import_paths(function_id), events, tmp_path)
    assert complete.returncode == 0, complete.stderr
    handler_module = function.handler.rpartition(".")[0]
    service = handler_module.rpartition(".")[0]
    needed = sorted(name for name in complete.loaded if name.startswith(f"{service}.") and name != handler_module)
    assert needed, complete.loaded
    code = shutil.copytree(function.code_dir, tmp_path / "code")
    module_file = code / Path(*needed[0].split(".")).with_suffix(".py")
    Path(cache_from_source(str(module_file))).unlink()
    module_file.unlink()
    layers = artifacts.import_paths(function_id)[1:]
    run = run_handler(aws, function_id, [code, *layers], events, tmp_path)
    assert run.returncode != 0
    missing = needed[0].rpartition(".")[2]
    assert re.search(rf"^(ModuleNotFoundError|ImportError): .*'[\w.]*\b{missing}'", run.stderr, re.MULTILINE), (
        run.stderr
    )


def test_function_code_holds_only_shared_and_its_own_service(artifacts: Artifacts) -> None:
    for function in artifacts.functions.values():
        service = function.handler.split(".")[1]
        assert {entry.name for entry in function.code_dir.iterdir()} == {"shared", "services"}
        services = {entry.name for entry in (function.code_dir / "services").iterdir()}
        assert services == {"__init__.py", "__pycache__", service}, function.function_id
        assert (function.code_dir / "shared" / "regions.json").is_file()  # package data of shared


def test_artifacts_hold_nothing_of_the_source_tree_but_runtime_code(artifacts: Artifacts) -> None:
    for folder in [*(f.code_dir for f in artifacts.functions.values()), *artifacts.layers.values()]:
        in_layer = folder in artifacts.layers.values()
        for path in folder.rglob("*"):
            relative = path.relative_to(folder)
            # a layer's packages may carry their own tests/ folders; only its top level is ours to check
            names = set(relative.parts[:2]) if in_layer else set(relative.parts)
            assert not SOURCE_TREE_ONLY & names, path
            if path.suffix == ".pyc":  # written by the build, none copied from the source tree's __pycache__
                assert int.from_bytes(path.read_bytes()[4:8], "little") == UNCHECKED_HASH_PYC, path
            if path.suffix == ".py":
                assert Path(cache_from_source(str(path))).is_file(), f"not precompiled: {path}"
    for layer in artifacts.layers.values():
        assert not {"shared", "services", "tooling"} & {entry.name for entry in (layer / "python").iterdir()}


def test_the_layer_holds_the_pinned_dependencies_and_the_boto3_the_tests_ran(artifacts: Artifacts) -> None:
    pins = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["dependencies"]
    for layer in artifacts.layers.values():
        installed = {canonical_name(d.metadata["Name"]): d.version for d in distributions(path=[str(layer / "python")])}
        for pin in pins:
            name, _, pinned = pin.partition("==")
            assert installed[canonical_name(name.partition("[")[0])] == pinned, pin
        for sdk in ("boto3", "botocore"):
            assert installed[sdk] == version(sdk), sdk


def test_the_lambda_build_fetches_wheels_for_the_templates_runtime_and_architecture() -> None:
    template = load_template(stack_name="artifacts", region="eu-central-1")
    target = Target.lambda_runtime(template.functions(), template.document["Globals"]["Function"])
    assert (target.python_version, target.architecture, target.cross) == ("3.12", "arm64", True)
    assert target.pip_platform_options() == [
        "--platform",
        "manylinux2014_aarch64",
        "--implementation",
        "cp",
        "--python-version",
        "3.12",
    ]
