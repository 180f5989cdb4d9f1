"""Cold start: importing a function's handler module against importing its third-party
dependencies alone, each in a fresh interpreter, alternating, medians of several runs.

A first interpreter imports the handler as Lambda does (the function's code directory and
the layer on `sys.path`), counting the botocore clients and AWS requests made at import
(both should be none), and lists the third-party modules the import loaded, in the order it
loaded them. Then, alternately, one interpreter times `import handler` and another times
importing exactly that list of modules. Bytecode is compiled once into a private cache
(PYTHONPYCACHEPREFIX) by the first interpreter, so neither side pays for compiling. Each import
is timed in wall time (the target's figure) and in the interpreter's CPU time, which leaves
out the time it waited for a CPU on a shared machine.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.stack import ENVIRONMENT
from infra.resources import function_environment, placeholder_attributes
from infra.template import (
    ROOT,
    FunctionSpec,
    functions,
    layer_paths,
    parameter_defaults,
    pseudo_parameters,
)

_PATH = "import sys; sys.path[:0] = {paths!r}\n"

_COUNTING = """
import json
import botocore.client, botocore.session
counts = {{"clients": 0, "requests": 0}}
create, call = botocore.session.Session.create_client, botocore.client.BaseClient._make_api_call
def counted_create(*a, **k):
    counts["clients"] += 1
    return create(*a, **k)
def counted_call(*a, **k):
    counts["requests"] += 1
    return call(*a, **k)
botocore.session.Session.create_client = counted_create
botocore.client.BaseClient._make_api_call = counted_call
before = set(sys.modules)
"""

_DISCOVER = (
    _PATH
    + _COUNTING
    + """
import {module}
modules = []
for name in [m for m in list(sys.modules) if m not in before]:
    module = sys.modules.get(name)
    where = getattr(module, "__file__", None) or next(iter(getattr(module, "__path__", [])), "")
    if "site-packages" in str(where):
        modules.append(name)
print(json.dumps(counts | {{"modules": modules}}))
"""
)

_DISCOVER_DEPENDENCIES = (
    _PATH
    + _COUNTING
    + """
import importlib
failed = 0
for name in {names!r}:
    try:
        importlib.import_module(name)
    except Exception:
        failed += 1
print(json.dumps(counts | {{"failed": failed}}))
"""
)

_HANDLER = (
    _PATH
    + """
import time
started, cpu = time.perf_counter(), time.process_time()
import {module}
print(time.perf_counter() - started, time.process_time() - cpu)
"""
)

_DEPENDENCIES = (
    _PATH
    + """
import importlib, time
names = {names!r}
started, cpu = time.perf_counter(), time.process_time()
for name in names:
    try:
        importlib.import_module(name)
    except Exception:
        pass
print(time.perf_counter() - started, time.process_time() - cpu)
"""
)


def _python(code: str, env: dict[str, str]) -> str:
    answer = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return answer.stdout.strip().splitlines()[-1]


def _environment(spec: FunctionSpec, cache: Path) -> dict[str, str]:
    """The function's environment as deployed (a handler reads its settings at import), with
    placeholder names: importing it sends no request."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    parameters = pseudo_parameters() | parameter_defaults()
    deployed = function_environment(spec, placeholder_attributes(), parameters)
    return env | deployed | ENVIRONMENT | {"PYTHONPYCACHEPREFIX": str(cache)}


def measure_function(spec: FunctionSpec, runs: int, cache: Path) -> dict[str, Any]:
    env = _environment(spec, cache)
    paths = [str(spec.code_uri), *(str(p) for p in layer_paths())]
    module = spec.handler.rsplit(".", 1)[0]
    found = json.loads(_python(_DISCOVER.format(paths=paths, module=module), env))
    alone = json.loads(
        _python(_DISCOVER_DEPENDENCIES.format(paths=paths, names=found["modules"]), env)
    )
    handler_code = _HANDLER.format(paths=paths, module=module)
    dependencies_code = _DEPENDENCIES.format(paths=paths, names=found["modules"])
    handler_times, dependency_times = [], []
    handler_cpu, dependency_cpu = [], []
    for _ in range(runs):
        wall, cpu = map(float, _python(handler_code, env).split())
        handler_times.append(wall)
        handler_cpu.append(cpu)
        wall, cpu = map(float, _python(dependencies_code, env).split())
        dependency_times.append(wall)
        dependency_cpu.append(cpu)
    handler, dependencies = statistics.median(handler_times), statistics.median(dependency_times)
    return {
        "import_ratio": handler / dependencies,
        "handler_import_s": handler,
        "dependencies_import_s": dependencies,
        # CPU time of the same imports: on a shared machine wall time also counts the time an
        # interpreter waited for a CPU (docs/performance.md)
        "import_ratio_cpu": statistics.median(handler_cpu) / statistics.median(dependency_cpu),
        "handler_runs_s": handler_times,
        "dependency_runs_s": dependency_times,
        "handler_runs_cpu_s": handler_cpu,
        "dependency_runs_cpu_s": dependency_cpu,
        "third_party_modules": len(found["modules"]),
        "third_party_modules_failed": alone["failed"],
        "clients_at_import": found["clients"],
        "clients_at_import_by_dependencies": alone["clients"],
        "requests_at_import": found["requests"],
    }


def measure(runs: int) -> dict[str, dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="bench-pycache-") as cache:
        return {
            name: measure_function(spec, runs, Path(cache))
            for name, spec in sorted(functions().items())
        }


# ---------------------------------------------------------------------------
# Cold start as deployed: the built layer, with its bytecode and without
# ---------------------------------------------------------------------------

_BUILT = """
import importlib, json, sys, time
task, layer, names = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
sys.path[:0] = [task, layer]
started, cpu = time.perf_counter(), time.process_time()
for name in names:
    try:
        importlib.import_module(name)
    except Exception:
        pass
print(time.perf_counter() - started, time.process_time() - cpu)
"""

_BUILT_MODULES = """
import importlib, json, sys
task, layer, module = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path[:0] = [task, layer]
before = set(sys.modules)
importlib.import_module(module)
print(json.dumps([
    name for name in sys.modules
    if name not in before and name.split(".")[0] not in ("handler", "background_posting")
    and (getattr(sys.modules[name], "__file__", None) or "").startswith(layer)
]))
"""


def _built_python(code: str, arguments: list[str], env: dict[str, str], task: Path) -> str:
    # -S: no site-packages, only the built function and layer (as on Lambda); -B: write nothing
    answer = subprocess.run(
        [sys.executable, "-S", "-B", "-c", code, *arguments],
        cwd=task, env=env, capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    return answer.stdout.strip().splitlines()[-1]


def measure_deployed(runs: int) -> dict[str, Any]:
    """Each built handler imported in a fresh interpreter from the built function and layer
    only: with the layer's bytecode (as deployed), without it (an empty PYTHONPYCACHEPREFIX, so
    every module is compiled as it is imported, as a layer without .pyc is on Lambda's
    read-only /opt), and its third-party dependencies alone with bytecode; alternating."""
    from tests.support.sam_build import (
        MACHINE,
        built_environment,
        load_built,
        sam_build,
    )

    built = sam_build(MACHINE.get(os.uname().machine, os.uname().machine))
    template = load_built(built / "template.yaml")
    layer = built / "CommonLayer" / "python"
    figures: dict[str, Any] = {
        "layer_mb": sum(p.stat().st_size for p in layer.rglob("*") if p.is_file()) / 1e6,
        "layer_files": sum(1 for p in layer.rglob("*.py")),
        "functions": {},
    }
    with tempfile.TemporaryDirectory(prefix="bench-no-bytecode-") as empty:
        for name, resource in sorted(template["Resources"].items()):
            if resource["Type"] != "AWS::Serverless::Function":
                continue
            properties = resource["Properties"]
            task = (built / properties["CodeUri"]).resolve()
            module = properties["Handler"].rsplit(".", 1)[0]
            env = built_environment(template, name)
            bare = env | {"PYTHONPYCACHEPREFIX": empty}
            paths = [str(task), str(layer.resolve())]
            dependencies = _built_python(_BUILT_MODULES, [*paths, module], env, task)
            times: dict[str, list[float]] = {"with": [], "without": [], "dependencies": []}
            cpu: dict[str, list[float]] = {"with": [], "without": [], "dependencies": []}
            for _ in range(runs):
                for side, names, side_env in (
                    ("with", [module], env),
                    ("without", [module], bare),
                    ("dependencies", json.loads(dependencies), env),
                ):
                    answer = _built_python(_BUILT, [*paths, json.dumps(names)], side_env, task)
                    wall, used = map(float, answer.split())
                    times[side].append(wall)
                    cpu[side].append(used)
            median = {side: statistics.median(values) for side, values in times.items()}
            median_cpu = {side: statistics.median(values) for side, values in cpu.items()}
            figures["functions"][name] = {
                "with_bytecode_s": median["with"],
                "without_bytecode_s": median["without"],
                "dependencies_s": median["dependencies"],
                "bytecode_speedup": median["without"] / median["with"],
                "import_ratio": median["with"] / median["dependencies"],
                # CPU times: on a shared machine wall time also counts waiting for a CPU
                "import_ratio_cpu": median_cpu["with"] / median_cpu["dependencies"],
                "bytecode_speedup_cpu": median_cpu["without"] / median_cpu["with"],
                "runs_s": times,
                "runs_cpu_s": cpu,
            }
    return figures
