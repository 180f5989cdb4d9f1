"""End to end: HTTP against the local stack, as a user or a front end would call it."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.support.api import http
from tests.support.data import account_body, company_body
from tests.support.stack import RunningStack, start_stack


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8].upper()}"


def test_the_stack_answers_health_within_30_seconds(stack: RunningStack) -> None:
    # Counted in CPU seconds (the stack's and its JVM's), which the machine's load does not
    # stretch: on two CPUs shared by several test runs the wall time was 87-113 s for 20 CPU s
    assert stack.cpu_seconds_to_health < 30, (
        f"{stack.cpu_seconds_to_health:.1f} CPU s, {stack.seconds_to_health:.0f} s wall"
    )
    assert http(stack.url, "GET", "/health", user=None).body == {"status": "ok"}


def test_the_stack_serves_its_openapi_document(stack: RunningStack) -> None:
    answer = http(stack.url, "GET", "/openapi.json", user=None)
    assert answer.status == 200
    assert answer.body["openapi"].startswith("3.")
    assert "/companies/{company_id}" in answer.body["paths"]


def test_companies_and_accounts_over_http(stack: RunningStack) -> None:
    company = unique("CO")
    assert http(stack.url, "POST", "/companies", "admin", company_body(company)).status == 201
    assert http(stack.url, "GET", f"/companies/{company}", "clerk").body["id"] == company
    account = unique("AC")
    created = http(stack.url, "POST", "/accounts", "clerk", account_body(account, company))
    assert created.status == 201
    assert http(stack.url, "GET", f"/accounts/{account}", "lister").body == created.body


def test_a_bad_body_gets_a_clear_error_and_changes_nothing(stack: RunningStack) -> None:
    company = unique("CO")
    http(stack.url, "POST", "/companies", "admin", company_body(company))
    bad = http(stack.url, "PATCH", f"/companies/{company}", "admin", {"dual_currency": "EURO"})
    assert bad.status == 400
    assert bad.body["error"]["code"] == "invalid_request"
    assert bad.body["error"]["message"].startswith("Dual currency: 'EURO' is not")
    assert bad.body["error"]["details"]["errors"][0]["field"] == "dual_currency"
    assert http(stack.url, "GET", f"/companies/{company}", "admin").body["dual_currency"] == "EUR"


def test_identity_is_required_and_unknown_users_are_refused(stack: RunningStack) -> None:
    assert http(stack.url, "GET", "/companies/ANY", user=None).status == 401
    assert http(stack.url, "GET", "/companies/ANY", user="nobody").status == 401
    assert http(stack.url, "POST", "/companies", "clerk", company_body(unique("CO"))).status == 403


def test_data_survives_a_restart(tmp_path: Path) -> None:
    first = start_stack(tmp_path / "dynamodb", tmp_path / "stack.log")
    try:
        assert http(first.url, "POST", "/companies", "admin", company_body("KEEP")).status == 201
    finally:
        assert first.stop() == 0
    second = start_stack(tmp_path / "dynamodb", tmp_path / "stack.log")
    try:
        assert http(second.url, "GET", "/companies/KEEP", "admin").body["id"] == "KEEP"
    finally:
        second.stop()


TGKILL = {"x86_64": 234, "aarch64": 131}.get(os.uname().machine)


@pytest.mark.skipif(TGKILL is None, reason="tgkill's syscall number is known for x86_64/arm64")
def test_ctrl_c_stops_the_stack_whichever_thread_the_kernel_hands_it_to(tmp_path: Path) -> None:
    # Given a running stack (its main thread waiting, its gateway and pollers in threads)
    stack = start_stack(tmp_path / "dynamodb", tmp_path / "stack.log")
    try:
        # When SIGINT reaches a thread other than the main one (the kernel may pick any)
        pid = stack.process.pid
        others = sorted(int(t) for t in os.listdir(f"/proc/{pid}/task") if int(t) != pid)
        libc = ctypes.CDLL(None, use_errno=True)
        assert libc.syscall(TGKILL, pid, others[0], signal.SIGINT) == 0, ctypes.get_errno()
        # Then the stack stops by itself, as after Ctrl-C (it used to wait for ever)
        assert stack.process.wait(timeout=120) == 0
    except subprocess.TimeoutExpired:
        pytest.fail("the stack ignored SIGINT delivered to one of its threads")
    finally:
        stack.stop()
