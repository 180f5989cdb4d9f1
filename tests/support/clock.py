"""A clock that a test moves forward, passed to the code that reads the time."""

from __future__ import annotations

import time


class Clock:
    """The time now (seconds since the epoch), plus what the test has moved it forward by
    (past a dead worker's lease, a digest claim's hold)."""

    def __init__(self) -> None:
        self.ahead = 0.0

    def __call__(self) -> float:
        return time.time() + self.ahead

    def advance(self, seconds: float) -> None:
        self.ahead += seconds
