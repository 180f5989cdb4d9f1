"""The base of our pydantic models: each builds its validator and serializer when it is first
used, not when its module is imported.

A function's cold start imports every model its modules define (the API's request and
response models, every setting and document type), while an invocation uses a few of them:
built at import, they were most of our own import time (docs/performance.md). Validation,
serialization and JSON schemas are the same either way; a model's config, merged with this
one, keeps its other options.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class LazyModel(BaseModel):
    """A pydantic model built on first use (`defer_build`)."""

    model_config = ConfigDict(defer_build=True)
