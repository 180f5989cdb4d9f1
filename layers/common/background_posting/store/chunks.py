"""Lines kept 500 to an item: the chunk arithmetic the documents and ledger tables share.

A document's lines and a transaction's lines are stored the same way: chunk k holds lines
[500k, 500k + 500) as one compact JSON array, under a sort key that ends in k with six digits,
so a slice of lines is one Query between two sort keys. Serialising is done one chunk at a
time, so a large document's lines never sit in memory as items all at once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

LINES_PER_CHUNK = 500


def chunk_key(chunk: int) -> str:
    """The six-digit part of a chunk's sort key: `000012`."""
    return f"{chunk:06d}"


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def chunked(rows: Iterable[Any], first_chunk: int = 0) -> Iterator[tuple[int, str]]:
    """(chunk number, its JSON) for every 500 rows, numbered from `first_chunk`."""
    chunk: list[Any] = []
    index = first_chunk
    for row in rows:
        chunk.append(row)
        if len(chunk) == LINES_PER_CHUNK:
            yield index, dumps(chunk)
            chunk, index = [], index + 1
    if chunk:
        yield index, dumps(chunk)


def joined(chunks: Iterable[str | None]) -> list[Any]:
    """The lines of chunks read in order, as one list."""
    lines: list[Any] = []
    for chunk in chunks:
        lines.extend(json.loads(chunk or "[]"))
    return lines


@dataclass(frozen=True)
class Span:
    """Which chunks hold a slice of lines, and where in their lines the slice is."""

    first: int
    last: int
    skip: int
    take: int

    @property
    def empty(self) -> bool:
        return self.last < self.first

    def cut(self, lines: list[Any]) -> list[Any]:
        """The slice, out of the lines of chunks first..last."""
        return lines[self.skip : self.skip + self.take]


def span(offset: int, limit: int | None, chunk_count: int, line_count: int | None = None) -> Span:
    """The chunks holding lines [offset, offset + limit) of `line_count` lines (all from
    `offset` when limit is None; without a line count, as many as the chunks can hold)."""
    total = chunk_count * LINES_PER_CHUNK if line_count is None else line_count
    end = total if limit is None else min(total, offset + limit)
    first = offset // LINES_PER_CHUNK
    last = min(chunk_count, -(-end // LINES_PER_CHUNK)) - 1
    return Span(first, last, offset - first * LINES_PER_CHUNK, max(end - offset, 0))


def append_point(line_count: int) -> tuple[int, int]:
    """Where lines appended after `line_count` lines go: (the last chunk, how many lines it
    holds already); the appended lines fill that chunk, then new ones."""
    last = line_count // LINES_PER_CHUNK
    return last, line_count - last * LINES_PER_CHUNK
