"""The JSON of a run (`GET /runs/{id}`), with every count named and explained for the OpenAPI.

The first counts (`queued`, `posted`, `completed`, `failed`, `returned_to_in_progress`,
`skipped`, `processed`) are the original keys, kept for the e2e tests and the console; each
has a clearer name alongside, in the words the console shows (`documents_posted`,
`follow_up_steps_done`, `nothing_to_do`...). Both carry the same number.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from background_posting.domain.model import LazyModel

# (original key, clearer name, description): one row per count.
COUNTS: tuple[tuple[str, str, str], ...] = (
    (
        "queued",
        "documents_queued",
        "Documents this run found Ready to Post (or with follow-up work due) and sent to the "
        "posting workers.",
    ),
    (
        "posted",
        "documents_posted",
        "Documents posted to the ledger by this run: each is now Complete, with a transaction.",
    ),
    (
        "completed",
        "follow_up_steps_done",
        "Work done besides posting: tax calculated or committed in AvaTax, income schedule "
        "journals or adjustment journals created.",
    ),
    (
        "failed",
        "failures",
        "Documents whose work failed in this run: they are tried again in the next run, or "
        "(counted in returned_to_in_progress) were given back.",
    ),
    (
        "returned_to_in_progress",
        "returned_to_in_progress_after_max_attempts",
        "Documents that failed their maximum attempts in this run and are In Progress again, "
        "to be corrected and posted again (their errors are on the document).",
    ),
    (
        "skipped",
        "nothing_to_do",
        "Documents that needed nothing by the time a worker reached them (another run or worker "
        "had done the work, or the document had changed).",
    ),
    (
        "processed",
        "documents_processed",
        "Queued documents the workers have finished with (whatever the outcome); the run is "
        "finished when this equals documents_queued.",
    ),
    (
        "waiting_for_goods",
        "waiting_for_goods",
        "Of `failed`: payable invoices that invoice verification found short of goods "
        "received; verified again in every run, without counting against the maximum attempts.",
    ),
)


def _counts_model() -> type[LazyModel]:
    fields: dict[str, Any] = {}
    for old, new, text in COUNTS:
        fields[old] = (int, Field(default=0, description=f"{text} (also as `{new}`)"))
        if new != old:
            fields[new] = (int, Field(default=0, description=text))
    from pydantic import create_model

    return create_model(
        "RunCounts",
        __base__=LazyModel,
        __doc__="A run's counts, each under two names.",
        **fields,
    )


RunCounts = _counts_model()


class RunScope(LazyModel):
    companies: list[str] | Literal["all"] = Field(description="The companies the run covers")
    document_type: str | None = Field(
        default=None,
        description="The document type of a list view's Background Post (or of the one document "
        "of a Retry now)",
    )
    document: str | None = Field(
        default=None, description="Retry now (trigger `document`): the id of the run's one document"
    )
    reference: str | None = Field(default=None, description="That document's number")


class RunView(LazyModel):
    """A run of background posting: the schedule, Run Now, a list view's Background Post, or a
    document's Retry now."""

    id: str
    trigger: Literal["schedule", "run_now", "list_view", "document"] | str = Field(
        description="What started it: schedule, run_now, list_view or document (Retry now)"
    )
    requested_by: str = Field(
        description="The user who pressed Run Now, Background Post or Retry now"
    )
    started_by: str = Field(description="The same as requested_by")
    created_at: str = Field(description="When it started (ISO 8601)")
    started_at: str = Field(description="The same as created_at")
    scheduled_for: str | None = Field(description="The scheduled time it ran for, if scheduled")
    scope: RunScope
    status: str = Field(
        description="finding work, processing, completed, or completed with failures"
    )
    counts: RunCounts  # type: ignore[valid-type]


def run_view(body: dict[str, Any]) -> RunView:
    """A run's JSON (`work_json.run_json`) with each count under its clearer name as well."""
    counts = dict(body.get("counts", {}))
    for old, new, _ in COUNTS:
        counts.setdefault(old, 0)
        counts[new] = counts[old]
    return RunView.model_validate(body | {"counts": counts})
