"""The local stack, started by the tests as `make run` starts it (python -m infra.local_stack)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from infra.local_stack import free_port
from infra.template import ROOT


@dataclass
class RunningStack:
    url: str
    process: subprocess.Popen[bytes]
    data_dir: Path
    log: Path
    seconds_to_health: float

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=30)


def start_stack(
    data_dir: Path, log: Path, port: int | None = None, timeout: float = 60
) -> RunningStack:
    port = port or free_port()
    env = os.environ | {"PORT": str(port)}
    for key in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        env.pop(key, None)
    started = time.monotonic()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "infra.local_stack",
            "--data-dir",
            str(data_dir),
            "--users",
            str(data_dir.parent / "users.json"),
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"the local stack exited: {log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as response:
                if response.status == 200:
                    return RunningStack(url, process, data_dir, log, time.monotonic() - started)
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise TimeoutError(f"no /health within {timeout:.0f} s: {log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    base = tmp_path_factory.mktemp("stack")
    running = start_stack(base / "dynamodb", base / "stack.log")
    yield running
    running.stop()
