"""Entering and correcting documents in the console, in Chromium on the local stack: New on
every list view, the form of an In Progress document (header, lines grid, Save, Save & Post),
each field error from the API next to its field, and the posting preview."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.support.api import http
from tests.support.console import NARROW, given_unbalanced_journal, sign_in
from tests.support.http_steps import given_company, given_documents_of_type
from tests.support.stack import RunningStack

TYPES = [
    ("sales_invoice", "Sales Invoices", "New Sales Invoice"),
    ("sales_credit_note", "Sales Credit Notes", "New Sales Credit Note"),
    ("payable_invoice", "Payable Invoices", "New Payable Invoice"),
    ("payable_credit_note", "Payable Credit Notes", "New Payable Credit Note"),
    ("journal", "Journals", "New Journal"),
]


def _line(page: Page, number: int) -> Locator:
    return page.get_by_role("row", name=f"Line {number}", exact=True)


def _header(page: Page) -> Locator:
    return page.get_by_role("group", name="Header")


def _documents(url: str, company: str, doc_type: str) -> list[dict[str, object]]:
    answer = http(url, "GET", f"/documents?company={company}&type={doc_type}", "clerk")
    documents: list[dict[str, object]] = answer.body["documents"]
    return documents


@pytest.mark.parametrize(("doc_type", "plural", "heading"), TYPES)
def test_every_list_view_has_new_which_opens_a_blank_document_of_its_type(
    page: Page, stack: RunningStack, doc_type: str, plural: str, heading: str
) -> None:
    # Given the clerk on a list view
    sign_in(page, stack.url, "clerk", f"/documents/{doc_type}")
    expect(page.get_by_role("heading", level=1)).to_have_text(plural)
    # When New is pressed
    page.get_by_role("button", name="New", exact=True).click()
    # Then a blank document of that type opens: its header and one empty line
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.get_by_role("heading", level=1)).to_be_focused()
    header = _header(page)
    for label in ("Company", "Account", "Document date", "Currency"):
        expect(header.get_by_label(label, exact=True)).to_be_visible()
    columns = (
        ("Description", "GL account", "Account", "Debit", "Credit")
        if doc_type == "journal"
        else ("Description", "Quantity", "Unit price", "Tax code", "GL account")
    )
    for label in columns:
        expect(_line(page, 1).get_by_label(label, exact=True)).to_have_value(
            "1" if label == "Quantity" else ""
        )
    expect(_line(page, 2)).to_have_count(0)
    for button in ("Add line", "Save", "Save & Post"):
        expect(page.get_by_role("button", name=button, exact=True)).to_be_visible()


def test_a_clerk_enters_corrects_previews_and_posts_a_sales_invoice(
    page: Page, stack: RunningStack
) -> None:
    # Given a company with a customer; the clerk opens a new sales invoice from its list
    company = given_company(stack.url)
    sign_in(page, stack.url, "clerk", "/documents/sales_invoice")
    page.get_by_role("button", name="New", exact=True).click()
    header = _header(page)
    header.get_by_label("Company", exact=True).fill(company)
    header.get_by_label("Company", exact=True).blur()
    # the company's home currency is filled in
    expect(header.get_by_label("Currency", exact=True)).to_have_value("GBP")
    header.get_by_label("Account", exact=True).fill(f"C-{company}")
    header.get_by_label("Document date", exact=True).fill("2026-11-20")
    # When two lines are entered, the first with a quantity that is not a number
    first = _line(page, 1)
    first.get_by_label("Description", exact=True).fill("Widgets")
    first.get_by_label("Quantity", exact=True).fill("3 boxes")
    first.get_by_label("Unit price", exact=True).fill("12.50")
    first.get_by_label("Tax code", exact=True).fill("STD")
    page.get_by_role("button", name="Add line", exact=True).click()
    second = _line(page, 2)
    second.get_by_label("Description", exact=True).fill("Delivery")
    second.get_by_label("Unit price", exact=True).fill("7.99")
    second.get_by_label("Tax code", exact=True).fill("ZERO")
    page.get_by_role("button", name="Save", exact=True).click()
    # Then the API's refusal stands next to the quantity, which has the focus; nothing is saved
    quantity = first.get_by_label("Quantity", exact=True)
    expect(quantity).to_have_attribute("aria-invalid", "true")
    expect(first).to_contain_text("Quantity on line 1: must be a decimal")
    expect(quantity).to_be_focused()
    expect(second.get_by_label("Quantity", exact=True)).not_to_have_attribute(
        "aria-invalid", "true"
    )
    assert _documents(stack.url, company, "sales_invoice") == []

    # When the quantity is corrected and saved
    quantity.fill("3")
    page.get_by_role("button", name="Save", exact=True).click()
    # Then the invoice is saved In Progress with both lines, and its page is the form
    expect(page.get_by_role("heading", level=1)).to_contain_text("In Progress")
    expect(page.get_by_role("status").filter(has_text="is saved")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_be_focused()  # the page it opened
    (saved,) = _documents(stack.url, company, "sales_invoice")
    document = http(stack.url, "GET", f"/documents/{saved['id']}", "clerk").body
    assert [
        (line["description"], line["quantity"], line["unit_price"]) for line in document["lines"]
    ] == [
        ("Widgets", "3", "12.50"),
        ("Delivery", "1", "7.99"),
    ]
    assert page.url.endswith(f"#/document/{saved['id']}")
    expect(_line(page, 1).get_by_label("Quantity", exact=True)).to_have_value("3")
    # and the unposted invoice shows its net, tax and gross
    totals = page.get_by_role("region", name="Totals")
    expect(totals).to_contain_text("45.49")
    expect(totals).to_contain_text("7.50")
    expect(totals).to_contain_text("52.99")

    # When Preview is pressed
    page.get_by_role("button", name="Preview", exact=True).click()
    preview = page.get_by_role("region", name="Posting preview")
    # Then the posting is shown in document, home and dual currency, with tax per code
    expect(preview.get_by_role("columnheader", name="Document (GBP)")).to_be_visible()
    expect(preview.get_by_role("columnheader", name="Home (GBP)")).to_be_visible()
    expect(preview.get_by_role("columnheader", name="Dual (EUR)")).to_be_visible()
    expect(preview.get_by_role("row", name=re.compile(r"Control 1100"))).to_contain_text("52.99")
    expect(preview.get_by_role("table", name="Tax per code")).to_contain_text("STD")
    expect(preview).to_contain_text("can be posted")
    # and nothing changed: no number taken, the same version, still In Progress
    after = http(stack.url, "GET", f"/documents/{saved['id']}", "clerk").body
    assert after["version"] == document["version"] and after["status"] == "In Progress"
    assert after["transaction_number"] is None

    # When the date is moved out of every period, Post says the change is not saved yet
    page.get_by_role("group", name="Header").get_by_label("Document date").fill("2026-12-05")
    post = page.get_by_role("button", name="Post", exact=True)
    expect(post).to_have_accessible_description(re.compile("unsaved changes"))
    # and when Save & Post is pressed
    page.get_by_role("button", name="Save & Post", exact=True).click()
    # Then it is saved but not posted, and the posting's problem stands at the date
    date = _header(page).get_by_label("Document date", exact=True)
    expect(date).to_have_attribute("aria-invalid", "true")
    expect(_header(page)).to_contain_text("falls in no accounting period")
    expect(page.get_by_role("heading", level=1)).to_contain_text("In Progress")

    expect(post).not_to_have_accessible_description(re.compile("unsaved"))  # it was saved
    # When the date is corrected and Save & Post is pressed
    date.fill("2026-11-20")
    page.get_by_role("button", name="Save & Post", exact=True).click()
    # Then it is Complete, with its transaction
    expect(page.get_by_role("heading", level=1)).to_contain_text("Complete")
    expect(page.get_by_role("status").filter(has_text="is posted")).to_be_visible()
    expect(page.get_by_role("region", name=re.compile("^Transaction"))).to_contain_text("52.99")
    posted = http(stack.url, "GET", f"/documents/{saved['id']}", "clerk").body
    assert posted["status"] == "Complete" and posted["document_date"] == "2026-11-20"
    expect(page.get_by_role("button", name="Save", exact=True)).to_have_count(0)


def test_a_journal_is_entered_with_debits_and_credits_and_its_running_balance(
    page: Page, stack: RunningStack
) -> None:
    # Given the clerk on a new journal
    company = given_company(stack.url)
    sign_in(page, stack.url, "clerk", "/documents/journal")
    page.get_by_role("button", name="New", exact=True).click()
    header = _header(page)
    header.get_by_label("Company", exact=True).fill(company)
    header.get_by_label("Currency", exact=True).fill("GBP")
    header.get_by_label("Document date", exact=True).fill("2026-11-20")
    # When a debit of 100.00 and a credit of 60.00 are entered
    first = _line(page, 1)
    first.get_by_label("Description", exact=True).fill("Accrued rent")
    first.get_by_label("GL account", exact=True).fill("6000")
    first.get_by_label("Debit", exact=True).fill("100.00")
    page.get_by_role("button", name="Add line", exact=True).click()
    second = _line(page, 2)
    second.get_by_label("GL account", exact=True).fill("2400")
    second.get_by_label("Credit", exact=True).fill("60.00")
    # Then the running balance and the totals follow, and it says it does not balance
    expect(first.locator("[data-balance]")).to_have_text("100.00")
    expect(second.locator("[data-balance]")).to_have_text("40.00")
    expect(page.get_by_role("status").filter(has_text="does not balance")).to_contain_text("40.00")
    # When the credit is corrected to 100.00, it balances
    second.get_by_label("Credit", exact=True).fill("100.00")
    expect(second.locator("[data-balance]")).to_have_text("0.00")
    expect(page.get_by_role("status").filter(has_text="balances")).to_be_visible()
    # When a line has both a debit and a credit, the form says so at the credit
    page.get_by_role("button", name="Add line", exact=True).click()
    third = _line(page, 3)
    third.get_by_label("GL account", exact=True).fill("6000")
    third.get_by_label("Debit", exact=True).fill("5.00")
    third.get_by_label("Credit", exact=True).fill("5.00")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(third).to_contain_text("enter a debit or a credit, not both")
    expect(third.get_by_label("Credit", exact=True)).to_be_focused()
    assert _documents(stack.url, company, "journal") == []
    # When that line is removed and the journal saved and posted
    page.get_by_role("button", name="Remove line 3").click()
    expect(page.get_by_role("button", name="Remove line 3")).to_have_count(0)
    page.get_by_role("button", name="Save & Post", exact=True).click()
    # Then it is Complete, its lines signed values: debit positive, credit negative (a
    # create and a post on a stack shared with the other tests: a minute at most)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Complete", timeout=60_000)
    (journal,) = _documents(stack.url, company, "journal")
    lines = http(stack.url, "GET", f"/documents/{journal['id']}", "clerk").body["lines"]
    assert [(line["gl_account"], line["value"]) for line in lines] == [
        ("6000", "100.00"),
        ("2400", "-100.00"),
    ]


def test_a_saved_journal_opens_with_its_debits_and_credits_and_is_amended(
    page: Page, stack: RunningStack
) -> None:
    # Given an unbalanced journal In Progress (debit 100.00, credit 100.00, from the API)
    company = given_company(stack.url)
    (journal,) = given_documents_of_type(stack.url, company, 1, "journal")
    sign_in(page, stack.url, "clerk", f"/document/{journal['id']}")
    # Then its lines show as debit and credit, and the balance is nil
    expect(_line(page, 1).get_by_label("Debit", exact=True)).to_have_value("100.00")
    expect(_line(page, 2).get_by_label("Credit", exact=True)).to_have_value("100.00")
    expect(page.get_by_role("status").filter(has_text="balances")).to_be_visible()
    # and no net, tax and gross: a journal has debits and credits, totalled in its grid
    expect(page.get_by_role("region", name="Totals")).to_have_count(0)
    # When a bad GL account is saved, the API's refusal stands at that line's GL account
    _line(page, 2).get_by_label("GL account", exact=True).fill("")
    page.get_by_role("button", name="Save", exact=True).click()
    gl_account = _line(page, 2).get_by_label("GL account", exact=True)
    expect(gl_account).to_have_attribute("aria-invalid", "true")
    expect(_line(page, 2)).to_contain_text("line 2")
    assert http(stack.url, "GET", f"/documents/{journal['id']}", "clerk").body["version"] == 1
    # When it is corrected and the credit made 90.00, then saved
    gl_account.fill("2500")
    _line(page, 2).get_by_label("Credit", exact=True).fill("90.00")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="is saved")).to_be_visible()
    # Then the journal holds the amended line, and the preview names its problem
    after = http(stack.url, "GET", f"/documents/{journal['id']}", "clerk").body
    assert [(line["gl_account"], line["value"]) for line in after["lines"]] == [
        ("6000", "100.00"),
        ("2500", "-90.00"),
    ]
    page.get_by_role("button", name="Preview", exact=True).click()
    preview = page.get_by_role("region", name="Posting preview")
    expect(preview.get_by_role("list", name="Problems")).to_contain_text(
        re.compile("balance", re.IGNORECASE)
    )
    assert http(stack.url, "GET", f"/documents/{journal['id']}", "clerk").body["version"] == 2


def _new_invoice(page: Page, stack: RunningStack, company: str, account: str) -> Locator:
    sign_in(page, stack.url, "clerk", "/documents/sales_invoice/new")
    header = _header(page)
    header.get_by_label("Company", exact=True).fill(company)
    header.get_by_label("Company", exact=True).blur()
    header.get_by_label("Account", exact=True).fill(account)
    header.get_by_label("Currency", exact=True).fill("GBP")
    line = _line(page, 1)
    line.get_by_label("Description", exact=True).fill("Widgets")
    line.get_by_label("Unit price", exact=True).fill("12.50")
    return header


def test_an_unknown_company_or_account_is_shown_at_its_field(
    page: Page, stack: RunningStack
) -> None:
    # Given a new invoice for a company that does not exist
    company = given_company(stack.url)
    header = _new_invoice(page, stack, "NOSUCHCO", f"C-{company}")
    page.get_by_role("button", name="Save", exact=True).click()
    # Then the refusal stands at Company
    field = header.get_by_label("Company", exact=True)
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(header).to_contain_text("does not exist")
    # When the company is corrected but the account is unknown
    field.fill(company)
    header.get_by_label("Account", exact=True).fill("NOBODY")
    page.get_by_role("button", name="Save", exact=True).click()
    # Then the refusal moves to Account; nothing was created
    account = header.get_by_label("Account", exact=True)
    expect(account).to_have_attribute("aria-invalid", "true")
    expect(header).to_contain_text("Account NOBODY does not exist")
    expect(field).not_to_have_attribute("aria-invalid", "true")
    assert _documents(stack.url, company, "sales_invoice") == []


def test_save_and_post_of_a_new_invoice_that_cannot_post_opens_it_with_the_problem(
    page: Page, stack: RunningStack
) -> None:
    # Given a new invoice dated in no accounting period
    company = given_company(stack.url)
    header = _new_invoice(page, stack, company, f"C-{company}")
    header.get_by_label("Document date", exact=True).fill("2026-12-05")
    # When Save & Post is pressed
    page.get_by_role("button", name="Save & Post", exact=True).click()
    # Then it is saved In Progress, its page opens, and the problem stands at its date
    expect(page.get_by_role("heading", level=1)).to_contain_text("In Progress")
    expect(page.get_by_role("alert").first).to_contain_text(
        "was saved (In Progress) but not posted"
    )
    date = _header(page).get_by_label("Document date", exact=True)
    expect(date).to_have_attribute("aria-invalid", "true")
    expect(_header(page)).to_contain_text("falls in no accounting period")
    (saved,) = _documents(stack.url, company, "sales_invoice")
    assert saved["status"] == "In Progress" and page.url.endswith(f"#/document/{saved['id']}")


def test_a_line_on_the_second_page_of_the_grid_is_corrected(
    page: Page, stack: RunningStack
) -> None:
    # Given an invoice of 60 lines (the grid shows 50 a page)
    company = given_company(stack.url)
    (invoice,) = given_documents_of_type(stack.url, company, 1)
    lines = [
        {"description": f"Item {n}", "quantity": "1", "unit_price": "1.00", "tax_code": "ZERO"}
        for n in range(1, 61)
    ]
    assert (
        http(stack.url, "PATCH", f"/documents/{invoice['id']}", "clerk", {"lines": lines}).status
        == 200
    )
    sign_in(page, stack.url, "clerk", f"/document/{invoice['id']}")
    expect(page.get_by_role("table", name=re.compile("^Lines 1\u201350 of 60"))).to_be_visible()
    # When the clerk turns to the second page and corrects line 55
    page.get_by_role("button", name="Next lines").click()
    line = _line(page, 55)
    expect(line.get_by_label("Description", exact=True)).to_have_value("Item 55")
    line.get_by_label("Quantity", exact=True).fill("4")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="is saved")).to_be_visible()
    # Then line 55 holds the new quantity and the other 59 are unchanged
    after = http(stack.url, "GET", f"/documents/{invoice['id']}", "clerk").body
    assert after["line_count"] == 60
    assert [line["quantity"] for line in after["lines"]] == ["1"] * 54 + ["4"] + ["1"] * 5
    expect(page.get_by_role("region", name="Totals")).to_contain_text("63.00")


def test_a_document_of_more_than_1000_lines_gets_lines_appended(
    page: Page, stack: RunningStack
) -> None:
    # Given an invoice of 1,002 lines (more than one save can send)
    company = given_company(stack.url)
    (invoice,) = given_documents_of_type(stack.url, company, 1)
    line = {"description": "Item", "quantity": "1", "unit_price": "1.00", "tax_code": "ZERO"}
    unknown_tax = line | {"tax_code": "NOPE"}  # its line 3: a problem posting would report
    for lines in ([unknown_tax] + [line] * 499, [line] * 500):  # its 2 lines and 1,000 more
        appended = http(
            stack.url, "POST", f"/documents/{invoice['id']}/lines", "clerk", {"lines": lines}
        )
        assert appended.status == 200, appended.body
    sign_in(page, stack.url, "clerk", f"/document/{invoice['id']}")
    # Then its lines are listed and the grid holds lines to add
    expect(page.get_by_role("region", name="Lines", exact=True)).to_contain_text("of 1002")
    expect(page.get_by_role("heading", name="Lines to add")).to_be_visible()
    # When a line is added with a bad unit price and saved, the refusal stands at it
    page.get_by_role("button", name="Add line", exact=True).click()
    new = _line(page, 1003)
    new.get_by_label("Description", exact=True).fill("Late item")
    new.get_by_label("Unit price", exact=True).fill("ten")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(new.get_by_label("Unit price", exact=True)).to_have_attribute("aria-invalid", "true")
    # When it is corrected and saved, it is appended once, after the others
    new.get_by_label("Unit price", exact=True).fill("10.00")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="is saved")).to_be_visible()
    after = http(stack.url, "GET", f"/documents/{invoice['id']}?lines_offset=1000", "clerk").body
    assert after["line_count"] == 1003
    assert [(line["description"], line["unit_price"]) for line in after["lines"]][-1] == (
        "Late item",
        "10.00",
    )
    # When three more lines are added and Preview is pressed
    expect(page.get_by_role("region", name="Lines", exact=True)).to_contain_text("of 1003")
    for _ in range(3):
        page.get_by_role("button", name="Add line", exact=True).click()
    page.get_by_role("button", name="Preview", exact=True).click()
    # Then the problem of line 3 is listed, and not put on the third line to add
    preview = page.get_by_role("region", name="Posting preview")
    expect(preview.get_by_role("list", name="Problems")).to_contain_text("Line 3 of")
    expect(_line(page, 1006).get_by_label("Tax code", exact=True)).not_to_have_attribute(
        "aria-invalid", "true"
    )


def test_the_form_fits_a_400_pixel_screen(browser: Browser, stack: RunningStack) -> None:
    # Given an invoice In Progress, on a narrow screen
    company = given_company(stack.url)
    (invoice,) = given_documents_of_type(stack.url, company, 1)
    context = browser.new_context(viewport=NARROW)
    page = context.new_page()
    try:
        sign_in(page, stack.url, "clerk", f"/document/{invoice['id']}")
        expect(_line(page, 2).get_by_label("Quantity", exact=True)).to_have_value("1")
        page.get_by_role("button", name="Preview", exact=True).click()
        expect(page.get_by_role("region", name="Posting preview")).to_be_visible()
        # Then nothing is wider than the screen (the grids scroll within their frame)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= NARROW["width"], width
    finally:
        context.close()


def test_a_sales_line_takes_an_income_schedule_and_its_error_stands_at_it(
    page: Page, stack: RunningStack
) -> None:
    # Given a new sales invoice whose line is to be recognised over 0 months
    company = given_company(stack.url)
    _new_invoice(page, stack, company, f"C-{company}")
    line = _line(page, 1)
    periods = line.get_by_label("Income schedule periods", exact=True)
    periods.fill("0")
    page.get_by_role("button", name="Save", exact=True).click()
    # Then the API's refusal stands at the periods
    expect(periods).to_have_attribute("aria-invalid", "true")
    expect(line).to_contain_text("Periods on line 1 must be 1 or more")
    # When 4 quarters are entered, the line is saved with that schedule
    periods.fill("4")
    line.get_by_label("Income schedule frequency", exact=True).select_option("quarterly")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("In Progress")
    (saved,) = _documents(stack.url, company, "sales_invoice")
    lines = http(stack.url, "GET", f"/documents/{saved['id']}", "clerk").body["lines"]
    assert lines[0]["income_schedule"] == {"periods": 4, "frequency": "quarterly"}


def test_the_types_own_fields_are_saved(page: Page, stack: RunningStack) -> None:
    # Given a journal In Progress; When the clerk sets it to reverse on 1 December
    company = given_company(stack.url)
    (journal,) = given_documents_of_type(stack.url, company, 1, "journal")
    sign_in(page, stack.url, "clerk", f"/document/{journal['id']}")
    reverse_on = _header(page).get_by_label("Reverse automatically on", exact=True)
    reverse_on.fill("2026-11-01")
    page.get_by_role("button", name="Save", exact=True).click()
    # Then a date before the journal's own is refused at the field
    expect(reverse_on).to_have_attribute("aria-invalid", "true")
    # When it is corrected, the accrual is saved
    reverse_on.fill("2026-12-01")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="is saved")).to_be_visible()
    after = http(stack.url, "GET", f"/documents/{journal['id']}", "clerk").body
    assert after["auto_reverse_on"] == "2026-12-01" and after["version"] == 2


def test_a_payable_invoice_from_an_unknown_purchase_order_shows_it_at_purchase_orders(
    page: Page, stack: RunningStack
) -> None:
    # Given a new payable invoice that names a purchase order that does not exist, no lines
    company = given_company(stack.url)
    sign_in(page, stack.url, "clerk", "/documents/payable_invoice/new")
    header = _header(page)
    header.get_by_label("Company", exact=True).fill(company)
    header.get_by_label("Account", exact=True).fill(f"V-{company}")
    header.get_by_label("Currency", exact=True).fill("GBP")
    header.get_by_label("Document date", exact=True).fill("2026-11-20")
    header.get_by_label("Purchase orders", exact=True).fill("PO-NOPE")
    page.get_by_role("button", name="Remove line 1").click()
    # When Save & Post is pressed
    page.get_by_role("button", name="Save & Post", exact=True).click()
    # Then it is saved In Progress, and verification's refusal stands at Purchase orders
    expect(page.get_by_role("heading", level=1)).to_contain_text("In Progress")
    orders = _header(page).get_by_label("Purchase orders", exact=True)
    expect(orders).to_have_attribute("aria-invalid", "true")
    expect(_header(page)).to_contain_text("purchase order PO-NOPE does not exist")
    (saved,) = _documents(stack.url, company, "payable_invoice")
    document = http(stack.url, "GET", f"/documents/{saved['id']}", "clerk").body
    assert document["purchase_orders"] == ["PO-NOPE"] and document["line_count"] == 0


def test_a_refused_post_shows_its_problems_at_their_fields(page: Page, stack: RunningStack) -> None:
    # Given an invoice dated in no accounting period, with a tax code the company lacks
    company = given_company(stack.url)
    (invoice,) = given_documents_of_type(stack.url, company, 1)
    lines = [{"description": "Widgets", "quantity": "1", "unit_price": "5.00", "tax_code": "NOPE"}]
    spoilt = {"document_date": "2026-12-05", "lines": lines}
    assert http(stack.url, "PATCH", f"/documents/{invoice['id']}", "clerk", spoilt).status == 200
    sign_in(page, stack.url, "clerk", f"/document/{invoice['id']}")
    # When Post is pressed
    page.get_by_role("button", name="Post", exact=True).click()
    # Then the refusal is shown once, with Post, and each problem at its field
    actions = page.get_by_role("region", name="Actions")
    expect(actions.get_by_role("alert")).to_contain_text("2 problems")
    expect(page.get_by_role("alert").filter(has_text="2 problems")).to_have_count(1)
    date = _header(page).get_by_label("Document date", exact=True)
    expect(date).to_have_attribute("aria-invalid", "true")
    expect(date).to_be_focused()
    tax_code = _line(page, 1).get_by_label("Tax code", exact=True)
    expect(tax_code).to_have_attribute("aria-invalid", "true")
    expect(_line(page, 1)).to_contain_text("tax code NOPE")
    assert http(stack.url, "GET", f"/documents/{invoice['id']}", "clerk").body["status"] == (
        "In Progress"
    )


def test_a_documents_page_lists_only_its_own_worker_items(page: Page, stack: RunningStack) -> None:
    # Given two companies' journals of the same number, each queued with a worker item
    first = given_unbalanced_journal(stack.url, given_company(stack.url))
    other = given_unbalanced_journal(stack.url, given_company(stack.url))
    assert first["number"] == other["number"]
    # When the first is opened
    sign_in(page, stack.url, "clerk", f"/document/{first['id']}")
    # Then its worker items are its own: one, not the other company's too
    items = page.get_by_role("region", name="Worker items")
    expect(items.get_by_role("table")).to_be_visible()
    expect(items.get_by_role("row")).to_have_count(2)  # the heading row and its item
