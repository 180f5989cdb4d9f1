"""Digest claims, in the work log table: each run's e-mail to each person, sent once.

A claim is `pk = RUN#<run id>`, `sk = NOTIFY#<recipient>`; its `claim_state` is `sending`
(held by one sender until `claim_until`), `sent` or `unsent` (free to claim again).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from pynamodb.exceptions import DoesNotExist, UpdateError

from background_posting import clock
from background_posting.store.base import is_condition_failure
from background_posting.store.work_log import WorkLogRecord, expiry

CLAIMED, SENT, SENDING = "claimed", "sent", "sending"


@dataclass(frozen=True)
class DigestClaim:
    """`claimed`: this caller may send (with `token`); `sent`: it went already; `sending`:
    another caller holds an unexpired claim."""

    state: str
    token: str | None = None


def _claim_key(run_id: str, recipient: str) -> tuple[str, str]:
    return f"RUN#{run_id}", f"NOTIFY#{recipient}"


def claim_digest(run_id: str, recipient: str, now: float, hold_seconds: float) -> DigestClaim:
    """Take the right to send the run's digest to `recipient` (a conditional write).

    Granted when nobody claimed it, when an earlier send failed (`unsent`), or when a claim
    was left `sending` past its hold (its holder died before it could record the outcome).
    """
    token = uuid.uuid4().hex
    record = WorkLogRecord(*_claim_key(run_id, recipient))
    free = (
        WorkLogRecord.pk.does_not_exist()
        | (WorkLogRecord.claim_state == "unsent")
        | ((WorkLogRecord.claim_state == SENDING) & (WorkLogRecord.claim_until < now))
    )
    try:
        record.update(
            actions=[
                WorkLogRecord.claim_state.set(SENDING),
                WorkLogRecord.claim_token.set(token),
                WorkLogRecord.claim_until.set(now + hold_seconds),
                WorkLogRecord.expires_at.set(expiry(clock.now())),
            ],
            condition=free,
        )
    except UpdateError as exc:
        if not is_condition_failure(exc):
            raise
        current = WorkLogRecord.get(*_claim_key(run_id, recipient), consistent_read=True)
        return DigestClaim(SENT if current.claim_state == SENT else SENDING)
    return DigestClaim(CLAIMED, token)


def digest_sent(run_id: str, recipient: str, token: str, message_id: str) -> bool:
    """Record that the digest went (False if the claim had expired and was taken over)."""
    record = WorkLogRecord(*_claim_key(run_id, recipient))
    try:
        record.update(
            actions=[
                WorkLogRecord.claim_state.set(SENT),
                WorkLogRecord.body.set(
                    json.dumps({"message_id": message_id, "sent_at": clock.now().isoformat()})
                ),
            ],
            condition=WorkLogRecord.claim_token == token,
        )
    except UpdateError as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


def digest_unsent(run_id: str, recipient: str, token: str) -> None:
    """Give the claim back after a failed send, so that the retry may claim it at once."""
    record = WorkLogRecord(*_claim_key(run_id, recipient))
    try:
        record.update(
            actions=[WorkLogRecord.claim_state.set("unsent")],
            condition=(WorkLogRecord.claim_token == token) & (WorkLogRecord.claim_state == SENDING),
        )
    except UpdateError as exc:
        if not is_condition_failure(exc):
            raise


def digest_state(run_id: str, recipient: str) -> str | None:
    """`sending`, `sent`, `unsent`, or None when never claimed."""
    try:
        record = WorkLogRecord.get(*_claim_key(run_id, recipient), consistent_read=True)
    except DoesNotExist:
        return None
    return record.claim_state
