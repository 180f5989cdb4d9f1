"""Invoice verification's arithmetic: expected totals, tolerance, rounding, cancelling lines,
and what posts within tolerance (accept to small differences, or reduce)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from background_posting.domain.company import Account, Company
from background_posting.domain.documents import Document
from background_posting.domain.ledger import build_transaction
from background_posting.domain.money import minor_units, round_money
from background_posting.domain.purchasing import OrderLine
from background_posting.domain.settings import CompanySettings
from background_posting.domain.verification import (
    InvoiceLineRef,
    InvoiceVerificationSettings,
    allocations,
    lines_to_post,
    references,
    tolerance_for,
    verify,
)
from tests.support.data import account_body, company_body
from tests.support.purchasing import invoice_body

NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
EXACT = InvoiceVerificationSettings()


def order_line(
    line: int, ordered: str, price: str, received: str = "0", invoiced: str = "0"
) -> OrderLine:
    return OrderLine(
        purchase_order="PO-4711",
        line=line,
        description=f"Item {line}",
        quantity=Decimal(ordered),
        unit_price=Decimal(price),
        received_quantity=Decimal(received),
        invoiced_quantity=Decimal(invoiced),
    )


def ref(index: int, line: int, net: str) -> InvoiceLineRef:
    return InvoiceLineRef(index, "PO-4711", line, Decimal(net))


def lines_by_key(*lines: OrderLine) -> dict[tuple[str, int], OrderLine]:
    return {(line.purchase_order, line.line): line for line in lines}


# -- the source's example ----------------------------------------------------------------------


def test_the_source_example_fails_with_one_receipt_and_verifies_with_both() -> None:
    # Given an invoice of 1,600.00 in lines of 1,100.00 (order line 1) and 500.00 (line 2)
    refs = [ref(0, 1, "1100.00"), ref(1, 2, "500.00")]
    first_only = lines_by_key(order_line(1, "100", "10", "100"), order_line(2, "50", "12"))
    both = lines_by_key(order_line(1, "100", "10", "100"), order_line(2, "50", "12", "50"))

    # When only the first receipt exists, then after the second
    before = verify(refs, first_only, EXACT, "GBP", NOW)
    after = verify(refs, both, EXACT, "GBP", NOW)

    # Then it fails, saying what is missing per order line, and later verifies exactly
    assert before.status == "with_errors"
    assert (before.expected, before.invoiced, before.difference) == (
        Decimal("1000.00"),
        Decimal("1600.00"),
        Decimal("600.00"),
    )
    line_errors = [e for e in before.errors if e["code"] == "order_line_difference"]
    assert [(e["purchase_order_line"], e["difference"]) for e in line_errors] == [
        (1, "100.00"),
        (2, "500.00"),
    ]
    assert "50 of 50 not received yet" in line_errors[1]["message"]
    assert after.status == "verified" and after.outcome == "matched"
    assert after.expected == Decimal("1600.00") and after.difference == 0
    # ...and posting it invoices exactly what was received
    assert [(a.line, a.quantity) for a in allocations(after)] == [
        (1, Decimal(100)),
        (2, Decimal(50)),
    ]


def test_what_other_invoices_used_is_not_expected_again() -> None:
    refs = [ref(0, 1, "400.00")]
    partly = lines_by_key(order_line(1, "100", "10", received="100", invoiced="60"))
    result = verify(refs, partly, EXACT, "GBP", NOW)
    assert result.status == "verified" and result.expected == Decimal("400.00")
    assert allocations(result)[0].invoiced_before == Decimal(60)


def test_an_order_line_named_by_two_invoice_lines_is_expected_once() -> None:
    refs = [ref(0, 1, "600.00"), ref(1, 1, "400.00")]
    result = verify(refs, lines_by_key(order_line(1, "100", "10", "100")), EXACT, "GBP", NOW)
    assert result.status == "verified"
    assert len(result.order_lines) == 1 and result.order_lines[0].invoiced == Decimal("1000.00")


# -- tolerance -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "percent", "expected", "currency", "tolerance"),
    [
        ("5.00", "1", "1000.00", "GBP", "10.00"),  # the percent allows more
        ("5.00", "0.1", "1000.00", "GBP", "5.00"),  # the amount allows more
        ("0", "0.5", "333.33", "GBP", "1.67"),  # 1.66665 rounds half away from zero
        ("0", "1", "12345", "JPY", "123"),
        ("0", "0.05", "10.001", "KWD", "0.005"),
        ("0.004", "0", "10.000", "GBP", "0.00"),  # an amount finer than the currency rounds
    ],
)
def test_the_tolerance_is_the_larger_of_amount_and_percent_rounded_to_the_currency(
    amount: str, percent: str, expected: str, currency: str, tolerance: str
) -> None:
    settings = InvoiceVerificationSettings(
        tolerance_amount=Decimal(amount), tolerance_percent=Decimal(percent)
    )
    assert tolerance_for(Decimal(expected), settings, currency) == Decimal(tolerance)


CURRENCIES = st.sampled_from(["GBP", "JPY", "KWD", "EUR"])


@st.composite
def orders(draw: Any) -> tuple[str, list[OrderLine]]:
    currency = draw(CURRENCIES)
    count = draw(st.integers(1, 5))
    lines = []
    for number in range(1, count + 1):
        ordered = draw(st.integers(1, 500))
        received = draw(st.integers(0, ordered))
        invoiced = draw(st.integers(0, received))
        price = Decimal(draw(st.integers(0, 10**6))).scaleb(-draw(st.integers(0, 4)))
        lines.append(order_line(number, str(ordered), str(price), str(received), str(invoiced)))
    return currency, lines


def _expected(lines: list[OrderLine], currency: str) -> Decimal:
    return sum(
        (round_money(line.available * line.unit_price, currency) for line in lines), Decimal(0)
    )


@given(orders(), st.integers(0, 5000), st.decimals(0, 10, places=2), st.integers(-3, 3))
def test_a_difference_verifies_exactly_up_to_the_tolerance(
    order: tuple[str, list[OrderLine]], amount_units: int, percent: Decimal, offset: int
) -> None:
    # Given an invoice that differs from the expected total by the tolerance, plus `offset`
    # minor units
    currency, lines = order
    unit = Decimal(1).scaleb(-minor_units(currency))
    settings = InvoiceVerificationSettings(
        tolerance_amount=amount_units * unit, tolerance_percent=percent
    )
    expected = _expected(lines, currency)
    tolerance = tolerance_for(expected, settings, currency)
    sign = 1 if offset % 2 == 0 else -1  # over and under the expected total alike
    invoiced = expected + sign * max(tolerance + offset * unit, Decimal(0))
    refs = [ref(0, lines[0].line, str(invoiced - (expected - _expected(lines[:1], currency))))]
    refs += [
        ref(i, line.line, str(_expected([line], currency))) for i, line in enumerate(lines[1:], 1)
    ]

    # When it is verified
    result = verify(refs, lines_by_key(*lines), settings, currency, NOW)

    # Then it verifies exactly when |difference| <= tolerance, and says so with the numbers
    assert result.expected == expected and result.invoiced == invoiced
    assert result.difference == invoiced - expected
    assert result.tolerance == tolerance
    assert tolerance >= settings.tolerance_amount - unit / 2
    assert tolerance >= round_money(abs(expected) * percent / 100, currency)
    assert (result.status == "verified") is (offset <= 0)
    if result.status == "with_errors":
        assert result.errors[0]["difference"] == format(invoiced - expected, "f")


@given(orders(), st.data())
def test_line_differences_cancel_out_when_the_total_matches(
    order: tuple[str, list[OrderLine]], data: st.DataObject
) -> None:
    # Given the expected total spread over the lines in any way (lines over and under)
    currency, lines = order
    unit = Decimal(1).scaleb(-minor_units(currency))
    expected = _expected(lines, currency)
    shifts = [data.draw(st.integers(-(10**6), 10**6)) * unit for _ in lines[1:]]
    nets = [expected - sum(shifts, Decimal(0)), *shifts]
    refs = [
        ref(i, line.line, str(net)) for i, (line, net) in enumerate(zip(lines, nets, strict=True))
    ]

    # When it is verified without any tolerance
    result = verify(refs, lines_by_key(*lines), EXACT, currency, NOW)

    # Then it verifies: only the total is compared
    assert result.status == "verified" and result.outcome == "matched"
    assert sum((c.difference for c in result.order_lines), Decimal(0)) == 0


@given(orders())
def test_expected_amounts_are_rounded_to_the_currency_line_by_line(
    order: tuple[str, list[OrderLine]],
) -> None:
    currency, lines = order
    refs = [ref(i, line.line, "0") for i, line in enumerate(lines)]
    result = verify(refs, lines_by_key(*lines), EXACT, currency, NOW)
    for check in result.order_lines:
        assert check.expected == round_money(check.available * check.unit_price, currency)
        assert check.expected == round_money(check.expected, currency)
    assert result.expected == sum((c.expected for c in result.order_lines), Decimal(0))


# -- what posts -------------------------------------------------------------------------------


def _invoice(lines: list[tuple[str, str, int]], **verification: Any) -> Document:
    body = invoice_body(lines)
    return Document.model_validate(
        {
            **body,
            "id": "pin-1",
            "number": "PIN000001",
            "tax_mode": "builtin",
            "line_count": len(body["lines"]),
            "created_at": NOW,
            "created_by": "clerk",
            "updated_at": NOW,
        }
    )


def _post(document: Document) -> dict[str, Decimal]:
    """The transaction's document values by GL account (and the control line's)."""
    company = Company.model_validate(company_body())
    vendor = Account.model_validate(
        account_body("VEND01", kind="vendor", trading_currencies=["GBP"])
    )
    gl = company.gl_accounts
    draft = build_transaction(
        lines_to_post(document, gl.small_differences, gl.expense),
        company,
        {"VEND01": vendor},
        CompanySettings(),
    )
    totals: dict[str, Decimal] = {}
    for line in draft.lines:
        totals[line.gl_account] = totals.get(line.gl_account, Decimal(0)) + line.document_value
    return totals


@pytest.mark.parametrize(
    ("within", "invoice_price", "vendor", "expense", "small"),
    [
        ("accept", "10.03", "-1003.00", "1000.00", "3.00"),
        ("reduce", "10.03", "-1000.00", "1000.00", None),
        ("accept", "9.98", "-998.00", "1000.00", "-2.00"),
        ("reduce", "9.98", "-998.00", "1000.00", "-2.00"),  # an undercharge is not raised
    ],
)
def test_within_tolerance_the_vendor_is_owed_the_invoice_or_the_reduced_total(
    within: str, invoice_price: str, vendor: str, expense: str, small: str | None
) -> None:
    # Given 100 received at 10.00 and an invoice at another price, within a 5.00 tolerance
    settings = InvoiceVerificationSettings(
        tolerance_amount=Decimal(5),
        within_tolerance=within,  # type: ignore[arg-type]
    )
    document = _invoice([("100", invoice_price, 1)])
    received = lines_by_key(order_line(1, "100", "10", "100"))

    # When it is verified and posted
    result = verify(references(document), received, settings, "GBP", NOW)
    totals = _post(document.model_copy(update={"verification": result}))

    # Then the vendor, the expense (what the receipts are worth) and small differences say so
    assert result.status == "verified"
    assert totals["2100"] == Decimal(vendor)
    assert totals["5000"] == Decimal(expense)
    assert totals.get("7910") == (Decimal(small) if small else None)
    assert sum(totals.values(), Decimal(0)) == 0


def test_an_exact_invoice_posts_its_own_lines_only() -> None:
    document = _invoice([("100", "11.00", 1), ("50", "10.00", 2)])
    received = lines_by_key(order_line(1, "100", "10", "100"), order_line(2, "50", "12", "50"))
    result = verify(references(document), received, EXACT, "GBP", NOW)
    verified = document.model_copy(update={"verification": result})
    assert lines_to_post(verified, "7910", "5000").lines == document.lines  # nothing added
    assert _post(verified) == {"2100": Decimal("-1600.00"), "5000": Decimal("1600.00")}


def test_the_suggested_values_post_when_the_company_says_so() -> None:
    # Given the source's invoice: the vendor's lines 1,100.00 (order line 1) and 500.00 (line 2)
    # against 100 received at 10.00 and 50 at 12.00, and a company posting suggested values
    document = _invoice([("100", "11.00", 1), ("50", "10.00", 2)])
    received = lines_by_key(order_line(1, "100", "10", "100"), order_line(2, "50", "12", "50"))
    settings = InvoiceVerificationSettings(post_values="suggested")

    # When it is verified and posted
    result = verify(references(document), received, settings, "GBP", NOW)
    posted = lines_to_post(document.model_copy(update={"verification": result}), "7910", "5000")

    # Then the ledger shows the suggested items, 1,000.00 and 600.00, not the vendor's values
    assert result.status == "verified" and result.posted_values == "suggested"
    assert [
        (line.purchase_order_line, line.quantity, line.unit_price) for line in posted.lines
    ] == [
        (1, Decimal(100), Decimal(10)),
        (2, Decimal(50), Decimal(12)),
    ]
    assert [line.description for line in posted.lines] == ["Item 1", "Item 2"]
    # ...and a keyed company (the default) keeps the vendor's lines
    keyed = verify(references(document), received, EXACT, "GBP", NOW)
    assert keyed.posted_values == "keyed"
    assert lines_to_post(
        document.model_copy(update={"verification": keyed}), "7910", "5000"
    ).lines == (document.lines)


@pytest.mark.parametrize(
    ("within", "vendor", "small"),
    [("accept", "-1003.00", "3.00"), ("reduce", "-1000.00", None)],
)
def test_suggested_values_within_tolerance_owe_the_vendor_the_invoice_or_the_reduced_total(
    within: str, vendor: str, small: str | None
) -> None:
    settings = InvoiceVerificationSettings(
        tolerance_amount=Decimal(5),
        within_tolerance=within,  # type: ignore[arg-type]
        post_values="suggested",
    )
    document = _invoice([("100", "10.03", 1)])
    received = lines_by_key(order_line(1, "100", "10", "100"))
    result = verify(references(document), received, settings, "GBP", NOW)
    totals = _post(document.model_copy(update={"verification": result}))
    assert totals["2100"] == Decimal(vendor)
    assert totals["5000"] == Decimal("1000.00")  # what the receipts are worth
    assert totals.get("7910") == (Decimal(small) if small else None)


def test_an_invoice_referencing_orders_is_verified_in_the_background_before_it_posts() -> None:
    from background_posting.domain.background import background_reasons, plan_items
    from background_posting.domain.settings import BackgroundPostingSettings

    document = _invoice([("100", "10.00", 1)])
    avatax = document.model_copy(update={"tax_mode": "avatax"})
    plain = document.model_copy(
        update={
            "lines": [
                line.model_copy(update={"purchase_order": None, "purchase_order_line": None})
                for line in document.lines
            ]
        }
    )
    settings = BackgroundPostingSettings()

    assert "it is verified against goods receipts" in background_reasons(
        document, CompanySettings(), "button"
    )
    assert background_reasons(plain, CompanySettings(), "button") == []
    plan = [p.action for p in plan_items(document, settings, posted_already=False)]
    assert plan == ["verify_invoice", "post_document"]
    taxed = [p.action for p in plan_items(avatax, settings, posted_already=False)]
    assert taxed == ["calculate_tax", "verify_invoice", "post_document", "commit_tax"]
    sequences = [p.sequence for p in plan_items(avatax, settings, posted_already=False)]
    assert sequences == sorted(sequences)


def test_invoice_lines_without_an_account_post_to_their_order_lines_account() -> None:
    document = _invoice([("100", "10.00", 1)])
    line = order_line(1, "100", "10", "100").model_copy(update={"gl_account": "5300"})
    result = verify(references(document), lines_by_key(line), EXACT, "GBP", NOW)
    totals = _post(document.model_copy(update={"verification": result}))
    assert totals == {"2100": Decimal("-1000.00"), "5300": Decimal("1000.00")}
