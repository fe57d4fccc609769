"""The console's API contract against the services' OpenAPI: a changed route or field breaks these, not the console."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest

from tests.console.contract import CONTRACT_FILE, contract, find_operation, problems, services_openapi

CONSOLE_JS = CONTRACT_FILE.parent
CALL = re.compile(r"""\b(?:api|reader)\.(?:call|all|upload|has|url|operation)\(\s*["'](\w+)["']""")


@pytest.mark.parametrize("op_id", sorted(contract()))
def test_every_operation_the_console_calls_matches_the_openapi(op_id: str) -> None:
    entry = contract()[op_id]
    spec = services_openapi()
    if entry.get("coming") and find_operation(spec, entry["method"], entry["path"]) is None:
        pytest.skip(f"{entry['method'].upper()} {entry['path']} is not served yet (the console explains its absence)")
    assert problems(spec, op_id, entry) == []


def test_operations_not_marked_coming_are_all_served() -> None:
    spec = services_openapi()
    missing = [
        op_id
        for op_id, entry in contract().items()
        if not entry.get("coming") and find_operation(spec, entry["method"], entry["path"]) is None
    ]
    assert missing == []


def test_every_operation_named_in_the_screens_is_in_the_contract() -> None:
    named = {
        (path.name, name)
        for path in Path(CONSOLE_JS).rglob("*.js")
        for name in CALL.findall(path.read_text(encoding="utf-8"))
    }
    assert named, "no API calls found in the console's scripts"
    unknown = sorted(f"{file}: {name}" for file, name in named if name not in contract())
    assert unknown == []


def test_only_the_api_module_and_sign_in_use_fetch() -> None:
    """Every service route goes through api.js (and so through the contract); auth.js calls only /_local/token."""
    using_fetch = {
        path.relative_to(CONSOLE_JS).as_posix()
        for path in Path(CONSOLE_JS).rglob("*.js")
        if re.search(r"\bfetch\(|XMLHttpRequest", path.read_text(encoding="utf-8"))
    }
    assert using_fetch <= {"api.js", "auth.js", "main.js"}, using_fetch
    auth = (CONSOLE_JS / "auth.js").read_text(encoding="utf-8")
    assert set(re.findall(r"fetch\(`\$\{base\}([^`]*)`", auth)) == {"/_local/token"}


def test_a_removed_field_or_route_is_reported() -> None:
    spec = copy.deepcopy(services_openapi())
    del spec["components"]["schemas"]["Appeal"]["properties"]["due_at"]
    assert problems(spec, "getAppeal", contract()["getAppeal"]) == [
        "getAppeal (GET /appeals/{appeal_id}): the response has no field due_at"
    ]
    del spec["paths"]["/registry/coverage"]
    assert problems(spec, "coverage", contract()["coverage"]) == ["coverage (GET /registry/coverage): no such route"]


def test_a_removed_59fz_field_is_reported_for_the_panel_and_its_forms() -> None:
    spec = copy.deepcopy(services_openapi())
    del spec["components"]["schemas"]["FormalTrack"]["properties"]["extension_days"]
    del spec["components"]["schemas"]["Extension"]["properties"]["notice"]
    assert problems(spec, "getAppeal", contract()["getAppeal"]) == [
        "getAppeal (GET /appeals/{appeal_id}): the response has no field formal.extension_days"
    ]
    assert problems(spec, "extendAppeal", contract()["extendAppeal"]) == [
        "extendAppeal (POST /appeals/{appeal_id}/extension): the body has no field notice",
        "extendAppeal (POST /appeals/{appeal_id}/extension): the response has no field formal.extension_days",
    ]
