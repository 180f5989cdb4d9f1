"""The errors a document carries after background posting gave it back (`last_background_errors`).

When the posting worker returns a document to In Progress after its maximum attempts, the
document keeps the errors of its last attempt and the worker log group they came from, so
whoever opens it sees why, also after the log group was deleted or its entries expired. They
are cleared when the document is amended or posted (`services.documents`).
"""

from __future__ import annotations

from typing import Any

from background_posting.domain.documents import Document, background_errors
from background_posting.domain.errors import NotFound
from background_posting.store import work_log
from background_posting.store import worker_items as item_store


def with_last_background_errors(
    document: Document, item: item_store.WorkerItem, attempts: int
) -> Document:
    """`document` (about to be saved In Progress) with the errors of `item`'s last attempt,
    read from its worker log group (the failure's entry is written before the return)."""
    title, errors = "", list[dict[str, Any]]()
    try:
        group = work_log.get_group(item.log_group)
    except NotFound:
        group = None
    if group is not None:
        title = group.title
        failed = [
            entry
            for entry in group.entries
            if entry.document_id == document.id and entry.outcome == "failed"
        ]
        latest = max((entry.attempt for entry in failed), default=None)
        errors = [
            dict(error) for entry in failed if entry.attempt == latest for error in entry.errors
        ]
    if not errors and item.last_error:
        errors = [{"code": "background_posting_failed", "message": item.last_error}]
    record = background_errors(
        errors, item.log_group, step=item.action, attempts=attempts, log_group_title=title
    )
    return document.model_copy(update={"last_background_errors": record})
