"""The canonical AWS events of tests/events/, as each event source sends them to a function."""

from __future__ import annotations

import copy
import hashlib
import json
import uuid
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).resolve().parents[1] / "events"


@cache
def _read(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return loaded


def load_event(name: str) -> dict[str, Any]:
    """A fresh copy of the event in tests/events/<name>: change it as a test needs."""
    return copy.deepcopy(_read(name))


def queue_event(name: str, bodies: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The SQS event of tests/events/<name>, with one record per body (its own message id,
    receipt handle and MD5) shaped as the canonical record."""
    (record,) = _read(name)["Records"]
    records = []
    for body in bodies:
        text = json.dumps(body)
        records.append(
            copy.deepcopy(record)
            | {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": uuid.uuid4().hex,
                "body": text,
                "md5OfBody": hashlib.md5(text.encode()).hexdigest(),
            }
        )
    return {"Records": records}
