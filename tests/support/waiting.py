"""Waiting for what a test can observe: a deadline on a condition, never a fixed sleep.

The deadline only says when to give up on something that will not happen: a condition that
holds ends the wait at once, so a deadline far above the usual time costs a passing test
nothing, and it holds on a machine shared by many (two test runs and a build at once can
make a stack ten times slower than on a quiet one).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

DEADLINE = 300.0  # seconds: what the local stack needs on a heavily loaded machine, and more


def eventually(check: Callable[[], Any], seconds: float = DEADLINE, every: float = 0.5) -> Any:
    """Poll until `check` returns something truthy; fail with its last answer after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        answer = check()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s; last answer: {answer!r}")
        time.sleep(every)
