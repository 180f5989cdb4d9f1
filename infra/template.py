"""Reading template.yaml: the one source of truth for tables, queues, functions and policies.

The local stack and the tests build their tables from the same resource definitions that
CloudFormation deploys, and resolve each function's environment the way CloudFormation
would, with local names for the resources.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"


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


@lru_cache(maxsize=1)
def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
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


def resolve(value: Any, names: dict[str, str], parameters: dict[str, str]) -> str:
    """A template value (`!Ref X`, `!GetAtt X.Arn`, `!Sub`, a string) as the local stack sees it."""
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, dict) and "Ref" in value:
        ref = value["Ref"]
        return parameters.get(ref) or names.get(ref) or ref
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        return f"{names.get(logical_id, logical_id)}.{attribute}"
    if isinstance(value, dict) and "Fn::Sub" in value:
        text = value["Fn::Sub"]
        for key, replacement in (parameters | names).items():
            text = text.replace("${" + key + "}", replacement)
        return str(text)
    raise ValueError(f"cannot resolve {value!r} locally")


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
