"""SQS: sending messages in batches of ten, retrying the entries SQS did not take."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from background_posting.adapters import clients


class Queue:
    def __init__(self, url: str, client: Any | None = None):
        if not url:
            raise ValueError("the queue URL is not configured")
        self.url = url
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:  # created on first use, never at import
            self._client = clients.client("sqs")
        return self._client

    def send(self, message: dict[str, Any], delay_seconds: int = 0) -> None:
        self.client.send_message(
            QueueUrl=self.url, MessageBody=json.dumps(message), DelaySeconds=delay_seconds
        )

    def send_all(self, messages: Sequence[dict[str, Any]]) -> None:
        """Send every message; entries SQS refuses are retried, then the error is raised."""
        for start in range(0, len(messages), 10):
            entries = [
                {"Id": str(index), "MessageBody": json.dumps(message)}
                for index, message in enumerate(messages[start : start + 10])
            ]
            for attempt in range(5):
                answer = self.client.send_message_batch(QueueUrl=self.url, Entries=entries)
                failed = {f["Id"] for f in answer.get("Failed", [])}
                if not failed:
                    break
                entries = [e for e in entries if e["Id"] in failed]
                time.sleep(0.05 * 2**attempt)
            else:
                raise RuntimeError(f"SQS refused {len(entries)} messages for {self.url}")
