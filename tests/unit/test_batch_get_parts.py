"""A BatchGetItem over several tables is cut into requests DynamoDB takes (100 keys each)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from background_posting.store.base import BATCH_GET_KEYS, _parts


def request_of(sizes: dict[str, int]) -> dict[str, Any]:
    return {
        table: {
            "Keys": [{"id": {"S": f"{table}-{n}"}} for n in range(size)],
            "ConsistentRead": True,
        }
        for table, size in sizes.items()
        if size
    }


@given(st.dictionaries(st.sampled_from(["A", "B", "C", "D"]), st.integers(0, 260)))
def test_every_key_is_asked_once_in_order_in_requests_of_at_most_100_keys(
    sizes: dict[str, int],
) -> None:
    request = request_of(sizes)
    parts = _parts(request)
    # every part is a request DynamoDB takes, and keeps each table's other parameters
    assert all(1 <= sum(len(t["Keys"]) for t in part.values()) <= BATCH_GET_KEYS for part in parts)
    assert all(t["ConsistentRead"] is True for part in parts for t in part.values())
    # and together they ask for every key once, each table's in its order
    for table, asked in request.items():
        keys = [k for part in parts for k in part.get(table, {"Keys": []})["Keys"]]
        assert keys == asked["Keys"]
    # as few requests as the keys need
    total = sum(sizes.values())
    assert len(parts) == -(-total // BATCH_GET_KEYS)


def test_an_empty_request_sends_nothing() -> None:
    assert _parts({}) == []
