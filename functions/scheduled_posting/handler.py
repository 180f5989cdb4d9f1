"""A run: invoked by the schedule (EventBridge Scheduler), by Run Now and by continuations (SQS)."""

from __future__ import annotations

from background_posting.config import get_settings
from background_posting.function_settings import ScheduledPostingFunctionSettings
from background_posting.handlers.run_queue import run_function

# At cold start: a missing or invalid setting fails the import, naming its variable.
settings = get_settings(ScheduledPostingFunctionSettings)
lambda_handler = run_function()
