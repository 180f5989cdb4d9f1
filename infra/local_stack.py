"""The local stack: the same code as on AWS, on one machine.

DynamoDB Local (data on disk), moto's server for SQS, EventBridge, EventBridge Scheduler and
SES (in memory), the template's tables and queues, every function loaded, SQS event
sources polling their queues as Lambda does, and a local API Gateway on 127.0.0.1:$PORT
(default 3000) that invokes the API function with the local user's authorizer claims.
Local-only routes: `GET /_local/emails` (what SES sent), `GET /_local/queues` (depths),
`GET /_local/users` (the local users the console offers). The console's files (console/) are
served at `/console/` without identity, as CloudFront serves them deployed.

    python -m infra.local_stack [--port 3000] [--data-dir .local/dynamodb] [--template FILE]

`--port 0` (or `PORT=0`) serves on a free port the gateway binds itself; the line "Background
Posting is serving at <url>" says which (the tests start their stacks so).

`SES_FROM_ADDRESS` (default background-posting@example.com) is verified in SES at start.
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import logging
import os
import shutil
import signal
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.avatax_local import start_local_avatax
from infra.dynamodb_local import DynamoDBLocal, local_client
from infra.emails import keep_text_and_html, sent_emails, verify_sender
from infra.event_sources import SqsEventSources
from infra.gateway import Gateway, load_users
from infra.lambda_runtime import LocalFunction, put_layers_on_path
from infra.page_token_key import local_key, put_page_token_secret
from infra.ports import free_port  # noqa: F401 - kept where callers import it from
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
CONSOLE_ROOT = ROOT / "console"
# Powertools' REST resolver keeps the current event on a class (`BaseRouter.current_event`),
# shared by every copy of the handler in this process: two API requests at once would read
# each other's event (identity, query, body). On Lambda one process serves one event at a
# time; here the API function gets one instance, so its requests take turns.
SERIAL_FUNCTIONS = {"ApiFunction": 1}
# The JVM can take most of a minute to answer on a machine shared by many test runs.
DEFAULT_SENDER = "background-posting@example.com"


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
    _serving: threading.Thread | None = None
    _moto: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LocalStack:
        """Start every part; `port` 0 binds a free port (`port` and `url` then say which)."""
        self._seed_users()
        # The gateway binds first: its port is owned from here on (and known, for port 0),
        # before anything that links to it is configured. It serves once everything is up.
        self.functions = {
            name: LocalFunction(spec, instances=SERIAL_FUNCTIONS.get(name, 4))
            for name, spec in functions().items()
        }
        self._gateway = Gateway(
            ("127.0.0.1", self.port),
            self.functions["ApiFunction"],
            self.users_file,
            local_routes={
                "/_local/emails": sent_emails,
                "/_local/queues": self.queue_depths,
                "/_local/users": self.local_users,
            },
            console_root=CONSOLE_ROOT,
        )
        self.port = self._gateway.server_address[1]
        log_dir = self.data_dir.parent if self.data_dir else ROOT / ".local"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.dynamodb = DynamoDBLocal(0, self.data_dir, log_file=log_dir / "dynamodb-local.log")
        self.dynamodb.start()
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
        put_page_token_secret(  # the key page tokens are signed with (infra/page_token_key.py)
            self._client("secretsmanager"), os.environ["PAGE_TOKEN_SECRET"], local_key(log_dir)
        )
        for function in self.functions.values():
            function.warm()
        log.info("functions loaded: %s", ", ".join(sorted(self.functions)))
        self.migrate()
        self.event_sources = SqsEventSources.from_template(
            self._client("sqs"), self.functions, self.queues, functions()
        ).start()
        self._start_scheduler()
        self._recover_runs()
        self._serving = threading.Thread(
            target=self._gateway.serve_forever, name="gateway", daemon=True
        )
        self._serving.start()
        log.info("API at %s (users: %s)", self.url, self.users_file)
        return self

    def local_users(self) -> list[dict[str, Any]]:
        """The local users the console offers to sign in as (ids, e-mails, permission sets)."""
        return [
            {"id": user_id, "email": user.get("email", ""), "groups": user.get("groups", [])}
            for user_id, user in load_users(self.users_file).items()
        ]

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
        # Port 0: the server binds a free port itself (a port chosen beforehand could be
        # taken meanwhile, and then ThreadedMotoServer.start() would wait forever).
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._moto.start()
        _, moto_port = self._moto.get_host_and_port()
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
        parameters = self.local_parameters(pseudo_parameters() | parameter_defaults())
        self.attributes, self.parameters = attributes, parameters
        for spec in functions().values():
            for key, value in spec.environment.items():
                env.setdefault(key, resolve(value, attributes, parameters))
        os.environ.update(env)
        put_layers_on_path()  # one process runs every function: one configuration holds them all
        from background_posting.config import use
        from background_posting.function_settings import EveryFunctionSettings

        use(EveryFunctionSettings())

    def local_parameters(self, defaults: dict[str, str]) -> dict[str, str]:
        """The template's parameters as this stack sets them: e-mails link to its console."""
        parameters = defaults | {"Stage": "local"}
        if self.port and "LogGroupBaseUrl" in parameters:
            parameters["LogGroupBaseUrl"] = f"{self.url}/console/"
        if self.port and "ConsoleOrigin" in parameters:  # the console is served from here
            parameters["ConsoleOrigin"] = self.url
        return parameters

    def migrate(self) -> dict[str, Any]:
        """The stored data upgraded, as a deploy's post-deploy step does (the migration
        function, invoked until it is done): before any event source or request reads it."""
        while True:
            answer: dict[str, Any] = self.functions["MigrationFunction"].invoke({})
            for report in answer["migrations"]:
                if report["changed"]:
                    log.info("migration %(version)s (%(name)s): %(changed)s changed", report)
            if answer["done"]:
                return answer

    def _recover_runs(self) -> None:
        """Runs a restart interrupted scan again: moto's queues, in memory, lost their
        messages, but their worker items are still in DynamoDB Local (see services.runs)."""
        from background_posting.services.runs import recover_interrupted_runs

        recovered = recover_interrupted_runs()
        if recovered:
            log.info("runs interrupted by the last stop scan again: %s", ", ".join(recovered))

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
        from background_posting.services.scheduler_service import (
            reapply,
        )  # the layer is on the path now

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
            if self._serving is not None:  # shutdown() waits for serve_forever() to end
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
    parser.add_argument(
        "--migrate",
        action="store_true",
        help="upgrade the stored data (which every start does first), print what ran, stop",
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
    # SIGUSR1 writes every thread's stack to stderr (the log): what a stack that does not stop
    # is doing, asked for before it is killed (tests/support/stack.py)
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    try:
        stack.start()
        if args.migrate:
            print(json.dumps(stack.migrate(), indent=2), flush=True)
            return 0
        print(f"Background Posting is serving at {stack.url}  (Ctrl-C stops it)", flush=True)
        # Not one wait without a timeout: a signal the kernel hands to another thread only
        # marks the handler pending, and it runs when the main thread next runs Python code,
        # which a main thread blocked for good never does (the stack then ignores Ctrl-C).
        while not stopping.wait(timeout=0.2):
            pass
    finally:
        log.info("stopping")
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
