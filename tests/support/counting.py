"""Counting what the code asks of DynamoDB, where every botocore client passes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.client import BaseClient


@contextmanager
def dynamodb_requests(monkeypatch: Any) -> Iterator[Counter[str]]:
    """The DynamoDB operations sent while the block runs, counted (and only then)."""
    sent: Counter[str] = Counter()
    original = BaseClient._make_api_call

    def counting(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if client.meta.service_model.service_name == "dynamodb":
            sent[operation] += 1
        return original(client, operation, params)

    with monkeypatch.context() as patched:
        patched.setattr(BaseClient, "_make_api_call", counting)
        yield sent
