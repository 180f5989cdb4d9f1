"""The API function: API Gateway proxy events in, JSON answers out."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from background_posting.config import get_settings
from background_posting.function_settings import ApiFunctionSettings
from background_posting.handlers import function_tracer
from background_posting.http.app import build, handle

logger = Logger()
tracer = function_tracer()
metrics = Metrics()
# At cold start: a missing or invalid setting fails the import, naming its variable.
settings = get_settings(ApiFunctionSettings)
app = build()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(raise_on_empty_metrics=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle(app, event, context)
