"""The migration function's entry point: upgrades stored data (background_posting.migrations).

Invoked after every deploy (docs/operations.md, "Upgrade") and by the local stack at every
start. It runs the unfinished migrations until Lambda's remaining time is short, stores where
it stopped, and answers what it did: `done: false` means "invoke it again", which resumes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from background_posting.migrations import run_migrations


def migration_function() -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    logger = Logger()

    @logger.inject_lambda_context(log_event=False)
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        reports = run_migrations(lambda: context.get_remaining_time_in_millis() / 1000)
        answer = {
            "done": all(report.done for report in reports),
            "migrations": [report.as_json() for report in reports],
        }
        logger.info("migrations", extra=answer)
        return answer

    return lambda_handler
