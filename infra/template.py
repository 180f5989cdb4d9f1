"""Reading template.yaml: the one source of truth for tables, queues, functions and policies.

The local stack and the tests build their tables from the same resource definitions that
CloudFormation deploys, and resolve each function's environment the way CloudFormation
would, with local names for the resources.

A nested stack with a local template file (an `AWS::Serverless::Application` whose
`Location`, or an `AWS::CloudFormation::Stack` whose `TemplateURL`, is a path next to the
template) is read in place: each of its resources is a resource of the template named
`<stack><resource>` (the application `Posting`'s `Queue` is `PostingQueue`), with the
parameters the template passes it, and `!GetAtt <stack>.Outputs.<name>` resolves to what
that output names.
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
    """The template's resources of one type, the nested stacks' among them."""
    return {name: res for name, res in all_resources().items() if res.get("Type") == kind}


def all_resources() -> dict[str, dict[str, Any]]:
    """Every resource: the template's, then each nested stack's as `<stack><resource>`."""
    return _all_resources(_template)


@lru_cache(maxsize=4)
def _all_resources(path: Path) -> dict[str, dict[str, Any]]:
    everything = dict(_load(path)["Resources"])
    for stack in _nested_stacks(path).values():
        for logical_id, resource in stack.resources().items():
            if logical_id in everything:
                raise ValueError(f"{stack.logical_id}'s {logical_id} is also the template's")
            everything[logical_id] = resource
    return everything


# ---------------------------------------------------------------------------
# Nested stacks with a local template
# ---------------------------------------------------------------------------

_NO_VALUE = {"Ref": "AWS::NoValue"}
_NESTED_LOCATION = {
    "AWS::Serverless::Application": "Location",
    "AWS::CloudFormation::Stack": "TemplateURL",
}


@dataclass(frozen=True)
class NestedStack:
    """A nested stack whose template is a file next to the template, in the template's terms."""

    logical_id: str
    path: Path
    template: dict[str, Any]
    parameters: dict[str, Any]  # each of its parameters: the value passed, else its default

    def flat_id(self, name: str) -> str:
        return f"{self.logical_id}{name}"

    def resources(self) -> dict[str, dict[str, Any]]:
        """Its resources whose condition holds, named and referring as the template's."""
        flat: dict[str, dict[str, Any]] = {}
        for name, resource in self.template.get("Resources", {}).items():
            if "Condition" in resource and not self.condition_holds(resource["Condition"]):
                continue
            copied = {key: value for key, value in resource.items() if key != "Condition"}
            if "DependsOn" in copied:
                depends = copied["DependsOn"]
                names = [depends] if isinstance(depends, str) else depends
                copied["DependsOn"] = [self._resource(str(other)) for other in names]
            flat[self.flat_id(name)] = self.in_template(copied)
        return flat

    def output(self, name: str) -> Any:
        """The value of one of its outputs, in the template's terms."""
        outputs = self.template.get("Outputs", {})
        if name not in outputs:
            raise ValueError(f"{self.logical_id} ({self.path.name}) has no output {name}")
        output = outputs[name]
        if "Condition" in output and not self.condition_holds(output["Condition"]):
            raise ValueError(
                f"{self.logical_id}.Outputs.{name}: its condition {output['Condition']} is false"
            )
        return self.in_template(output["Value"])

    def condition_holds(self, name: str) -> bool:
        """One of its conditions, on the values passed that are known before deploying (a
        literal, or the template's own parameter at its default)."""
        known = pseudo_parameters() | parameter_defaults()
        values: dict[str, str] = {}
        for key, value in self.parameters.items():
            try:
                values[key] = resolve(value, {}, known)
            except ValueError:
                continue  # a resource's attribute: a condition on it is an error naming it
        return condition_holds(name, {}, values, self.template.get("Conditions") or {})

    def in_template(self, value: Any) -> Any:
        """A value of the nested template, its parameters replaced by what the template passes
        and its resources named `<stack><resource>`."""
        if isinstance(value, list):
            return [item for item in map(self.in_template, value) if item != _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((function, argument),) = value.items()
            if function == "Ref" and argument in self.parameters:
                return copy.deepcopy(self.parameters[argument])
            if function == "Ref" and not str(argument).startswith("AWS::"):
                return {"Ref": self._resource(str(argument))}
            if function == "Fn::GetAtt":
                name, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
                return {"Fn::GetAtt": [self._resource(str(name)), attribute]}
            if function == "Fn::If":
                condition, when_true, when_false = argument
                return self.in_template(
                    when_true if self.condition_holds(condition) else when_false
                )
            if function == "Fn::Sub":
                return self._sub(argument)
        converted = {key: self.in_template(inner) for key, inner in value.items()}
        return {key: inner for key, inner in converted.items() if inner != _NO_VALUE}

    def _resource(self, name: str) -> str:
        if name not in self.template.get("Resources", {}):
            raise ValueError(
                f"{self.logical_id} ({self.path.name}): no parameter or resource {name}"
            )
        return self.flat_id(name)

    def _sub(self, argument: Any) -> dict[str, Any]:
        text, variables = argument if isinstance(argument, list) else (argument, {})
        variables = {key: self.in_template(inner) for key, inner in variables.items()}

        def rename(match: re.Match[str]) -> str:
            name = match.group(1)
            base, dot, attribute = name.partition(".")
            if name.startswith("!") or name.startswith("AWS::") or name in variables:
                return match.group(0)
            if base in self.parameters and not dot:
                variables[name] = copy.deepcopy(self.parameters[name])
                return match.group(0)
            return "${" + self._resource(base) + dot + attribute + "}"

        renamed = _SUB_VARIABLE.sub(rename, str(text))
        return {"Fn::Sub": [renamed, variables] if variables else renamed}


def nested_stacks() -> dict[str, NestedStack]:
    """The template's nested stacks whose template is a local file (one level: a stack such a
    file nests in turn is one of its resources, not read)."""
    return _nested_stacks(_template)


@lru_cache(maxsize=4)
def _nested_stacks(path: Path) -> dict[str, NestedStack]:
    stacks: dict[str, NestedStack] = {}
    for logical_id, resource in _load(path)["Resources"].items():
        key = _NESTED_LOCATION.get(str(resource.get("Type")))
        location = resource.get("Properties", {}).get(key) if key else None
        if not isinstance(location, str) or "://" in location:
            continue  # a published application or an S3 URL: nothing local to read
        nested_path = (path.parent / location).resolve()
        nested = _load(nested_path)
        declared = nested.get("Parameters", {})
        passed = dict(resource["Properties"].get("Parameters", {}))
        unknown = set(passed) - set(declared)
        if unknown:
            raise ValueError(f"{logical_id}: {location} has no parameter {sorted(unknown)}")
        parameters: dict[str, Any] = {}
        for name, spec in declared.items():
            if name not in passed and "Default" not in spec:
                raise ValueError(f"{logical_id}: {location}'s parameter {name} needs a value")
            parameters[name] = passed.get(name, spec.get("Default"))
        stacks[logical_id] = NestedStack(logical_id, nested_path, nested, parameters)
    return stacks


def follow_outputs(logical_id: str, attribute: str) -> tuple[str, str]:
    """`!GetAtt <stack>.Outputs.<name>` as the resource and attribute that output gives
    (`("Posting", "Outputs.QueueArn")` -> `("PostingQueue", "Arn")`); anything else as it is."""
    stacks = nested_stacks()
    while logical_id in stacks and attribute.startswith("Outputs."):
        value = stacks[logical_id].output(attribute.removeprefix("Outputs."))
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            logical_id, attribute = value["Fn::GetAtt"]
        elif isinstance(value, dict) and set(value) == {"Ref"}:
            logical_id, attribute = value["Ref"], "Ref"
        else:
            raise ValueError(f"{logical_id}.{attribute} is not one resource's attribute: {value!r}")
    return logical_id, attribute


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
            return _get_att(logical_id, attribute, attributes, parameters)
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


def condition_holds(
    name: str,
    attributes: Attributes,
    parameters: Mapping[str, str],
    conditions: Mapping[str, Any] | None = None,
) -> bool:
    """A template condition (`Fn::Equals`, `Fn::Not`, `Fn::And`, `Fn::Or`) for the local stack
    (`conditions`: a nested template's, not the template's)."""
    if conditions is None:
        conditions = load_template().get("Conditions") or {}
    if name not in conditions:
        raise ValueError(f"condition {name}: the template has no such condition")
    return _holds(conditions[name], attributes, parameters, conditions)


def _holds(
    value: Any, attributes: Attributes, parameters: Mapping[str, str], conditions: Mapping[str, Any]
) -> bool:
    ((function, argument),) = value.items()
    if function == "Condition":
        return condition_holds(str(argument), attributes, parameters, conditions)
    if function == "Fn::Equals":
        left, right = (resolve(part, attributes, parameters) for part in argument)
        return left == right
    if function == "Fn::Not":
        return not _holds(argument[0], attributes, parameters, conditions)
    if function == "Fn::And":
        return all(_holds(part, attributes, parameters, conditions) for part in argument)
    if function == "Fn::Or":
        return any(_holds(part, attributes, parameters, conditions) for part in argument)
    raise ValueError(f"cannot evaluate the condition {value!r} locally")


def _ref(name: str, attributes: Attributes, parameters: Mapping[str, str]) -> str:
    if name in parameters:
        return parameters[name]
    if "Ref" in attributes.get(name, {}):
        return attributes[name]["Ref"]
    raise ValueError(f"!Ref {name}: the local stack has no such parameter or resource")


def _get_att(
    logical_id: str, attribute: str, attributes: Attributes, parameters: Mapping[str, str]
) -> str:
    if attribute not in attributes.get(logical_id, {}) and attribute.startswith("Outputs."):
        stack = nested_stacks().get(logical_id)
        if stack is not None:  # what the nested stack's output names, resolved
            return resolve(stack.output(attribute.removeprefix("Outputs.")), attributes, parameters)
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
            return _get_att(logical_id, attribute, attributes, parameters)
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
