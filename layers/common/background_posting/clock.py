"""The clock: the one place the code reads the time (`now`, `timestamp`), always UTC.

Whatever stamps a change (documents, log entries, worker items, retries) or compares with
today asks `clock.now()` or `clock.timestamp()` rather than `datetime.now` or `time.time`,
so one module is the product's source of time. It imports nothing of the product, so any
module may use it without loading another (the workers' cold start counts every import).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    return datetime.now(UTC)


def timestamp() -> float:
    """The current instant in seconds since the epoch (what DynamoDB's TTL and leases count)."""
    return time.time()
