"""The local stack: the same code as on AWS, on one machine.

DynamoDB Local (data on disk), moto's server for SQS, EventBridge, EventBridge Scheduler and
SES (in memory), the template's tables and queues, every function loaded, SQS event
sources polling their queues as Lambda does, and a local API Gateway on 127.0.0.1:$PORT
(default 3000) that invokes the API function with the local user's authorizer claims.
Local-only routes: `GET /_local/emails` (what SES sent), `GET /_local/queues` (depths).

    python -m infra.local_stack [--port 3000] [--data-dir .local/dynamodb] [--template FILE]

`SES_FROM_ADDRESS` (default background-posting@example.com) is verified in SES at start.
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

from infra.avatax_local import start_local_avatax
from infra.dynamodb_local import DynamoDBLocal, local_client
from infra.emails import keep_text_and_html, sent_emails, verify_sender
from infra.event_sources import SqsEventSources
from infra.gateway import Gateway
from infra.lambda_runtime import LocalFunction
from infra.resources import (
    QueueInfo,
    create_queues,
    create_tables,
    local_attributes,
    table_attributes,
)
from infra.scheduler_local import LocalScheduler
from infra.template import (
    REGION,
    ROOT,
    Attributes,
    functions,
    parameter_defaults,
    pseudo_parameters,
    resolve,
    resources,
    use_template,
)

log = logging.getLogger("local-stack")

DEFAULT_USERS = ROOT / "infra" / "users.json"
DEFAULT_SENDER = "background-posting@example.com"


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
    queues: dict[str, QueueInfo] = field(default_factory=dict)
    event_sources: SqsEventSources | None = None
    scheduler: LocalScheduler | None = None
    attributes: Attributes = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)
    moto_endpoint: str = ""
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
        ).start(timeout=float(os.environ.get("DYNAMODB_LOCAL_START_SECONDS", "30")))
        self._start_moto()
        dynamodb = local_client("dynamodb", self.dynamodb.endpoint)
        names = create_tables(dynamodb, self.prefix)
        log.info("tables ready: %s", ", ".join(sorted(names.values())))
        self.queues = create_queues(self._client("sqs"), self.prefix)
        log.info("queues ready: %s", ", ".join(sorted(q.name for q in self.queues.values())))
        self._configure_environment(
            local_attributes(table_attributes(dynamodb, names), self.queues, self.prefix)
        )
        self._verify_sender()
        start_local_avatax(self._client("secretsmanager"))  # AvaTax: the stand-in (see module)
        self.functions = {name: LocalFunction(spec) for name, spec in functions().items()}
        for function in self.functions.values():
            function.warm()
        log.info("functions loaded: %s", ", ".join(sorted(self.functions)))
        self.event_sources = SqsEventSources.from_template(
            self._client("sqs"), self.functions, self.queues, functions()
        ).start()
        self._start_scheduler()
        self._gateway = Gateway(
            ("127.0.0.1", self.port),
            self.functions["ApiFunction"],
            self.users_file,
            local_routes={"/_local/emails": sent_emails, "/_local/queues": self.queue_depths},
        )
        self.port = self._gateway.server_address[1]
        threading.Thread(target=self._gateway.serve_forever, name="gateway", daemon=True).start()
        log.info("API at %s (users: %s)", self.url, self.users_file)
        return self

    def queue_depths(self) -> list[dict[str, Any]]:
        """Each queue's messages: waiting, received and not yet deleted, delayed."""
        sqs = self._client("sqs")
        depths = []
        for logical_id, queue in sorted(self.queues.items()):
            counts = sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["All"])[
                "Attributes"
            ]
            depths.append(
                {
                    "queue": logical_id,
                    "name": queue.name,
                    "url": queue.url,
                    "messages": int(counts.get("ApproximateNumberOfMessages", 0)),
                    "messages_in_flight": int(
                        counts.get("ApproximateNumberOfMessagesNotVisible", 0)
                    ),
                    "messages_delayed": int(counts.get("ApproximateNumberOfMessagesDelayed", 0)),
                }
            )
        return depths

    def _client(self, service: str) -> Any:
        return local_client(service, self.moto_endpoint)

    def _seed_users(self) -> None:
        if not self.users_file.exists():
            self.users_file.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(DEFAULT_USERS, self.users_file)

    def _start_moto(self) -> None:
        from moto.server import ThreadedMotoServer

        keep_text_and_html()  # before any e-mail is sent: /_local/emails shows both parts
        moto_port = free_port()
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
        self._moto.start()
        self.moto_endpoint = f"http://127.0.0.1:{moto_port}"

    def _configure_environment(self, attributes: Attributes) -> None:
        assert self.dynamodb is not None
        env = {
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_ENDPOINT_URL": self.moto_endpoint,
            "AWS_ENDPOINT_URL_DYNAMODB": self.dynamodb.endpoint,
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
        }
        parameters = pseudo_parameters() | parameter_defaults() | {"Stage": "local"}
        if self.port and "LogGroupBaseUrl" in parameters:  # e-mails link to this stack's API
            parameters["LogGroupBaseUrl"] = f"{self.url}/worker-log-groups"
        self.attributes, self.parameters = attributes, parameters
        for spec in functions().values():
            for key, value in spec.environment.items():
                env.setdefault(key, resolve(value, attributes, parameters))
        os.environ.update(env)

    def _start_scheduler(self) -> None:
        """Schedule groups from the template, the saved schedule restored, firing for real."""
        scheduler = self._client("scheduler")
        groups = [
            resolve({"Ref": logical_id}, self.attributes, self.parameters)
            for logical_id in resources("AWS::Scheduler::ScheduleGroup")
        ]
        existing = {g["Name"] for g in scheduler.list_schedule_groups().get("ScheduleGroups", [])}
        for group in groups:
            if group not in existing:
                scheduler.create_schedule_group(Name=group)
        from background_posting.services.scheduler import reapply  # the layer is on the path now

        if reapply():
            log.info("the saved schedule was written to the local EventBridge Scheduler again")
        self.scheduler = LocalScheduler(scheduler, groups, self._invoke_arn).start()

    def _invoke_arn(self, arn: str, event: dict[str, Any]) -> Any:
        logical_id = arn.rsplit(":", 1)[-1]
        return self.functions[logical_id].invoke(event)

    def _verify_sender(self) -> None:
        """moto's SES refuses to send from an unverified identity."""
        sender = os.environ.get("SES_FROM_ADDRESS") or DEFAULT_SENDER
        log.info("SES sender verified: %s", verify_sender(self._client("sesv2"), sender))

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        if self.event_sources is not None:
            self.event_sources.stop()
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
    parser.add_argument(
        "--template",
        type=Path,
        default=os.environ.get("LOCAL_STACK_TEMPLATE") or None,
        help="run another copy of template.yaml (default: template.yaml; env LOCAL_STACK_TEMPLATE)",
    )
    args = parser.parse_args(argv)
    if args.template:
        use_template(args.template)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)-12s %(message)s", datefmt="%H:%M:%S"
    )
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's server: every poll
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
