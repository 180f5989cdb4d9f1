"""The processes tests start own their ports: a port someone else took is never ours."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra import dynamodb_local
from infra.dynamodb_local import DynamoDBLocal, local_client
from infra.ports import free_port, listens_on


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port another process listens on (and never answers)."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield int(other.getsockname()[1])


def test_dynamodb_local_moves_to_a_port_of_its_own_when_its_first_is_taken(
    taken_port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the first port found free is taken by another process before the JVM binds it
    offered = iter([taken_port])
    monkeypatch.setattr(dynamodb_local, "free_port", lambda: next(offered, 0) or free_port())
    log = tmp_path / "dynamodb-local.log"
    # When DynamoDB Local starts
    server = DynamoDBLocal(0, None, log_file=log).start()
    try:
        # Then it tried that port, failed to bind it, and serves on another that it holds
        assert "BindException" in log.read_text()
        assert server.port != taken_port
        assert server.process is not None and listens_on(server.process.pid, server.port)
        assert local_client("dynamodb", server.endpoint).list_tables()["TableNames"] == []
    finally:
        server.stop()
    assert server.process is None
