"""The printable renditions of a document: HTML (Jinja2) and PDF (fpdf2), from one `Printout`.

`GET /documents/{id}/print` answers the HTML page; `GET /documents/{id}/print?format=pdf` the
same content as a PDF. fpdf2 is pure Python (no browser, nothing native beyond Pillow's
wheels), so the PDF is made inside the API's Lambda. The font is DejaVu Sans (shipped in
`background_posting/fonts`, its licence beside it): the core PDF fonts cannot print €, ₹ or
a customer's name in Greek.

A Swiss QR-bill (`Printout.payment_part`) is drawn by `qrbill` as SVG: inline in the HTML,
and in the PDF as vector graphics at the foot of the last page (or of a page of its own when
the invoice leaves less than its 105 mm free), in Liberation Sans, one of the fonts the
QR-bill's style guide allows (shipped beside DejaVu Sans, its licence beside it).
"""

from __future__ import annotations

import io
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from background_posting.domain.printout import Printout

if TYPE_CHECKING:
    from fpdf import FPDF
    from qrbill import QRBill

# The QR-bill's fonts (its style guide: Arial, Frutiger, Helvetica or Liberation Sans): the
# PDF embeds Liberation Sans; a browser uses it or Arial or Helvetica.
QR_BILL_FONTS = "Liberation Sans,Arial,Helvetica"
PAYMENT_PART_HEIGHT = 106  # mm: the payment part's 105 and the 1 qrbill draws its scissors in


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("background_posting", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(printout: Printout) -> str:
    bill = printout.payment_part
    return (
        _environment()
        .get_template("document.html.j2")
        .render(p=printout, payment_part=None if bill is None else Markup(_svg(bill)))
    )


def _svg(bill: QRBill) -> str:
    """The payment part and receipt as an SVG element (qrbill escapes the text it writes)."""
    bill.font_family = QR_BILL_FONTS
    drawn = io.StringIO()
    bill.as_svg(drawn)
    svg = drawn.getvalue()
    return svg[svg.index("<svg") :]


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
    if printout.payment_part is not None:
        _payment_part(pdf, printout.payment_part)
    return bytes(pdf.output())


def _payment_part(pdf: FPDF, bill: QRBill) -> None:
    """The QR-bill across the foot of the page, on a page of its own if this one is too full."""
    top = pdf.h - PAYMENT_PART_HEIGHT
    if pdf.get_y() > top - 2:  # the invoice reaches into where the payment part goes
        pdf.add_page()
    pdf.add_font("Liberation Sans", "", _font("LiberationSans-Regular.ttf"))
    pdf.add_font("Liberation Sans", "B", _font("LiberationSans-Bold.ttf"))
    pdf.image(io.BytesIO(_svg(bill).encode()), x=0, y=top, w=pdf.w)
