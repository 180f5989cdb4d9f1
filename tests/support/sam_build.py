"""`sam build` of the template as committed (arm64) or for this machine, and a built handler
imported as Lambda would: what tests/integration/test_sam_build.py checks and the benchmark's
"cold start as deployed" measures (bench/coldstart.py)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import yaml

from infra.template import ROOT, _CfnLoader

SAM = ROOT / ".venv-sam" / "bin" / "sam"
BUILDS = ROOT / ".aws-sam"
# What `sam build` reads: a change to any of these rebuilds
INPUTS = [
    ROOT / "template.yaml",
    ROOT / "infra" / "queue.yaml",
    ROOT / "layers" / "common",
    ROOT / "functions",
]
REGION = "eu-west-2"
MACHINE = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}


def _inputs_hash(architecture: str) -> str:
    digest = hashlib.sha256(architecture.encode())
    for base in INPUTS:
        files = [base] if base.is_file() else sorted(base.rglob("*"))
        for path in files:
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(ROOT)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _template_for(architecture: str, directory: Path) -> Path:
    """template.yaml as committed, or a copy built for another architecture (paths absolute)."""
    source = ROOT / "template.yaml"
    if architecture == "arm64":
        return source
    text = source.read_text()
    text = re.sub(r"(Architectures: \[)arm64(\])", rf"\g<1>{architecture}\g<2>", text)
    text = text.replace("BuildArchitecture: arm64", f"BuildArchitecture: {architecture}")
    text = re.sub(
        r"^(\s+(?:CodeUri|ContentUri|Location): )(\S+)$",
        lambda m: f"{m[1]}{ROOT / m[2]}",
        text,
        flags=re.MULTILINE,
    )
    assert f"[{architecture}]" in text and "arm64" not in text, "every architecture rewritten"
    copy = directory / "template.yaml"
    copy.write_text(text)
    return copy


def sam_build(architecture: str) -> Path:
    """The build directory of the template for `architecture` (built unless already built)."""
    key = f"test-{architecture}-{_inputs_hash(architecture)}"
    work = BUILDS / key
    built = work / "build"
    if (built / "template.yaml").is_file():
        return built
    for stale in BUILDS.glob(f"test-{architecture}-*"):
        shutil.rmtree(stale, ignore_errors=True)
    work.mkdir(parents=True)
    template = _template_for(architecture, work)
    environment = os.environ | {
        "LAYER_ARCH": "aarch64" if architecture == "arm64" else "x86_64",
        "SAM_CLI_TELEMETRY": "0",
        "PYTHON": sys.executable,
    }
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    result = subprocess.run(
        [str(SAM), "build", "--template", str(template), "--build-dir", str(built),
         "--cache-dir", str(work / "cache")],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, f"sam build ({architecture}) failed:\n{result.stdout[-4000:]}"
    return built


def _dummy(value: Any, parameters: dict[str, str]) -> Any:
    """A template value with a dummy where CloudFormation puts a name, an ARN or a URL."""
    if not isinstance(value, dict):
        return str(value)
    ((name, argument),) = value.items()
    if name == "Ref":
        return parameters.get(argument, f"dummy-{argument}")
    if name == "Fn::GetAtt":
        parts = argument if isinstance(argument, list) else argument.split(".")
        if parts[-1].endswith("Url"):
            return f"https://sqs.{REGION}.amazonaws.com/123456789012/dummy-{parts[0]}"
        if parts[-1].endswith("QueueArn"):  # a nested queue stack's (dead-letter) queue
            return f"arn:aws:sqs:{REGION}:123456789012:dummy-{parts[0]}"
        if parts[-1].endswith("Arn"):
            return f"arn:aws:lambda:{REGION}:123456789012:function:dummy-{parts[0]}"
        return f"dummy-{'-'.join(parts)}"
    if name == "Fn::Sub":
        text = argument if isinstance(argument, str) else argument[0]
        return re.sub(r"\$\{([^}]+)\}", lambda m: _dummy({"Ref": m[1]}, parameters), text)
    if name == "Fn::If":
        return _dummy(argument[2], parameters)  # the branch a stack without the option takes
    if name == "Fn::Join":
        return argument[0].join(_dummy(part, parameters) for part in argument[1])
    raise AssertionError(f"no dummy for {name}")


def built_environment(template: dict[str, Any], logical_id: str) -> dict[str, str]:
    """What Lambda starts the function with: the built template's variables and Lambda's own."""
    parameters = {
        name: str(spec.get("Default", f"dummy-{name}"))
        for name, spec in template.get("Parameters", {}).items()
    } | {"AWS::Region": REGION, "AWS::AccountId": "123456789012", "AWS::StackName": "built"}
    variables = dict(template["Globals"]["Function"]["Environment"]["Variables"])
    properties = template["Resources"][logical_id]["Properties"]
    variables |= properties.get("Environment", {}).get("Variables", {})
    resolved = {key: _dummy(value, parameters) for key, value in variables.items()}
    return resolved | {
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_LAMBDA_FUNCTION_NAME": logical_id,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(template["Globals"]["Function"]["MemorySize"]),
        "AWS_ACCESS_KEY_ID": "ASIADUMMY",
        "AWS_SECRET_ACCESS_KEY": "dummy",
        "AWS_SESSION_TOKEN": "dummy",
        "LAMBDA_TASK_ROOT": "/var/task",
        "TZ": ":UTC",
        "LANG": "en_US.UTF-8",
        "PATH": "/usr/local/bin:/usr/bin:/bin",
    }


# Runs in the fresh interpreter (-I -S: no site-packages, no PYTHON* variables)
IMPORT = textwrap.dedent(
    """
    import importlib, json, sys
    task, layer, module = sys.argv[1:4]
    sys.path[:0] = [task, layer + "/lib/python3.11/site-packages", layer]
    importlib.import_module(module)
    print(json.dumps(sorted(
        name for name, m in sys.modules.items()
        if (getattr(m, "__file__", None) or "").startswith((task, layer))
    )))
    """
)


def import_built_handler(built: Path, template: dict[str, Any], logical_id: str) -> list[str]:
    """Import the function's handler as Lambda would; the modules it loaded from the build."""
    properties = template["Resources"][logical_id]["Properties"]
    task = built.resolve() / properties["CodeUri"]
    layer = (
        built.resolve()
        / template["Resources"]["CommonLayer"]["Properties"]["ContentUri"]
        / "python"
    )
    module = properties["Handler"].rsplit(".", 1)[0]
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", IMPORT, str(task), str(layer), module],
        env=built_environment(template, logical_id), capture_output=True, text=True,
        timeout=120, check=False, cwd=task,
    )  # fmt: skip
    assert result.returncode == 0, f"{logical_id} does not import:\n{result.stderr[-3000:]}"
    return list(json.loads(result.stdout))


def load_built(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load(path.read_text(), Loader=_CfnLoader)
    return loaded
