"""The SAM template keeps the rules the design card sets (delivery, portability, least privilege)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tooling.local.template import load_template

TEMPLATE = load_template(stack_name="unit", region="eu-central-1")
FUNCTIONS = TEMPLATE.functions()
GLOBAL_TIMEOUT = TEMPLATE.document["Globals"]["Function"]["Timeout"]


def test_every_queue_that_a_function_consumes_has_a_dlq_with_five_receives_and_long_enough_visibility() -> None:
    queues = TEMPLATE.of_type("AWS::SQS::Queue")
    for mapping in TEMPLATE.queue_mappings():
        props = queues[mapping.queue_id]
        redrive = props["RedrivePolicy"]
        assert redrive["maxReceiveCount"] == 5
        dlq_id = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
        assert queues[dlq_id]["MessageRetentionPeriod"] == 1209600
        timeout = FUNCTIONS[mapping.function_id].get("Timeout", GLOBAL_TIMEOUT)
        assert props["VisibilityTimeout"] >= 6 * timeout, mapping


def test_every_queue_has_a_dead_letter_queue() -> None:
    queues = TEMPLATE.of_type("AWS::SQS::Queue")
    dlqs = {
        props["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for props in queues.values()
        if "RedrivePolicy" in props
    }
    assert set(queues) == dlqs | {lid for lid, props in queues.items() if "RedrivePolicy" in props}


def test_sqs_events_report_partial_batch_failures() -> None:
    for function in FUNCTIONS.values():
        for event in function.get("Events", {}).values():
            if event["Type"] == "SQS":
                assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_tables_use_only_the_yandex_compatible_subset() -> None:
    for props in TEMPLATE.of_type("AWS::DynamoDB::Table").values():
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert "LocalSecondaryIndexes" not in props
        assert "StreamSpecification" not in props
        for index in props.get("GlobalSecondaryIndexes", []):
            assert index["Projection"] == {"ProjectionType": "ALL"}
        assert props["TimeToLiveSpecification"]["Enabled"] is True


def test_resource_names_derive_from_the_stack_name() -> None:
    for props in TEMPLATE.tables().values():
        assert props["TableName"].startswith("unit-")
    for raw in TEMPLATE.queues().values():
        assert TEMPLATE.resolve(raw["QueueName"]).startswith("unit-")


def test_only_the_vk_callback_and_health_routes_skip_the_jwt_authorizer() -> None:
    public = {(route.method, route.path) for route in TEMPLATE.http_routes() if not route.authorized}
    assert public == {("POST", "/vk/callback"), ("GET", "/health")}


def test_schedules_run_in_moscow_time_and_pass_the_execution_id() -> None:
    for function in FUNCTIONS.values():
        for event in function.get("Events", {}).values():
            if event["Type"] == "ScheduleV2":
                assert event["Properties"]["ScheduleExpressionTimezone"] == "Europe/Moscow"
                assert "<aws.scheduler.execution-id>" in event["Properties"]["Input"]


def test_every_function_has_least_privilege_policies() -> None:
    for function_id, function in FUNCTIONS.items():
        policies = function["Policies"]
        assert policies, function_id
        assert not any(isinstance(p, str) and p.endswith("FullAccess") for p in policies), function_id


@pytest.mark.parametrize("function_id", sorted(FUNCTIONS))
def test_handler_imports_and_workers_do_not_import_fastapi(function_id: str) -> None:
    handler = FUNCTIONS[function_id]["Handler"]
    module, _, attribute = handler.rpartition(".")
    is_api = any(event["Type"] == "HttpApi" for event in FUNCTIONS[function_id].get("Events", {}).values())
    probe = (
        "import importlib, json, sys; "
        f"m = importlib.import_module({module!r}); "
        f"assert callable(getattr(m, {attribute!r})); "
        "print(json.dumps('fastapi' in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) is is_api


def test_functions_run_the_code_of_their_service_and_the_dependencies_layer() -> None:
    function_globals = TEMPLATE.document["Globals"]["Function"]
    assert "Tracing" not in function_globals  # nothing ships or uses an X-Ray SDK
    assert "CodeUri" not in function_globals  # `../` would ship the whole checkout
    layers = TEMPLATE.of_type("AWS::Serverless::LayerVersion")
    assert function_globals["Layers"] == [{"Ref": layer_id} for layer_id in layers]
    for function_id, function in FUNCTIONS.items():
        service = function["Handler"].split(".")[1]
        assert function["CodeUri"] == f"../services/{service}", function_id
        assert "Layers" not in function and "Runtime" not in function and "Architectures" not in function, function_id


def test_the_dependencies_layer_is_pyproject_for_the_functions_runtime() -> None:
    function_globals = TEMPLATE.document["Globals"]["Function"]
    for props in TEMPLATE.of_type("AWS::Serverless::LayerVersion").values():
        assert props["ContentUri"] == "../pyproject.toml"
        assert props["CompatibleRuntimes"] == [function_globals["Runtime"]]
        assert props["CompatibleArchitectures"] == function_globals["Architectures"]
