"""The tax commit function: SQS messages (an AvaTax document of a run each) in, partial batch
failures out. Stage 3 of an AvaTax document: the tax calculated and posted by an earlier run is
committed in AvaTax; the document stays Complete whatever happens."""

from __future__ import annotations

from background_posting.config import get_settings
from background_posting.handlers.worker_queue import worker_function
from background_posting.services.queues import tax_commit_queue

# At cold start: a missing or invalid setting fails the import, naming its variable.
settings = get_settings()
lambda_handler = worker_function(tax_commit=True, queue=tax_commit_queue, metric="TaxCommits")
