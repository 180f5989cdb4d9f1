"""Routes: background posting - list views, Run Now, runs, worker items and worker log groups."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import ConfigDict, Field

from background_posting.domain.documents import DOCUMENT_TYPES
from background_posting.domain.model import LazyModel
from background_posting.http.claims import caller_from
from background_posting.http.document_routes import DocumentId
from background_posting.http.run_views import RunView, run_view
from background_posting.http.work_json import group_json, run_json, worker_item_json
from background_posting.services import background_service, runs

router = Router()

RunId = Annotated[str, Path(pattern=r"^[A-Za-z0-9-]{1,80}$")]
GroupId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]


def _json(status: int, body: Any) -> Response[Any]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


class ListViewPost(LazyModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]] = Field(
        min_length=1, max_length=background_service.MAX_LIST_VIEW_DOCUMENTS
    )


@router.post("/documents/post", tags=["Background posting"], summary="Post from a list view")
def post_from_list_view(request: Annotated[ListViewPost, Body()]) -> Response[Any]:
    caller = caller_from(router.current_event)
    queued = background_service.post_from_list_view(caller, request.ids)
    return _json(
        202,
        {
            "documents": [{"id": d.id, "number": d.number, "status": d.status} for d in queued],
        },
    )


class BackgroundPost(LazyModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal[DOCUMENT_TYPES]  # type: ignore[valid-type]


@router.post(
    "/documents/background-post",
    tags=["Background posting"],
    summary="A list view's Background Post (Listview permission set)",
)
def background_post(request: Annotated[BackgroundPost, Body()]) -> Response[Any]:
    run = runs.background_post(caller_from(router.current_event), request.type)
    return _json(202, {"run_id": run.id})


class StatusChange(LazyModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["In Progress"]


@router.put(
    "/documents/<document_id>/status",
    tags=["Background posting"],
    summary="Set a Ready to Post document back to In Progress (System Administrator)",
)
def set_status(document_id: DocumentId, change: Annotated[StatusChange, Body()]) -> Response[Any]:
    document = background_service.withdraw(
        caller_from(router.current_event), document_id, change.status
    )
    return _json(200, document.model_dump(mode="json", exclude={"lines"}))


@router.post(
    "/documents/<document_id>/cancel-background",
    tags=["Background posting"],
    summary="Cancel background posting: a Ready to Post document In Progress again (its "
    "submitter or a System Administrator)",
    description="Its worker items are removed and it is `In Progress` again in one "
    "transaction, logged in its worker log group. 409 `worker_item_held` while a worker holds "
    "one of its items, `document_in_progress`/`document_complete`/... when it is not Ready to "
    "Post; 403 for anyone but the submitter of its worker items or an administrator.",
)
def cancel_background(document_id: DocumentId) -> Response[Any]:
    document = background_service.cancel_background(caller_from(router.current_event), document_id)
    return _json(200, document.model_dump(mode="json", exclude={"lines"}))


@router.post(
    "/documents/<document_id>/retry-now",
    tags=["Background posting"],
    summary="Retry now: a run over this one document, started now (its submitter, a Run Now "
    "user or a System Administrator)",
    description='202 `{"run_id"}`; the run\'s `trigger` is `document` and its `scope` names '
    "the document. A failed item's retry delay is waived. 409 `no_worker_items` when nothing of "
    "it waits in the background, `worker_items_not_due` when its next item waits for its date "
    "(Post on a date), `worker_item_held` while a worker holds it.",
)
def retry_now(document_id: DocumentId) -> Response[Any]:
    run = background_service.retry_now(caller_from(router.current_event), document_id)
    return _json(202, {"run_id": run.id})


@router.delete(
    "/documents/<document_id>/worker-items",
    tags=["Background posting"],
    summary="Remove a document's pending worker items (System Administrator)",
)
def remove_worker_items(document_id: DocumentId) -> dict[str, Any]:
    return background_service.remove_worker_items(caller_from(router.current_event), document_id)


@router.get(
    "/worker-items",
    tags=["Background posting"],
    summary="My Job Queue: worker items by submitter, newest first (or a document's, by reference)",
    description="Without `reference`: a page of the worker items `submitted_by` submitted "
    "(`me`, the default; another user only for a System Administrator), newest first, of the "
    "companies the caller may use (or `company`), each with its `state`: `queued`, "
    "`in_process` (a worker holds it) or `failed` (attempted, will retry), `attempts` of "
    "`max_attempts`, `next_try`, `last_error` and its account's `account_name`. `next` "
    "gives the following page of the same query. With `reference`: that document's items, "
    "in the order they run.",
)
def worker_items(
    reference: Annotated[
        str | None, Query(min_length=1, max_length=20, description="e.g. SIN000042")
    ] = None,
    submitted_by: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    company: Annotated[str | None, Query(min_length=1, max_length=40)] = None,
    state: Literal["queued", "in_process", "failed"] | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    next: Annotated[str | None, Query(max_length=2000)] = None,
) -> dict[str, Any]:
    caller = caller_from(router.current_event)
    if reference is not None:
        items = background_service.worker_items(caller, reference)
        return {"worker_items": [worker_item_json(item) for item in items]}
    page = background_service.job_queue(caller, submitted_by, company, state, limit, next)
    return {
        "worker_items": [
            worker_item_json(item) | {"account_name": page.account_names.get(item.account or "")}
            for item in page.items
        ],
        "next": page.next_token,
    }


@router.post("/scheduler/run", tags=["Scheduler"], summary="Run Now")
def run_now() -> Response[Any]:
    run = runs.run_now(caller_from(router.current_event))
    return _json(202, {"run_id": run.id})


@router.get(
    "/runs",
    tags=["Background posting"],
    summary="Runs, newest first: every run for an administrator, else those that processed "
    "your work",
    description="A page of runs (`next` gives the following page of the same query), each as "
    "`GET /runs/{id}` answers it. A System Administrator sees every run whose scope reaches a "
    "company they may use; anyone else the runs that processed work they submitted (recorded "
    "as each run queued it). `status` and `trigger` filter; `from` and `to` bound the start "
    "time (a date is that UTC day). A page may hold fewer runs than `limit` when filters "
    "leave some out; `next` is null on the last page.",
)
def list_runs(
    status: Literal[runs.RUN_STATUSES] | None = None,  # type: ignore[valid-type]
    trigger: Literal[runs.RUN_TRIGGERS] | None = None,  # type: ignore[valid-type]
    from_: Annotated[
        str | None,
        Query(alias="from", max_length=40, description="YYYY-MM-DD or an ISO 8601 time"),
    ] = None,
    to: Annotated[
        str | None, Query(max_length=40, description="YYYY-MM-DD or an ISO 8601 time")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    next: Annotated[str | None, Query(max_length=2000)] = None,
) -> dict[str, Any]:
    page = runs.list_runs(
        caller_from(router.current_event), status, trigger, from_, to, limit, next
    )
    return {
        "runs": [run_view(run_json(run)).model_dump(mode="json") for run in page.runs],
        "next": page.next_token,
    }


@router.get(
    "/runs/<run_id>",
    tags=["Background posting"],
    summary="A run: status and counts",
    description="Each count is given under its original key and under a clearer name "
    "(`posted` and `documents_posted`, `completed` and `follow_up_steps_done`, `skipped` and "
    "`nothing_to_do`, ...); the schema says what each counts.",
)
def get_run(run_id: RunId) -> RunView:
    return run_view(run_json(runs.view_run(caller_from(router.current_event), run_id)))


RESULT_COLUMNS = ("at", "document_id", "number", "action", "outcome", "attempt", "errors")


def _entry_row(entry: Any, group_id: str) -> dict[str, Any]:
    return {
        "at": entry.at,
        "document_id": entry.document_id,
        "number": entry.reference,
        "document_type": entry.document_type,
        "action": entry.action,
        "outcome": entry.outcome,
        "attempt": entry.attempt,
        "errors": entry.errors,
        "worker_log_group": group_id,
    }


def _csv(rows: list[dict[str, Any]]) -> str:
    """The rows as CSV for a spreadsheet: one line each, the errors' messages joined."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(RESULT_COLUMNS)
    for row in rows:
        errors = "; ".join(str(e.get("message", "")) for e in row["errors"])
        writer.writerow([*(row[c] for c in RESULT_COLUMNS[:-1]), errors])
    return out.getvalue()


@router.get(
    "/runs/<run_id>/results",
    tags=["Background posting"],
    summary="What a run did: a row per document and action",
    description="Readable by whoever may read the run; an administrator sees every row, "
    "anyone else the rows of the work they submitted; a page at a time (`next`, bound to the "
    "run and outcome). `format=csv` answers the page's rows as text/csv.",
)
def get_run_results(
    run_id: RunId,
    outcome: Annotated[str | None, Query(pattern=r"^[a-z_]{1,40}$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    next: Annotated[str | None, Query(max_length=2000)] = None,
    format: Literal["json", "csv"] = "json",
) -> Response[Any]:
    page = runs.run_results(caller_from(router.current_event), run_id, outcome, limit, next)
    rows = [_entry_row(r.entry, r.group_id) for r in page.results]
    if format == "csv":
        return Response(status_code=200, content_type="text/csv; charset=utf-8", body=_csv(rows))
    return _json(200, {"run_id": run_id, "results": rows, "next": page.next_token})


@router.get(
    "/worker-log-groups",
    tags=["Worker log"],
    summary="Your worker log groups, newest first",
    description="A page of groups (`next` gives the following page, bound to the owner); a "
    "System Administrator may name another `owner`.",
)
def list_log_groups(
    owner: Annotated[str | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
    next: Annotated[str | None, Query(max_length=2000)] = None,
) -> dict[str, Any]:
    page = background_service.log_groups(caller_from(router.current_event), owner, limit, next)
    return {
        "worker_log_groups": [group_json(group, with_entries=False) for group in page.groups],
        "next": page.next_token,
    }


@router.get(
    "/worker-log-groups/<group_id>",
    tags=["Worker log"],
    summary="Every result",
    description="The group and a page of its results in the order they were written (`next` "
    "gives the following page, bound to the group; `summary` counts this page's outcomes). "
    "`format=csv` answers the page's results as text/csv, a line each, for a spreadsheet.",
)
def get_log_group(
    group_id: GroupId,
    format: Literal["json", "csv"] = "json",
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
    next: Annotated[str | None, Query(max_length=2000)] = None,
) -> Response[Any]:
    page = background_service.log_group(caller_from(router.current_event), group_id, limit, next)
    group = page.group
    if format == "csv":
        rows = [_entry_row(entry, group.id) for entry in group.entries]
        return Response(status_code=200, content_type="text/csv; charset=utf-8", body=_csv(rows))
    return _json(200, group_json(group) | {"next": page.next_token})


@router.delete(
    "/worker-log-groups/<group_id>",
    tags=["Worker log"],
    summary="Delete a worker log group (stops its notifications)",
)
def delete_log_group(group_id: GroupId) -> Response[Any]:
    background_service.delete_log_group(caller_from(router.current_event), group_id)
    return Response(status_code=204, content_type=content_types.APPLICATION_JSON, body="")
