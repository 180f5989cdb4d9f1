"""The local stack over HTTP: what reaches the API and from where."""

from __future__ import annotations

import http.client
import json
import os
from pathlib import Path
from urllib.parse import urlsplit

from tests.support.stack import RunningStack

LOOPBACK = {"127.0.0.1", "::1", "::ffff:127.0.0.1"}


def _address(hex_address: str) -> str:
    """An address as /proc/net/tcp{,6} writes it (host byte order per 32-bit word)."""
    raw = bytes.fromhex(hex_address)
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    if len(words) == 4:
        return ".".join(str(b) for b in words)
    if words[:12] == b"\0" * 10 + b"\xff\xff":
        return "::ffff:" + ".".join(str(b) for b in words[12:])
    groups = [words[i : i + 2].hex().lstrip("0") or "0" for i in range(0, 16, 2)]
    return ":".join(groups).replace("0:0:0:0:0:0:0:1", "::1").replace("0:0:0:0:0:0:0:0", "::")


def _listening() -> dict[int, tuple[str, int]]:
    """Every listening TCP socket on this machine: inode -> (address, port)."""
    found = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            fields = row.split()
            if fields[3] != "0A":  # LISTEN
                continue
            host, port = fields[1].split(":")
            found[int(fields[9])] = (_address(host), int(port, 16))
    return found


def _process_tree(root: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, grew = {root}, True
    while grew:
        children = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= children
        grew = bool(children)
    return tree


def _sockets_of(pids: set[int]) -> set[int]:
    inodes = set()
    for pid in pids:
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(int(target[8:-1]))
        except OSError:
            continue
    return inodes


def test_every_service_of_the_local_stack_listens_on_loopback_only(stack: RunningStack) -> None:
    # Given the running stack and its child processes (DynamoDB Local's JVM)
    listening = _listening()
    mine = {
        inode: where
        for inode, where in listening.items()
        if inode in _sockets_of(_process_tree(stack.process.pid))
    }
    # Then it listens on several ports (gateway, moto, DynamoDB Local, AvaTax stand-in) ...
    assert len(mine) >= 4, mine
    # ... each bound to the loopback address, none to every interface
    assert {address for address, _ in mine.values()} <= LOOPBACK, mine


def _post(stack: RunningStack, path: str, body: bytes) -> tuple[int, dict[str, object]]:
    url = urlsplit(stack.url)
    connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=120)
    try:
        connection.request(
            "POST",
            path,
            body=body,
            headers={"Content-Type": "application/json", "Authorization": "Bearer admin"},
        )
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def test_a_body_over_6_mb_is_refused_by_the_gateway_with_413(stack: RunningStack) -> None:
    status, body = _post(stack, "/documents", b"[" + b" " * (6 * 1024 * 1024) + b"]")
    assert status == 413
    assert body["error"]["code"] == "request_too_large"  # type: ignore[index]
    assert "/lines" in body["error"]["message"]  # type: ignore[index]


def test_a_body_that_is_not_utf8_is_a_400_not_a_502(stack: RunningStack) -> None:
    status, body = _post(stack, "/companies", '{"id": "CAF\u00c9"}'.encode("latin-1"))
    assert status == 400
    assert body["error"]["details"]["errors"][0]["field"] == "body"  # type: ignore[index]


def test_deeply_nested_json_is_a_400_not_a_500(stack: RunningStack) -> None:
    for path in ("/documents", "/documents/post"):
        status, body = _post(stack, path, b"[" * 5000 + b"]" * 5000)
        assert status == 400, (path, body)
        assert body["error"]["code"] == "invalid_request"  # type: ignore[index]


def test_a_run_interrupted_by_a_killed_stack_finishes_after_the_restart(tmp_path: Path) -> None:
    import signal
    import subprocess
    import time

    from tests.support.api import http
    from tests.support.http_steps import given_company, given_documents
    from tests.support.stack import start_stack
    from tests.support.waiting import eventually

    # Given a backlog queued from a list view by the clerk, and Run Now under way
    first = start_stack(tmp_path / "dynamodb", tmp_path / "stack.log")
    try:
        company = given_company(first.url)
        backlog = given_documents(first.url, company, per_type=4)
        ids = [d["id"] for d in backlog]
        assert http(first.url, "POST", "/documents/post", "clerk", {"ids": ids}).status == 202
        run_id = http(first.url, "POST", "/scheduler/run", "runner").body["run_id"]

        def started() -> dict[str, object] | None:
            run = http(first.url, "GET", f"/runs/{run_id}", "runner").body
            return run if run["counts"]["queued"] > 0 or run["status"] != "finding work" else None

        eventually(started, 60, every=0.05)
        at_kill = http(first.url, "GET", f"/runs/{run_id}", "runner").body
    finally:
        # When the whole stack is killed mid-run (no chance to clean up)
        tree = _process_tree(first.process.pid)
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=30)
    deadline = time.monotonic() + 60
    while any(Path(f"/proc/{pid}").exists() for pid in tree) and time.monotonic() < deadline:
        time.sleep(0.2)  # DynamoDB Local's JVM follows its parent (PR_SET_PDEATHSIG)
    # Then the stack, started again on the same data, finishes the run and sends the digest
    assert not str(at_kill["status"]).startswith("completed"), at_kill  # killed mid-run
    second = start_stack(tmp_path / "dynamodb", tmp_path / "stack.log")
    try:
        before = http(second.url, "GET", f"/runs/{run_id}", "runner").body

        def done() -> dict[str, object] | None:
            run = http(second.url, "GET", f"/runs/{run_id}", "runner").body
            return run if str(run["status"]).startswith("completed") else None

        final = eventually(done, 240)
        statuses = {http(second.url, "GET", f"/documents/{i}", "clerk").body["status"] for i in ids}
        assert statuses == {"Complete"}, (before, final, statuses)
        emails = eventually(
            lambda: [
                e
                for e in http(second.url, "GET", "/_local/emails", None).body
                if "clerk@example.com" in e["to"]
            ],
            60,
        )
        assert "posted" in emails[-1]["subject"]
    finally:
        second.process.send_signal(signal.SIGINT)
        try:  # a loaded machine may take longer than RunningStack.stop's 30 s to stop
            second.process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            second.process.kill()
            second.process.wait(timeout=30)
