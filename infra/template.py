"""Reading template.yaml: the one source of truth for tables, queues, functions and policies.

The local stack and the tests build their tables from the same resource definitions that
CloudFormation deploys, and resolve each function's environment the way CloudFormation
would, with local names for the resources.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account: the local ARNs name it

_template = TEMPLATE


class _CfnLoader(yaml.SafeLoader):
    """A YAML loader that keeps CloudFormation's short-form tags as `{"Fn::X": value}`."""


def _construct_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Any:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if name == "Fn::GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def use_template(path: Path) -> None:
    """Read another template from now on (the local stack's `--template`)."""
    global _template
    _template = path.resolve()


def load_template(path: Path | None = None) -> dict[str, Any]:
    return _load(path or _template)


@lru_cache(maxsize=4)
def _load(path: Path) -> dict[str, Any]:
    with path.open() as handle:
        return dict(yaml.load(handle, Loader=_CfnLoader))


def resources(kind: str) -> dict[str, dict[str, Any]]:
    return {
        name: res for name, res in load_template()["Resources"].items() if res.get("Type") == kind
    }


def local_name(logical_id: str, prefix: str = "local") -> str:
    return f"{prefix}-{logical_id}"


def create_table_arguments(logical_id: str, prefix: str = "local") -> dict[str, Any]:
    """The `CreateTable` call for one `AWS::DynamoDB::Table` of the template."""
    props = copy.deepcopy(resources("AWS::DynamoDB::Table")[logical_id]["Properties"])
    args: dict[str, Any] = {
        "TableName": local_name(logical_id, prefix),
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if props.get("GlobalSecondaryIndexes"):
        args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    return args


def time_to_live(logical_id: str) -> dict[str, Any] | None:
    props = resources("AWS::DynamoDB::Table")[logical_id]["Properties"]
    spec = props.get("TimeToLiveSpecification")
    return dict(spec) if spec else None


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_uri: Path
    handler: str
    timeout: int
    environment: dict[str, Any] = field(default_factory=dict)
    policies: list[Any] = field(default_factory=list)
    events: dict[str, Any] = field(default_factory=dict)

    @property
    def module_file(self) -> Path:
        module, _ = self.handler.rsplit(".", 1)
        return self.code_uri / f"{module.replace('.', '/')}.py"

    @property
    def function_name(self) -> str:
        return self.handler.rsplit(".", 1)[1]


def functions() -> dict[str, FunctionSpec]:
    template = load_template()
    globals_fn = template.get("Globals", {}).get("Function", {})
    global_env = globals_fn.get("Environment", {}).get("Variables", {})
    specs = {}
    for name, res in resources("AWS::Serverless::Function").items():
        props = res["Properties"]
        env = dict(global_env) | props.get("Environment", {}).get("Variables", {})
        specs[name] = FunctionSpec(
            logical_id=name,
            code_uri=ROOT / props["CodeUri"],
            handler=props["Handler"],
            timeout=int(props.get("Timeout", globals_fn.get("Timeout", 3))),
            environment=env,
            policies=list(props.get("Policies", [])),
            events=dict(props.get("Events", {})),
        )
    return specs


Attributes = Mapping[str, Mapping[str, str]]
"""Logical id -> {"Ref": ..., "Arn": ..., "QueueName": ...}: what the local stack created."""

_SUB_VARIABLE = re.compile(r"\$\{([^}]+)\}")


def resolve(value: Any, attributes: Attributes, parameters: Mapping[str, str]) -> str:
    """A template value as the local stack sees it.

    `!Ref` and `!GetAtt` read `attributes` (a parameter wins over a resource for `!Ref`, as
    in CloudFormation); `!Sub` (both forms) and `!Join` are built from those. Anything
    not created locally is an error that names it, rather than a value that looks right.
    """
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, dict) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Ref":
            return _ref(str(argument), attributes, parameters)
        if function == "Fn::GetAtt":
            logical_id, attribute = (
                argument.split(".", 1) if isinstance(argument, str) else argument
            )
            return _get_att(logical_id, attribute, attributes)
        if function == "Fn::Sub":
            return _sub(argument, attributes, parameters)
        if function == "Fn::Join":
            separator, parts = argument
            return str(separator).join(resolve(part, attributes, parameters) for part in parts)
        if function == "Fn::If":  # only the branch the condition picks is resolved
            condition, when_true, when_false = argument
            chosen = when_true if condition_holds(condition, attributes, parameters) else when_false
            return resolve(chosen, attributes, parameters)
    raise ValueError(f"cannot resolve {value!r} locally")


def condition_holds(name: str, attributes: Attributes, parameters: Mapping[str, str]) -> bool:
    """A template condition (`Fn::Equals`, `Fn::Not`, `Fn::And`, `Fn::Or`) for the local stack."""
    conditions = load_template().get("Conditions") or {}
    if name not in conditions:
        raise ValueError(f"condition {name}: the template has no such condition")
    return _holds(conditions[name], attributes, parameters)


def _holds(value: Any, attributes: Attributes, parameters: Mapping[str, str]) -> bool:
    ((function, argument),) = value.items()
    if function == "Condition":
        return condition_holds(str(argument), attributes, parameters)
    if function == "Fn::Equals":
        left, right = (resolve(part, attributes, parameters) for part in argument)
        return left == right
    if function == "Fn::Not":
        return not _holds(argument[0], attributes, parameters)
    if function == "Fn::And":
        return all(_holds(part, attributes, parameters) for part in argument)
    if function == "Fn::Or":
        return any(_holds(part, attributes, parameters) for part in argument)
    raise ValueError(f"cannot evaluate the condition {value!r} locally")


def _ref(name: str, attributes: Attributes, parameters: Mapping[str, str]) -> str:
    if name in parameters:
        return parameters[name]
    if "Ref" in attributes.get(name, {}):
        return attributes[name]["Ref"]
    raise ValueError(f"!Ref {name}: the local stack has no such parameter or resource")


def _get_att(logical_id: str, attribute: str, attributes: Attributes) -> str:
    try:
        return attributes[logical_id][attribute]
    except KeyError:
        raise ValueError(
            f"!GetAtt {logical_id}.{attribute}: the local stack does not provide it"
        ) from None


def _sub(argument: Any, attributes: Attributes, parameters: Mapping[str, str]) -> str:
    if isinstance(argument, list):
        text, variables = argument
        local = {key: resolve(value, attributes, parameters) for key, value in variables.items()}
    else:
        text, local = argument, {}

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("!"):  # ${!Literal} stays as ${Literal}
            return "${" + name[1:] + "}"
        if name in local:
            return local[name]
        if "." in name and name not in parameters:
            logical_id, attribute = name.split(".", 1)
            return _get_att(logical_id, attribute, attributes)
        return _ref(name, attributes, parameters)

    return _SUB_VARIABLE.sub(substitute, str(text))


def pseudo_parameters(stack_name: str = "background-posting-local") -> dict[str, str]:
    """CloudFormation's `AWS::` parameters, with the local region and account."""
    return {
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT_ID,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackName": stack_name,
        "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{stack_name}/local",
        "AWS::NoValue": "",
    }


def parameter_defaults() -> dict[str, str]:
    return {
        name: str(spec.get("Default", ""))
        for name, spec in load_template().get("Parameters", {}).items()
    }


def layer_paths() -> list[Path]:
    """Where each layer's code sits locally (Lambda puts it on the path from /opt/python)."""
    return [
        ROOT / res["Properties"]["ContentUri"]
        for res in resources("AWS::Serverless::LayerVersion").values()
    ]
