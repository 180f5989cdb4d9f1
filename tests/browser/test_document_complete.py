"""A posted document's buttons in the console, in Chromium on the local stack: Create credit
note, Match among the account's open items (refusals in the API's words), the matches listed
on both documents with Undo match (asks first), and Download PDF."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.support.api import http
from tests.support.console import sign_in
from tests.support.http_steps import given_company, given_documents_of_type
from tests.support.stack import RunningStack


def _outstanding(page: Page) -> Locator:
    return page.locator("dl.facts > div").filter(has_text="Outstanding")


def _document(stack: RunningStack, document_id: str) -> dict[str, object]:
    body: dict[str, object] = http(stack.url, "GET", f"/documents/{document_id}", "clerk").body
    return body


def test_a_clerk_credits_matches_and_unmatches_an_invoice_on_screen(
    page: Page, stack: RunningStack
) -> None:
    # Given a sales invoice In Progress (net 45.49, tax 7.50, gross 52.99); the clerk posts it
    company = given_company(stack.url)
    (invoice,) = given_documents_of_type(stack.url, company, 1, "sales_invoice")
    sign_in(page, stack.url, "clerk", f"/document/{invoice['id']}")
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Complete")
    expect(_outstanding(page)).to_contain_text("52.99")
    number = invoice["number"]

    # When Create credit note is pressed, it asks the date first
    page.get_by_role("button", name="Create credit note", exact=True).click()
    ask = page.get_by_role("form", name=f"Create a credit note for {number}")
    ask.get_by_label("Credit note date").fill("2026-11-25")
    ask.get_by_role("button", name="Create the credit note").click()
    # Then the new credit note's page opens In Progress, with the invoice's lines to edit
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("Sales Credit Note")
    expect(heading).to_contain_text("In Progress")
    expect(heading).to_be_focused()
    expect(page.get_by_role("status").filter(has_text="is a new credit note")).to_be_visible()
    line = page.get_by_role("row", name="Line 1", exact=True)
    expect(line.get_by_label("Description", exact=True)).to_have_value("Widgets")
    note_id = page.url.rsplit("/", 1)[1]
    note = _document(stack, note_id)
    assert note["source_document"] == invoice["id"] and note["document_date"] == "2026-11-25"

    # When the clerk credits one widget only (15.00 gross) and posts it
    line.get_by_label("Quantity", exact=True).fill("1")
    page.get_by_role("button", name="Remove line 2").click()
    page.get_by_role("button", name="Save & Post", exact=True).click()
    expect(heading).to_contain_text("Complete")
    expect(_outstanding(page)).to_contain_text("15.00")

    # When Match is chosen with the invoice, the amount defaults to what is open on both
    matching = page.get_by_role("region", name="Matching")
    expect(matching).to_contain_text("is not matched")
    matching.get_by_label("Match with").select_option(
        label=f"{number}, 2026-11-20: 52.99 GBP outstanding"
    )
    amount = matching.get_by_label("Amount to match (GBP)")
    expect(amount).to_have_value("15.00")
    # and more than the credit note has open is refused in the API's words, nothing changed
    amount.fill("20.00")
    matching.get_by_role("button", name="Match", exact=True).click()
    expect(matching.get_by_role("alert")).to_contain_text(
        "has 15.00 GBP outstanding, less than the 20.00 GBP to match"
    )
    assert _document(stack, invoice["id"])["outstanding"] == "52.99"
    # When the default is matched
    amount.fill("15.00")
    matching.get_by_role("button", name="Match", exact=True).click()
    # Then both documents' outstanding change, and the match is listed on the credit note
    expect(_outstanding(page)).to_contain_text("0.00")
    row = matching.get_by_role("row").filter(has_text=number)
    expect(row).to_contain_text("15.00")
    expect(row).to_contain_text("clerk")
    assert _document(stack, invoice["id"])["outstanding"] == "37.99"

    # When the clerk follows the link to the invoice, its match is listed there too
    row.get_by_role("link", name=number).click()
    expect(heading).to_contain_text(str(number))
    expect(_outstanding(page)).to_contain_text("37.99")
    matching = page.get_by_role("region", name="Matching")
    row = matching.get_by_role("row").filter(has_text=str(note["number"]))
    expect(row).to_contain_text("15.00")
    # When Undo match is pressed, it asks first; Keep it changes nothing
    row.get_by_role("button", name="Undo match").click()
    confirm = page.get_by_role("group", name="Confirm undoing the match")
    expect(confirm).to_contain_text("outstanding again on both")
    confirm.get_by_role("button", name="Keep it").click()
    expect(confirm).to_have_count(0)
    assert _document(stack, invoice["id"])["outstanding"] == "37.99"
    # When it is confirmed, the amount is outstanding again on both
    row.get_by_role("button", name="Undo match").click()
    confirm.get_by_role("button", name=f"Undo the match with {note['number']}").click()
    expect(_outstanding(page)).to_contain_text("52.99")
    expect(matching).to_contain_text("is not matched")
    assert _document(stack, invoice["id"])["outstanding"] == "52.99"
    assert _document(stack, note_id)["outstanding"] == "15.00"


def test_download_pdf_answers_the_printed_pdf(
    page: Page, stack: RunningStack, tmp_path: Path
) -> None:
    # Given a posted sales invoice
    company = given_company(stack.url)
    (invoice,) = given_documents_of_type(stack.url, company, 1, "sales_invoice")
    posted = http(stack.url, "POST", f"/documents/{invoice['id']}/post", "clerk", {"mode": "auto"})
    assert posted.status == 200, posted.body
    sign_in(page, stack.url, "clerk", f"/document/{invoice['id']}")
    # When Download PDF (beside Print) is pressed
    expect(page.get_by_role("button", name="Print", exact=True)).to_be_visible()
    with page.expect_download() as downloading:
        page.get_by_role("button", name="Download PDF").click()
    # Then a PDF named after the invoice is downloaded
    downloaded = downloading.value
    assert downloaded.suggested_filename == f"{invoice['number']}.pdf"
    target = tmp_path / "invoice.pdf"
    downloaded.save_as(target)
    assert target.read_bytes().startswith(b"%PDF")
