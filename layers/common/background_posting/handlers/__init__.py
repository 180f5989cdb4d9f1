"""What the Lambda handlers in functions/ share: one shape per event source, and the tracer."""

from __future__ import annotations

from aws_lambda_powertools import Tracer

TRACED_MODULES = ("botocore", "pynamodb", "httplib")
"""What X-Ray traces: the AWS SDK (boto3's clients and pynamodb's requests) and AvaTax's HTTP
(`http.client`). Powertools' default patches every module X-Ray supports, which at each cold
start imports and patches sqlite3 and looks for a dozen database drivers the product does not
use (about 20 ms of the workers' import)."""


def function_tracer() -> Tracer:
    """A function's Powertools tracer, patching `TRACED_MODULES` only."""
    return Tracer(patch_modules=TRACED_MODULES)
