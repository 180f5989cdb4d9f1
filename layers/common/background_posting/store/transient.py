"""Which failures of AWS calls are transient: worth trying again later, not the work's fault.

Throttling, timeouts, lost connections, internal errors and contended transactions pass by
themselves; the message is retried (SQS) and no attempt is counted. Anything else AWS refuses
(a malformed request, an item too large, a missing table) fails the same way every time: it
is counted as an attempt with its message in the log, so the document cannot stay Ready to
Post for ever.
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException

TRANSIENT_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "LimitExceededException",
        "InternalServerError",
        "InternalFailure",
        "ServiceUnavailable",
        "TransactionConflictException",
        "TransactionInProgressException",
        "TransactionCanceledException",  # what reaches here: throttled items, or contention
        "RequestThrottled",
        "SlowDown",
    }
)


def is_transient(exc: BaseException) -> bool:
    """Whether `exc` is an AWS failure that passes by itself (see the module's docstring)."""
    if isinstance(exc, BotoCoreError):
        return True  # no answer at all: a connection, timeout or endpoint problem
    if isinstance(exc, PynamoDBException):
        cause = exc.cause
        if exc.cause_response_code is None:
            return (
                cause is None
                or isinstance(cause, BotoCoreError)
                or not isinstance(cause, ClientError)
            )
        return exc.cause_response_code in TRANSIENT_CODES
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return code in TRANSIENT_CODES or status >= 500
    return False


def is_aws_error(exc: BaseException) -> bool:
    """Whether `exc` came from an AWS call at all (transient or not)."""
    return isinstance(exc, BotoCoreError | ClientError | PynamoDBException)
