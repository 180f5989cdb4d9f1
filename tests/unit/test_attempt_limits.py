"""Which maximum attempts count for a worker item: the setting in force at each attempt."""

from __future__ import annotations

from dataclasses import replace

from background_posting.domain.background import maximum_attempts
from background_posting.domain.settings import BackgroundPostingSettings
from background_posting.domain.work import WorkerItem

ITEM = WorkerItem(
    document_id="d1",
    sequence=2,
    action="post_document",
    reference="SIN000001",
    company="ACME",
    document_type="sales_invoice",
    submitted_by="clerk",
    log_group="g1",
    created_at="2026-12-07T09:00:00+00:00",
    attempts=1,
    max_attempts=3,
    last_error=None,
    not_before=0,
    lease_owner=None,
    lease_until=None,
)
NOW = BackgroundPostingSettings(max_attempts=5, max_attempts_avatax=7)


def test_an_item_counts_against_the_setting_it_names_as_it_is_now() -> None:
    assert maximum_attempts(replace(ITEM, attempts_setting="max_attempts"), NOW) == 5
    assert maximum_attempts(replace(ITEM, attempts_setting="max_attempts_avatax"), NOW) == 7


def test_an_item_queued_before_items_named_their_setting_keeps_its_queued_maximum() -> None:
    assert maximum_attempts(ITEM, NOW) == 3


def test_each_setting_names_its_maximum() -> None:
    assert (NOW.maximum("max_attempts"), NOW.maximum("max_attempts_avatax")) == (5, 7)
