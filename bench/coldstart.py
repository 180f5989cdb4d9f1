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
