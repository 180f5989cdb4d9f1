"""The printable renditions of a document: HTML (Jinja2) and PDF (fpdf2), from one `Printout`.

`GET /documents/{id}/print` answers the HTML page; `GET /documents/{id}/print?format=pdf` the
same content as a PDF. fpdf2 is pure Python (no browser, nothing native beyond Pillow's
wheels), so the PDF is made inside the API's Lambda. The font is DejaVu Sans (shipped in
`background_posting/fonts`, its licence beside it): the core PDF fonts cannot print €, ₹ or
a customer's name in Greek.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from background_posting.domain.printout import Printout


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("background_posting", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(printout: Printout) -> str:
    return _environment().get_template("document.html.j2").render(p=printout)


def _font(name: str) -> str:
    return str(resources.files("background_posting").joinpath("fonts", name))


def render_pdf(printout: Printout) -> bytes:
    """The printout as an A4 PDF (fpdf2, imported here: only a PDF request pays for it)."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    pdf = FPDF(format="A4")
    pdf.set_title(f"{printout.title} {printout.number}")
    pdf.set_creator("Background Posting")
    pdf.add_font("DejaVu", "", _font("DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", _font("DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 16)
    pdf.cell(0, 10, f"{printout.title} {printout.number}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    pdf.cell(0, 5, printout.status, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for party in printout.parties:
        pdf.set_font("DejaVu", "B", 9)
        pdf.cell(0, 5, f"{party.role}: {party.name}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 9)
        for line in party.address_lines:
            pdf.cell(0, 4.5, line, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    for label, value in printout.facts:
        pdf.cell(35, 5, label)
        pdf.cell(0, 5, value, new_x="LMARGIN", new_y="NEXT")
    if printout.description:
        pdf.ln(2)
        pdf.multi_cell(0, 5, printout.description, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    heading = FontFace(emphasis="BOLD", fill_color=(235, 235, 235))
    if printout.is_journal:
        head: tuple[str, ...] = ("#", "Description", "GL account", "Account", "Debit", "Credit")
        widths: tuple[int, ...] = (8, 62, 28, 28, 32, 32)
        align: tuple[Any, ...] = ("LEFT", "LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT")
        rows = [
            (str(n.number), n.description, n.gl_account, n.account, n.debit, n.credit)
            for n in printout.lines
        ]
    else:
        head = ("#", "Description", "Quantity", "Unit price", "Tax code", "Net")
        widths = (8, 70, 22, 32, 20, 38)
        align = ("LEFT", "LEFT", "RIGHT", "RIGHT", "LEFT", "RIGHT")
        rows = [
            (str(n.number), n.description, n.quantity, n.unit_price, n.tax_code, n.net)
            for n in printout.lines
        ]
    with pdf.table(
        col_widths=widths, text_align=align, headings_style=heading, line_height=5
    ) as table:
        table.row(head)
        for row in rows:
            table.row(row)
    if printout.taxes:
        pdf.ln(3)
        with pdf.table(
            col_widths=(40, 30, 50, 50),
            text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT"),
            headings_style=heading,
            line_height=5,
            width=170,
        ) as table:
            table.row(("Tax code", "Rate", "Taxable", "Tax"))
            for tax in printout.taxes:
                table.row((tax.code, tax.rate, tax.taxable, tax.tax))
    pdf.ln(3)
    for label, value in printout.totals:
        bold = label in ("Total", "Total debits")
        pdf.set_font("DejaVu", "B" if bold else "", 10 if bold else 9)
        pdf.cell(120, 6, label, align="R")
        pdf.cell(0, 6, value, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    if printout.terms:
        pdf.ln(3)
        for sentence in printout.terms:
            pdf.multi_cell(0, 5, sentence, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
