"""The posting worker: SQS messages (one document of a run each) in, partial batch failures out."""

from __future__ import annotations

from background_posting.config import get_settings
from background_posting.handlers.worker_queue import worker_function
from background_posting.services.queues import posting_queue

# At cold start: a missing or invalid setting fails the import, naming its variable.
settings = get_settings()
lambda_handler = worker_function(tax_commit=False, queue=posting_queue, metric="Documents")
