"""The local stack: the same code as on AWS, on one machine.

DynamoDB Local (data on disk), moto's server for SQS, EventBridge, EventBridge Scheduler and
SES, the template's tables, and a local API Gateway on 127.0.0.1:$PORT (default 3000) that
invokes the API function with the local user's authorizer claims.

    python -m infra.local_stack [--port 3000] [--data-dir .local/dynamodb]
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import socket
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.dynamodb_local import DynamoDBLocal, local_client
from infra.gateway import Gateway
from infra.lambda_runtime import LocalFunction
from infra.resources import create_tables, table_names
from infra.template import ROOT, functions, parameter_defaults, resolve

log = logging.getLogger("local-stack")

DEFAULT_USERS = ROOT / "infra" / "users.json"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LocalStack:
    port: int = 3000
    data_dir: Path | None = ROOT / ".local" / "dynamodb"
    users_file: Path = ROOT / ".local" / "users.json"
    prefix: str = "local"
    dynamodb: DynamoDBLocal | None = None
    functions: dict[str, LocalFunction] = field(default_factory=dict)
    _gateway: Gateway | None = None
    _moto: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LocalStack:
        self._seed_users()
        log_dir = self.data_dir.parent if self.data_dir else ROOT / ".local"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.dynamodb = DynamoDBLocal(
            free_port(), self.data_dir, log_file=log_dir / "dynamodb-local.log"
        ).start()
        self._start_moto()
        self._configure_environment()
        names = create_tables(local_client("dynamodb", self.dynamodb.endpoint), self.prefix)
        log.info("tables ready: %s", ", ".join(sorted(names.values())))
        self.functions = {name: LocalFunction(spec) for name, spec in functions().items()}
        self.functions["ApiFunction"].warm()
        self._gateway = Gateway(
            ("127.0.0.1", self.port),
            self.functions["ApiFunction"],
            self.users_file,
            local_routes={},
        )
        self.port = self._gateway.server_address[1]
        threading.Thread(target=self._gateway.serve_forever, name="gateway", daemon=True).start()
        log.info("API at %s (users: %s)", self.url, self.users_file)
        return self

    def _seed_users(self) -> None:
        if not self.users_file.exists():
            self.users_file.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(DEFAULT_USERS, self.users_file)

    def _start_moto(self) -> None:
        from moto.server import ThreadedMotoServer

        moto_port = free_port()
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
        self._moto.start()
        self.moto_endpoint = f"http://127.0.0.1:{moto_port}"

    def _configure_environment(self) -> None:
        assert self.dynamodb is not None
        env = {
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_ENDPOINT_URL": self.moto_endpoint,
            "AWS_ENDPOINT_URL_DYNAMODB": self.dynamodb.endpoint,
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
        }
        names = table_names(self.prefix)
        parameters = parameter_defaults() | {"Stage": "local"}
        for spec in functions().values():
            for key, value in spec.environment.items():
                env.setdefault(key, resolve(value, names, parameters))
        os.environ.update(env)

    def stop(self) -> None:
        if self._gateway is not None:
            self._gateway.shutdown()
            self._gateway.server_close()
        if self._moto is not None:
            self._moto.stop()
        if self.dynamodb is not None:
            self.dynamodb.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    parser.add_argument("--data-dir", type=Path, default=ROOT / ".local" / "dynamodb")
    parser.add_argument("--in-memory", action="store_true", help="keep no data on disk")
    parser.add_argument("--users", type=Path, default=ROOT / ".local" / "users.json")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)-12s %(message)s", datefmt="%H:%M:%S"
    )
    stack = LocalStack(
        port=args.port, data_dir=None if args.in_memory else args.data_dir, users_file=args.users
    )
    stopping = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        stack.start()
        print(f"Background Posting is serving at {stack.url}  (Ctrl-C stops it)", flush=True)
        stopping.wait()
    finally:
        log.info("stopping")
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
