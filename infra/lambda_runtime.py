"""Running the template's functions in this process, as Lambda would: one event per instance.

Each function gets a small pool of instances (separate copies of its handler module), so
a handler's module-level state (the REST resolver's current event, for one) is never shared
by two events at once, exactly as on Lambda.
"""

from __future__ import annotations

import importlib.util
import itertools
import queue
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from infra.template import ACCOUNT_ID, REGION, FunctionSpec, layer_paths


def put_layers_on_path() -> None:
    """As Lambda does for /opt/python: the layers' code imports by its package names."""
    for path in layer_paths():
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))


@dataclass
class LocalContext:
    """The parts of Lambda's context object that our handlers and Powertools read."""

    function_name: str
    timeout_seconds: int
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    @property
    def function_version(self) -> str:
        return "$LATEST"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        elapsed = time.monotonic() - self.started
        return max(0, int((self.timeout_seconds - elapsed) * 1000))


class LocalFunction:
    def __init__(self, spec: FunctionSpec, instances: int = 4):
        self.spec = spec
        self._pool: queue.Queue[ModuleType] = queue.Queue()
        self._created = 0
        self._max = instances
        self._lock = threading.Lock()
        self._numbers = itertools.count(1)

    def warm(self) -> None:
        """Load one instance now, so that a broken handler fails the start, not a request."""
        self._pool.put(self._checkout())

    def _new_instance(self) -> ModuleType:
        put_layers_on_path()
        name = f"local_{self.spec.logical_id}_{next(self._numbers)}"
        module_spec = importlib.util.spec_from_file_location(name, self.spec.module_file)
        if module_spec is None or module_spec.loader is None:
            raise ImportError(f"cannot load {self.spec.module_file}")
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        return module

    def _checkout(self) -> ModuleType:
        try:
            return self._pool.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            room = self._created < self._max
            if room:
                self._created += 1
        if not room:
            return self._pool.get()
        try:
            return self._new_instance()
        except BaseException:
            with self._lock:
                self._created -= 1
            raise

    def invoke(self, event: dict[str, Any]) -> Any:
        module = self._checkout()
        try:
            handler = getattr(module, self.spec.function_name)
            context = LocalContext(self.spec.logical_id, self.spec.timeout)
            return handler(event, context)
        finally:
            self._pool.put(module)
