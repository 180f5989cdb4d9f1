"""One boto3 client per AWS service per process, created lazily and thread-safely.

Building a client costs about 100 ms (boto3 loads the service's model and endpoint rules);
a warm Lambda pays it once per service. A client is kept for the configuration it was built
for (region, endpoint, credentials' key id): a process whose environment points elsewhere
(a test moving from moto to the local stack) gets a new one, never one built for the other.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import boto3
from botocore.config import Config

_lock = threading.Lock()
_clients: dict[tuple[Any, ...], Any] = {}


def _where(service: str) -> tuple[str | None, ...]:
    env = os.environ
    endpoint = env.get(f"AWS_ENDPOINT_URL_{service.upper()}") or env.get("AWS_ENDPOINT_URL")
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    return (region, endpoint, env.get("AWS_ACCESS_KEY_ID"))


def client(service: str, config: Config | None = None) -> Any:
    """The process's client for `service` in the current configuration."""
    key = (service, id(config), *_where(service))
    found = _clients.get(key)
    if found is not None:
        return found
    with _lock:
        if key not in _clients:
            session: Any = boto3.session.Session()
            _clients[key] = session.client(service, config=config)
        return _clients[key]
