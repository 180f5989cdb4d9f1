"""The local stack, started by the tests as `make run` starts it (python -m infra.local_stack).

Each stack binds a port of its own (port 0: the kernel picks a free one, the stack says
which), runs in a process group of its own, and is stopped by the fixture that started it,
whatever the test did: SIGINT first (as Ctrl-C), then SIGKILL to the whole group (the stack
and its DynamoDB Local) if it does not stop in time. Under pytest-xdist each worker starts
its own session stack, in its own temporary directory.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psutil

from infra.template import ROOT

STARTUP_SECONDS = 300  # a deadline for a loaded machine; a healthy start takes seconds
SERVING = re.compile(rb"Background Posting is serving at (http://127\.0\.0\.1:\d+)")


@dataclass
class RunningStack:
    url: str
    process: subprocess.Popen[bytes]
    data_dir: Path
    log: Path
    seconds_to_health: float  # wall time: grows with the machine's load
    cpu_seconds_to_health: float = 0.0  # the stack's and its JVM's CPU time: does not

    def stop(self, timeout: float = 60.0) -> int:
        """Ctrl-C, as a user stops `make run`; its exit code. Kills the group if it hangs."""
        return stop_process(self.process, timeout)


def stop_process(process: subprocess.Popen[bytes], timeout: float = 60.0) -> int:
    """SIGINT, then after `timeout` seconds SIGKILL to its process group; its exit code.
    Before the kill, SIGUSR1 asks the stack to write its threads' stacks into its log."""
    if process.poll() is None:
        try:
            process.send_signal(signal.SIGINT)
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGUSR1)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=2)
    kill_group(process)
    return process.wait()


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process and everything in its group (DynamoDB Local). A stack that ended
    by itself was reaped already (its group id may be reused): its JVM, if any, got SIGTERM
    when it died (infra.dynamodb_local sets PR_SET_PDEATHSIG)."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def start_stack(data_dir: Path, log: Path, port: int | None = None) -> RunningStack:
    """Start `python -m infra.local_stack` and wait until it answers /health.

    Without `port`, the stack binds a free port itself and announces its URL in its log;
    a port chosen here and passed on could be taken before the stack binds it.
    """
    env = os.environ | {"PORT": str(port or 0)}
    for key in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        env.pop(key, None)
    offset = log.stat().st_size if log.exists() else 0
    started = time.monotonic()
    with log.open("ab") as output:
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
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: one signal reaches all of it
        )
    try:
        url = _wait_for_health(process, log, offset, started + STARTUP_SECONDS)
    except BaseException:
        kill_group(process)
        raise
    return RunningStack(
        url, process, data_dir, log, time.monotonic() - started, cpu_seconds(process.pid)
    )


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system) used so far by process `pid` and every process under it."""
    total = 0.0
    try:
        root = psutil.Process(pid)
        for member in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.NoSuchProcess):
                times = member.cpu_times()
                total += times.user + times.system
    except psutil.NoSuchProcess:
        pass
    return total


def _wait_for_health(
    process: subprocess.Popen[bytes], log: Path, offset: int, deadline: float
) -> str:
    url = None
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the local stack exited: {_tail(log, offset)}")
        if url is None:
            with log.open("rb") as handle:
                handle.seek(offset)
                found = SERVING.search(handle.read())
            url = found[1].decode() if found else None
        if url is not None:
            try:
                with urllib.request.urlopen(url + "/health", timeout=10) as response:
                    if response.status == 200:
                        return url
            except OSError:
                pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"no /health within {STARTUP_SECONDS} s: {_tail(log, offset)}")
        time.sleep(0.2)


def _tail(log: Path, offset: int) -> str:
    with log.open("rb") as handle:
        handle.seek(offset)
        return handle.read().decode(errors="replace")[-3000:]
