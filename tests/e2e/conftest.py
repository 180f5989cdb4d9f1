"""The end-to-end tests' local stack (started as `make run` starts it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.stack import RunningStack, start_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    base = tmp_path_factory.mktemp("stack")
    running = start_stack(base / "dynamodb", base / "stack.log")
    yield running
    running.stop()
