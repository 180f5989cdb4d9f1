"""A company with a customer, the API, and the run, worker and notification functions, as
Lambda runs them on moto: what the notification and run-results tests drive."""

from __future__ import annotations

from typing import Any

from background_posting.config import Settings
from background_posting.handlers.notification_queue import notification_function
from infra.lambda_runtime import LocalContext
from tests.support.api import Answer, invoke_api
from tests.support.clock import Clock
from tests.support.data import account_body, company_body, document_body
from tests.support.events import queue_event
from tests.support.queues import Drain

CLOSED_PERIOD = {"document_date": "2026-10-10"}  # the sample company's October is closed


class Office:
    """A company with a customer, the API, and the run, worker and notification functions."""

    def __init__(self, api: Any, settings: Settings):
        self.api = api
        self.clock = Clock()
        """The notification function's clock, which a test moves past a claim's hold."""
        self.drain = Drain(settings, {"NotificationQueue": notification_function(self.clock)})
        self.notify_handler = self.drain.handlers["NotificationQueue"]
        invoke_api(api, "POST", "/companies", "admin", company_body("ACME"))
        invoke_api(api, "POST", "/accounts", "admin", account_body("CUST01"))

    def call(self, method: str, path: str, user: str, body: Any = None) -> Answer:
        return invoke_api(self.api, method, path, user, body)

    def queue(self, user: str, count: int = 1, **overrides: Any) -> list[dict[str, Any]]:
        """`user` creates documents and posts them from a list view (one worker log group)."""
        made = [self.call("POST", "/documents", user, document_body(**overrides)).body]
        made += [
            self.call("POST", "/documents", user, document_body(**overrides)).body
            for _ in range(count - 1)
        ]
        answer = self.call("POST", "/documents/post", user, {"ids": [d["id"] for d in made]})
        assert answer.status == 202, answer.body
        return made

    def run_now(self) -> str:
        return str(self.call("POST", "/scheduler/run", "runner").body["run_id"])

    def process(self) -> None:
        """Runs and workers until their queues are empty (the digests are not sent yet)."""
        while self.drain.once("RunQueue") + self.drain.once("PostingQueue"):
            pass

    def send_digests(self) -> None:
        while self.drain.once("NotificationQueue"):
            pass

    def notify(self, run_id: str) -> dict[str, Any]:
        """Deliver one digest request to the notification function (a retry, a redelivery)."""
        event = queue_event("notification_queue.json", [{"run_id": run_id}])
        return dict(self.notify_handler(event, LocalContext("NotificationFunction", 60)))

    def status(self, document: dict[str, Any]) -> str:
        return str(self.call("GET", f"/documents/{document['id']}", "clerk").body["status"])
