"""Reads ``infra/template.yaml`` - the single source of truth - into what the local stack needs.

Tables, queues, environment, HTTP routes, queue -> function mappings and schedules all come from the template;
nothing here repeats them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ACCOUNT_ID = "123456789012"  # moto's default account
TEMPLATE_PATH = Path(__file__).resolve().parents[2] / "infra" / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that turns short-form intrinsics (``!Ref X``) into their long form (``{"Ref": "X"}``)."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


@dataclass(frozen=True)
class HttpRoute:
    """One ``HttpApi`` event of a function."""

    function_id: str
    handler: str
    method: str
    path: str
    authorized: bool

    def matches(self, method: str, path: str) -> bool:
        """True if a request with this method and path is routed to the function."""
        if self.method != "ANY" and self.method != method.upper():
            return False
        return _path_regex(self.path).fullmatch(path) is not None


@dataclass(frozen=True)
class QueueMapping:
    """One ``SQS`` event: the queue a function consumes, with its batch size."""

    function_id: str
    handler: str
    queue_id: str
    batch_size: int


@dataclass(frozen=True)
class Schedule:
    """One ``ScheduleV2`` event."""

    function_id: str
    handler: str
    expression: str
    input: str

    @property
    def period_seconds(self) -> float:
        """The period of a ``rate(N unit)`` expression."""
        match = re.fullmatch(r"rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)", self.expression)
        if match is None:
            raise ValueError(f"{self.function_id}: only rate() schedules run locally, got {self.expression}")
        unit = {"minute": 60, "hour": 3600, "day": 86400}[match.group(2).rstrip("s")]
        return int(match.group(1)) * unit


@dataclass
class Template:
    """The parts of the SAM template the local stack uses, with intrinsics resolved for one stack name."""

    stack_name: str
    region: str
    document: dict[str, Any]
    parameters: dict[str, str] = field(default_factory=dict)
    queue_urls: dict[str, str] = field(default_factory=dict)

    @property
    def resources(self) -> dict[str, Any]:
        resources: dict[str, Any] = self.document["Resources"]
        return resources

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """Logical id -> properties of every resource of the type."""
        return {
            logical_id: resource.get("Properties", {})
            for logical_id, resource in self.resources.items()
            if resource["Type"] == resource_type
        }

    # ------------------------------------------------------------ intrinsics
    def resolve(self, value: Any) -> Any:
        """Resolve ``Ref``, ``Fn::GetAtt`` and ``Fn::Sub`` recursively."""
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if "Ref" in value:
            return self._ref(value["Ref"])
        if "Fn::GetAtt" in value:
            logical_id, attribute = value["Fn::GetAtt"]
            return self._get_att(logical_id, attribute)
        if "Fn::Sub" in value:
            return re.sub(r"\$\{([^}]+)\}", lambda m: str(self._sub_var(m.group(1))), value["Fn::Sub"])
        return {key: self.resolve(item) for key, item in value.items()}

    def _sub_var(self, name: str) -> Any:
        if "." in name and not name.startswith("AWS::"):
            logical_id, attribute = name.split(".", 1)
            return self._get_att(logical_id, attribute)
        return self._ref(name)

    def _ref(self, name: str) -> Any:
        pseudo = {
            "AWS::StackName": self.stack_name,
            "AWS::Region": self.region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.document.get("Parameters", {}):
            return self.document["Parameters"][name].get("Default", "")
        resource = self.resources[name]
        if resource["Type"] == "AWS::DynamoDB::Table":
            return self.resolve(resource["Properties"]["TableName"])
        if resource["Type"] == "AWS::SQS::Queue":
            return self.queue_urls.get(name, "")
        return name

    def _get_att(self, logical_id: str, attribute: str) -> Any:
        resource = self.resources[logical_id]
        if resource["Type"] == "AWS::SQS::Queue":
            name = self.resolve(resource["Properties"]["QueueName"])
            if attribute == "QueueName":
                return name
            if attribute == "Arn":
                return f"arn:aws:sqs:{self.region}:{ACCOUNT_ID}:{name}"
        if resource["Type"] == "AWS::DynamoDB::Table" and attribute == "Arn":
            table = self.resolve(resource["Properties"]["TableName"])
            return f"arn:aws:dynamodb:{self.region}:{ACCOUNT_ID}:table/{table}"
        raise KeyError(f"unsupported Fn::GetAtt {logical_id}.{attribute}")

    # ------------------------------------------------------------ what the local stack needs
    def tables(self) -> dict[str, dict[str, Any]]:
        """Logical id -> resolved table properties."""
        return {lid: self.resolve(props) for lid, props in self.of_type("AWS::DynamoDB::Table").items()}

    def queues(self) -> dict[str, dict[str, Any]]:
        """Logical id -> resolved queue properties, dead-letter queues first."""
        queues = self.of_type("AWS::SQS::Queue")
        ordered = sorted(queues, key=lambda lid: "RedrivePolicy" in queues[lid])
        return {lid: queues[lid] for lid in ordered}

    def queue_id_by_arn(self, arn: str) -> str:
        """The logical id of the queue with this ARN."""
        for logical_id in self.of_type("AWS::SQS::Queue"):
            if self._get_att(logical_id, "Arn") == arn:
                return logical_id
        raise KeyError(arn)

    def environment(self) -> dict[str, str]:
        """The environment every function gets (Globals), resolved."""
        variables = self.document.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
        return {key: str(self.resolve(value)) for key, value in variables.items()}

    def functions(self) -> dict[str, dict[str, Any]]:
        """Logical id -> function properties."""
        return self.of_type("AWS::Serverless::Function")

    def http_routes(self) -> list[HttpRoute]:
        """Every HttpApi route, most specific first (exact paths before ``{proxy+}``)."""
        routes = []
        for function_id, props in self.functions().items():
            for event in props.get("Events", {}).values():
                if event["Type"] != "HttpApi":
                    continue
                event_props = event.get("Properties", {})
                authorizer = event_props.get("Auth", {}).get("Authorizer")
                routes.append(
                    HttpRoute(
                        function_id=function_id,
                        handler=props["Handler"],
                        method=event_props.get("Method", "ANY").upper(),
                        path=event_props.get("Path", "/$default"),
                        authorized=authorizer != "NONE",
                    )
                )
        return sorted(routes, key=lambda r: ("{proxy+}" in r.path, -len(r.path)))

    def queue_mappings(self) -> list[QueueMapping]:
        """Every SQS event source mapping."""
        mappings = []
        for function_id, props in self.functions().items():
            for event in props.get("Events", {}).values():
                if event["Type"] != "SQS":
                    continue
                arn = self.resolve(event["Properties"]["Queue"])
                mappings.append(
                    QueueMapping(
                        function_id=function_id,
                        handler=props["Handler"],
                        queue_id=self.queue_id_by_arn(arn),
                        batch_size=int(event["Properties"].get("BatchSize", 10)),
                    )
                )
        return mappings

    def schedules(self) -> list[Schedule]:
        """Every ScheduleV2 event."""
        schedules = []
        for function_id, props in self.functions().items():
            for event in props.get("Events", {}).values():
                if event["Type"] not in ("ScheduleV2", "Schedule"):
                    continue
                event_props = event["Properties"]
                schedules.append(
                    Schedule(
                        function_id=function_id,
                        handler=props["Handler"],
                        expression=event_props["ScheduleExpression"],
                        input=event_props.get("Input", json.dumps({})),
                    )
                )
        return schedules


def _path_regex(path: str) -> re.Pattern[str]:
    pattern = re.escape(path)
    pattern = pattern.replace(r"\{proxy\+\}", ".+")
    pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", pattern)
    return re.compile(pattern)


def load_template(
    *, stack_name: str, region: str, parameters: dict[str, str] | None = None, path: Path = TEMPLATE_PATH
) -> Template:
    """Load and prepare the template for one stack name."""
    document = yaml.load(path.read_text(encoding="utf-8"), Loader=_CfnLoader)
    return Template(stack_name=stack_name, region=region, document=document, parameters=parameters or {})
