from datetime import UTC, datetime

from background_posting.domain.documents import background_errors


def test_the_errors_a_returned_document_keeps_are_its_last_attempts_in_full() -> None:
    # Given the errors the worker logged at the last attempt, one with a trace
    logged = [
        {"code": "period_closed", "message": "Period 2026-10 is closed.", "field": "document_date"},
        {"code": "unexpected_error", "message": "KeyError: 'rate'", "trace": "Traceback ..."},
    ]
    at = datetime(2026, 12, 1, 6, 41, tzinfo=UTC)
    # When they are kept on the document
    kept = background_errors(
        logged, "g1", step="post_document", attempts=3, log_group_title="Run", at=at
    )
    # Then every error is there, with where it came from
    assert kept.model_dump(mode="json") == {
        "log_group": "g1",
        "log_group_title": "Run",
        "step": "post_document",
        "attempts": 3,
        "at": "2026-12-01T06:41:00Z",
        "errors": [
            {
                "code": "period_closed",
                "message": "Period 2026-10 is closed.",
                "field": "document_date",
            },
            {
                "code": "unexpected_error",
                "message": "KeyError: 'rate'",
                "field": None,
                "trace": "Traceback ...",
            },
        ],
    }
