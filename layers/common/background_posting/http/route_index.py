"""The API's routes as its OpenAPI document lists them: which methods a concrete path takes,
and which query parameters an operation declares (`/documents/post` is its own route, not
`/documents/{document_id}`: the match with the fewest parameters names a path)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RouteIndex:
    routes: tuple[tuple[re.Pattern[str], int, dict[str, Any]], ...]
    """(the path template as a pattern, how many parameters it has, its operations)."""

    @classmethod
    def of(cls, document: dict[str, Any]) -> RouteIndex:
        return cls(
            tuple(
                (
                    re.compile(re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template))),
                    template.count("{"),
                    {method.upper(): operation for method, operation in operations.items()},
                )
                for template, operations in document.get("paths", {}).items()
            )
        )

    def _operations(self, path: str) -> dict[str, Any]:
        found: dict[int, dict[str, Any]] = {}
        for pattern, parameters, operations in self.routes:
            if pattern.fullmatch(path):
                found.setdefault(parameters, {}).update(operations)
        return found[min(found)] if found else {}

    def methods(self, path: str) -> list[str]:
        """The methods the path takes (none: no such path)."""
        return sorted(self._operations(path))

    def query_names(self, method: str, path: str) -> set[str] | None:
        """The query parameters the operation declares; None when there is no such operation."""
        operation = self._operations(path).get(method.upper())
        if operation is None:
            return None
        return {str(p["name"]) for p in operation.get("parameters", []) if p.get("in") == "query"}
