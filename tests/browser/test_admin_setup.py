"""The administrator's set-up on screen, in Chromium on the local stack: a company from nothing
(New company, a period, a rate, a tax code) to its first posted invoice; closing and reopening
a period; changing settings; the navigation on one line at 1280 px and behind Menu at 400 px."""

from __future__ import annotations

import uuid

from playwright.sync_api import Browser, Page, expect

from tests.support.api import http
from tests.support.console import NARROW, WIDE, console_url, sign_in
from tests.support.http_steps import given_company
from tests.support.purchasing import order_body
from tests.support.stack import RunningStack


def _open_set_up(page: Page, name: str) -> None:
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("button", name="Set-up").click()
    nav.get_by_role("link", name=name, exact=True).click()


def test_an_administrator_sets_up_a_company_from_nothing_to_its_first_posted_invoice(
    page: Page, stack: RunningStack
) -> None:
    company = f"NEW{uuid.uuid4().hex[:6].upper()}"
    # Given the administrator on Set-up > Companies
    sign_in(page, stack.url, "admin")
    _open_set_up(page, "Companies")
    expect(page.get_by_role("heading", name="Companies", level=1)).to_be_visible()
    # When a company is created with a bad currency, the API's refusal stands at that field
    form = page.get_by_role("form", name="New company")
    form.get_by_label("Company id").fill(company)
    form.get_by_label("Company name").fill("New Trading Ltd")
    form.get_by_label("Home currency").fill("GBPX")
    form.get_by_label("Dual currency").fill("EUR")
    form.get_by_role("button", name="Create company").click()
    expect(form.get_by_label("Home currency")).to_have_attribute("aria-invalid", "true")
    # When it is corrected, the company's set-up page opens
    form.get_by_label("Home currency").fill("GBP")
    form.get_by_role("button", name="Create company").click()
    expect(page.get_by_role("heading", name=f"Company {company}: New Trading Ltd")).to_be_visible()

    # And a period, an exchange rate and a tax code are added
    period = page.get_by_role("form", name="Add a period")
    period.get_by_label("Period name").fill("2026-11")
    period.get_by_label("Start").fill("2026-11-01")
    period.get_by_label("End").fill("2026-11-30")
    period.get_by_role("button", name="Add period").click()
    periods = page.get_by_role("table", name=f"Periods of {company}")
    expect(periods.get_by_role("row", name="2026-11")).to_contain_text("Open")
    # (a second period overlapping it is refused at the form's field)
    period.get_by_label("Period name").fill("2026-11b")
    period.get_by_label("Start").fill("2026-11-15")
    period.get_by_label("End").fill("2026-12-15")
    period.get_by_role("button", name="Add period").click()
    expect(period.get_by_role("alert").first).to_contain_text("overlap")

    rate = page.get_by_role("form", name="Add an exchange rate")
    rate.get_by_label("From currency").fill("GBP")
    rate.get_by_label("To currency").fill("EUR")
    rate.get_by_label("Rate from").fill("2026-01-01")
    rate.get_by_label("Rate", exact=True).fill("1.15")
    rate.get_by_role("button", name="Add rate").click()
    expect(page.get_by_role("table", name=f"Exchange rates of {company}")).to_contain_text("1.15")

    tax = page.get_by_role("form", name="Add a tax code")
    tax.get_by_label("Tax code", exact=True).fill("STD")
    tax.get_by_label("Tax rate (%)").fill("20")
    tax.get_by_role("button", name="Add tax code").click()
    expect(page.get_by_role("table", name=f"Tax codes of {company}")).to_contain_text("STD")

    # And a customer is created on Set-up > Customers and Vendors
    customer = f"C-{company}"
    _open_set_up(page, "Customers and Vendors")
    page.get_by_label("Company", exact=True).select_option(company)
    account = page.get_by_role("form", name="New account")
    account.get_by_label("Account id").fill(customer)
    account.get_by_label("Account name").fill("First Customer")
    account.get_by_label("Trading currencies").fill("GBP")
    account.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("table", name=f"Accounts of {company}")).to_contain_text(customer)

    # Then the first sales invoice is entered and posted in the console
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sales Invoices").click()
    page.get_by_role("button", name="New", exact=True).click()
    header = page.get_by_role("group", name="Header")
    header.get_by_label("Company", exact=True).fill(company)
    header.get_by_label("Company", exact=True).blur()
    expect(header.get_by_label("Currency", exact=True)).to_have_value("GBP")
    header.get_by_label("Account", exact=True).fill(customer)
    header.get_by_label("Document date", exact=True).fill("2026-11-20")
    line = page.get_by_role("row", name="Line 1", exact=True)
    line.get_by_label("Description", exact=True).fill("Widgets")
    line.get_by_label("Unit price", exact=True).fill("12.50")
    line.get_by_label("Tax code", exact=True).fill("STD")
    page.get_by_role("button", name="Save & Post", exact=True).click()
    expect(page.get_by_text("Complete").first).to_be_visible(timeout=30_000)
    listed = http(stack.url, "GET", f"/documents?company={company}&status=Complete", "admin")
    assert len(listed.body["documents"]) == 1, listed.body
    page.goto(console_url(stack.url, f"/setup/companies/{company}"))
    # And once it has posted, its currencies are read-only, saying why
    home = page.get_by_role("form", name="Company").get_by_label("Home currency")
    expect(home).to_have_attribute("readonly", "")
    expect(page.get_by_text("This company has posted transactions").first).to_be_visible()


def test_an_administrator_closes_and_reopens_a_period(page: Page, stack: RunningStack) -> None:
    # Given a company with an open period 2026-11
    company = given_company(stack.url)
    sign_in(page, stack.url, "admin", f"/setup/companies/{company}")
    periods = page.get_by_role("table", name=f"Periods of {company}")
    # When the administrator closes it
    periods.get_by_role("button", name="Close period 2026-11").click()
    # Then it is closed, in the API too, and it can be reopened
    expect(periods.get_by_role("row", name="2026-11")).to_contain_text("Closed")
    stored = http(stack.url, "GET", f"/companies/{company}", "admin").body["periods"]
    assert {p["name"]: p["status"] for p in stored}["2026-11"] == "closed"
    periods.get_by_role("button", name="Reopen period 2026-11").click()
    expect(periods.get_by_role("row", name="2026-11")).to_contain_text("Open")
    stored = http(stack.url, "GET", f"/companies/{company}", "admin").body["periods"]
    assert {p["name"]: p["status"] for p in stored}["2026-11"] == "open"


def test_an_administrator_changes_settings(page: Page, stack: RunningStack) -> None:
    # Given a company, on Set-up > Settings
    company = given_company(stack.url)
    sign_in(page, stack.url, "admin")
    _open_set_up(page, "Settings")
    page.get_by_label("Company", exact=True).select_option(company)
    settings = page.get_by_role("form", name=f"Settings of {company}")
    # When a journal line limit of 0 is saved, the refusal stands at that field
    settings.get_by_label("Journal line limit").fill("0")
    settings.get_by_role("button", name="Save settings").click()
    expect(settings.get_by_label("Journal line limit")).to_have_attribute("aria-invalid", "true")
    # When 40 is saved with Posted, not completed, the API keeps both
    settings.get_by_label("Journal line limit").fill("40")
    settings.get_by_label("After posting").select_option("posted_not_completed")
    settings.get_by_role("button", name="Save settings").click()
    expect(
        page.get_by_role("status").filter(has_text=f"The settings of {company} are saved.")
    ).to_be_visible()
    stored = http(stack.url, "GET", f"/companies/{company}/settings", "admin").body
    assert stored["journal_line_limit"] == 40
    assert stored["invoice_verification"]["after_posting"] == "posted_not_completed"
    # And the maximum attempts are saved for every company
    before = http(stack.url, "GET", "/settings/background-posting", "admin").body
    attempts = page.get_by_role("form", name="Background posting")
    attempts.get_by_label("Maximum attempts", exact=True).fill(str(before["max_attempts"]))
    attempts.get_by_role("button", name="Save background posting settings").click()
    expect(page.get_by_text("The background posting settings are saved.")).to_be_visible()


def test_goods_are_received_on_an_order(page: Page, stack: RunningStack) -> None:
    # Given an order of 100 bolts and 50 nuts, nothing received
    company = given_company(stack.url)
    order_id = f"PO-{company}"
    order = order_body(order_id, company, vendor=f"V-{company}")
    assert http(stack.url, "POST", "/purchase-orders", "clerk", order).status == 201
    # When the clerk opens it from Set-up > Purchase Orders
    sign_in(page, stack.url, "clerk")
    _open_set_up(page, "Purchase Orders")
    page.get_by_label("Order number").fill(order_id)
    page.get_by_role("button", name="Open order").click()
    lines = page.get_by_role("table", name=f"Lines of {order_id}")
    # And asks to receive more than was ordered, the API's refusal is shown
    page.get_by_label("Receive quantity of line 1").fill("500")
    page.get_by_role("button", name="Receive goods").click()
    expect(page.get_by_role("alert").first).to_be_visible()
    # When 40 bolts are received
    page.get_by_label("Receive quantity of line 1").fill("40")
    page.get_by_role("button", name="Receive goods").click()
    # Then the order shows them received, and the API too
    expect(page.get_by_role("status").filter(has_text="Goods received")).to_be_visible()
    expect(lines.get_by_role("row").nth(1)).to_contain_text("40")
    stored = http(stack.url, "GET", f"/purchase-orders/{order_id}", "clerk").body
    assert float(stored["lines"][0]["received_quantity"]) == 40


def test_a_recurring_invoice_is_created_and_stopped(page: Page, stack: RunningStack) -> None:
    # Given a company with a customer, on Set-up > Recurring Invoices
    company = given_company(stack.url)
    sign_in(page, stack.url, "admin")
    _open_set_up(page, "Recurring Invoices")
    form = page.get_by_role("form", name="New recurring invoice")
    # When a template is entered and created
    form.get_by_label("Company").fill(company)
    form.get_by_label("Account").fill(f"C-{company}")
    form.get_by_label("Currency").fill("GBP")
    form.get_by_label("Description").fill("Support contract")
    form.get_by_label("Unit price").fill("100.00")
    form.get_by_label("Tax code").fill("STD")
    form.get_by_label("First invoice on").fill("2026-11-01")
    form.get_by_role("button", name="Create recurring invoice").click()
    # Then its page shows it active, monthly from that date
    expect(page.locator("[data-status]")).to_have_text("Active")
    recurring_id = page.url.rsplit("/", 1)[-1]
    # When it is stopped (it asks first)
    page.get_by_role("button", name="Stop", exact=True).click()
    page.get_by_role("group", name="Confirm stopping the recurring invoice").get_by_role(
        "button", name="Stop recurring invoice"
    ).click()
    # Then it is stopped, in the API too
    expect(page.locator("[data-status]")).to_have_text("Stopped")
    stored = http(stack.url, "GET", f"/recurring-invoices/{recurring_id}", "admin").body
    assert stored["status"] == "deleted"
    # And the list page links it, created in this browser
    page.get_by_role("link", name="Recurring Invoices").last.click()
    expect(page.get_by_role("link", name=recurring_id[:8])).to_be_visible()


def test_customers_and_vendors_are_listed_created_and_amended(
    page: Page, stack: RunningStack
) -> None:
    # Given a company with a customer and a vendor, on Set-up > Customers and Vendors
    company = given_company(stack.url)
    sign_in(page, stack.url, "admin")
    _open_set_up(page, "Customers and Vendors")
    page.get_by_label("Company", exact=True).select_option(company)
    accounts = page.get_by_role("table", name=f"Accounts of {company}")
    expect(accounts.get_by_role("row")).to_have_count(3)
    # When a customer with a bad e-mail is created, the refusal stands at E-mail
    form = page.get_by_role("form", name="New account")
    form.get_by_label("Account id").fill(f"C2-{company}")
    form.get_by_label("Account name").fill("Second Customer")
    form.get_by_label("Trading currencies").fill("GBP, EUR")
    form.get_by_label("E-mail").fill("not-an-address")
    form.get_by_role("button", name="Create account").click()
    expect(form.get_by_label("E-mail")).to_have_attribute("aria-invalid", "true")
    form.get_by_label("E-mail").fill("ap@example.com")
    form.get_by_role("button", name="Create account").click()
    expect(accounts.get_by_role("row", name=f"C2-{company}")).to_contain_text("GBP, EUR")
    # When it is amended to 14 days due
    accounts.get_by_role("button", name=f"Amend C2-{company}").click()
    amend = page.get_by_role("form", name=f"Amend C2-{company}")
    amend.get_by_label("Days due").fill("14")
    amend.get_by_role("button", name="Save account").click()
    # Then the list and the API show it; and Vendors shows only the vendor
    expect(accounts.get_by_role("row", name=f"C2-{company}")).to_contain_text("14")
    stored = http(stack.url, "GET", f"/accounts/C2-{company}", "admin").body
    assert stored["credit_terms"]["days_due"] == 14 and stored["email"] == "ap@example.com"
    page.get_by_label("Show").select_option("vendor")
    expect(accounts.get_by_role("row")).to_have_count(2)


def test_the_navigation_fits_one_line_at_1280_and_hides_behind_menu_at_400(
    browser: Browser, stack: RunningStack
) -> None:
    wide = browser.new_context(viewport=WIDE)
    try:
        page = wide.new_page()
        sign_in(page, stack.url, "admin")
        # Then at 1280 px every top-level entry of the navigation stands on one line
        tops = page.evaluate(
            "[...document.querySelectorAll('nav[aria-label=Main] > ul > li')]"
            ".map(li => li.getBoundingClientRect().top)"
        )
        assert len(set(tops)) == 1, tops
        expect(page.get_by_role("button", name="Menu")).to_be_hidden()
        # And the runner's read-only notice on the scheduler is information, not success
        page.get_by_role("button", name="Sign out").click()
        sign_in(page, stack.url, "runner", "/scheduler")
        notice = page.get_by_text("Only a System Administrator can change the schedule")
        expect(notice).to_have_attribute("role", "status")
        expect(notice).to_have_class("info")
    finally:
        wide.close()
    narrow = browser.new_context(viewport=NARROW)
    try:
        page = narrow.new_page()
        sign_in(page, stack.url, "admin")
        nav = page.get_by_role("navigation", name="Main")
        # At 400 px the links are behind Menu
        expect(nav.get_by_role("link", name="Runs")).to_be_hidden()
        menu = page.get_by_role("button", name="Menu")
        expect(menu).to_have_attribute("aria-expanded", "false")
        menu.click()
        expect(menu).to_have_attribute("aria-expanded", "true")
        nav.get_by_role("button", name="Set-up").click()
        nav.get_by_role("link", name="Companies", exact=True).click()
        expect(page.get_by_role("heading", name="Companies", level=1)).to_be_visible()
        # Then the menu closes on the new page, and nothing is wider than the screen
        expect(nav.get_by_role("link", name="Runs")).to_be_hidden()
        assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
        # And no set-up page is wider than the screen either
        company = given_company(stack.url)
        for route in (f"/setup/companies/{company}", "/setup/settings", "/setup/accounts"):
            page.goto(console_url(stack.url, route))
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            page.wait_for_load_state("networkidle")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= NARROW["width"], (route, width)
    finally:
        narrow.close()
