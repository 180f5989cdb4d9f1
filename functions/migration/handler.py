"""The migration function: versioned upgrades of stored data, invoked after each deploy."""

from __future__ import annotations

from background_posting.config import Settings, get_settings
from background_posting.handlers.migration import migration_function

# At cold start: a missing or invalid setting fails the import, naming its variable.
settings = get_settings(Settings)
lambda_handler = migration_function()
