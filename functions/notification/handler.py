"""The notification function: finished runs (SQS) in, one digest e-mail per recipient out."""

from __future__ import annotations

from background_posting.config import get_settings
from background_posting.function_settings import NotificationFunctionSettings
from background_posting.handlers.notification_queue import notification_function

# At cold start: a missing or invalid setting fails the import, naming its variable.
settings = get_settings(NotificationFunctionSettings)
lambda_handler = notification_function()
