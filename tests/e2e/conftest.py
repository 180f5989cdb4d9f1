"""The end-to-end tests' local stack, started as `make run` starts it (tests/support/stack.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.stack import RunningStack, start_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """One stack for the session (for each xdist worker), shared by tests that need no other."""
    base = tmp_path_factory.mktemp("stack")
    running = start_stack(base / "dynamodb", base / "stack.log")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def withdraw_after(stack: RunningStack) -> Iterator[list[str]]:
    """Ids of documents whose background work a test leaves waiting on the shared stack:
    afterwards (whatever the test did) their worker items are removed and they return to
    In Progress, so that no later test's run (Run Now takes all due work) picks them up."""
    from tests.support.api import http

    ids: list[str] = []
    yield ids
    for document_id in ids:
        removed = http(stack.url, "DELETE", f"/documents/{document_id}/worker-items", "admin")
        assert removed.status == 200, removed.body
        back = http(
            stack.url, "PUT", f"/documents/{document_id}/status", "admin", {"status": "In Progress"}
        )
        assert back.status in (200, 409), back.body  # 409: not Ready to Post (any more)
