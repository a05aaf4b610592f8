"""The invoice between the partners as people read it: the terminal, JSON, and one A4 page as a
workbook (XlsxWriter) or a PDF (fpdf2), with both partners' names and addresses."""

from __future__ import annotations

from claims.invoice import Invoice
from claims.report.deliver import Report
from claims.report.safe import neutralise
from hds.dates import MONTH_NAMES
from hds.money import format_pounds, pounds

TITLE = "Invoice: Hospital Discharge Scheme recharge"


def month_text(month: str) -> str:
    return f"{MONTH_NAMES[int(month[5:]) - 1]} {month[:4]}"


def invoice_json(inv: Invoice) -> dict:
    return {"number": inv.number, "month": inv.month, "from": inv.from_party.code, "to": inv.to_party.code,
            "issued": inv.issued, "lines": [{"description": line.description, "amount": pounds(line.pence)}
                                            for line in inv.lines], "total": pounds(inv.total_pence)}


def heading(inv: Invoice) -> list[str]:
    """The invoice's identity, who it is from and to, and what it is for, a line each."""
    state = (f"Draft invoice {inv.number}: not issued (hds invoice --month {inv.month} --issue issues it)"
             if inv.draft else f"Invoice {inv.number}, issued {inv.issued}")
    return [state, f"From: {_party(inv.from_party)}", f"To:   {_party(inv.to_party)}",
            f"For:  {for_text(inv)}"]


def for_text(inv: Invoice) -> str:
    return (f"the recharge between the partners for {month_text(inv.month)} under the Section 75 agreement (5.3); "
            f"the claim to NHS England: {inv.source}")


def issued_line(inv: Invoice) -> str:
    """What `hds invoice --issue` says it did."""
    return (f"Issued invoice {inv.number} for {inv.month} on {inv.issued}: {total_sentence(inv)[0].lower()}"
            f"{total_sentence(inv)[1:]}; its hash is kept in the ledger's chain and the anchor file")


def total_sentence(inv: Invoice) -> str:
    if not inv.total_pence:
        return f"Total: nothing is due either way for {month_text(inv.month)}"
    return f"Total due from {inv.to_party.code} to {inv.from_party.code}: {format_pounds(inv.total_pence)}"


def _party(party) -> str:
    name = f"{party.name} ({party.code})" if party.name != party.code else party.code
    return name + (f", {', '.join(address_lines(party.address))}" if party.address else "")


def address_lines(address: str) -> list[str]:
    """An address from hds.toml, a line per line (or per comma when written on one line)."""
    lines = [part.strip() for part in address.replace("\r", "").split("\n") if part.strip()]
    if len(lines) == 1:
        lines = [part.strip() for part in lines[0].split(",") if part.strip()]
    return lines


def invoice_table(inv: Invoice) -> str:
    from claims.report.text import Shown, table, terminal_width

    return "\n".join(heading(inv) + ["", table([
        Shown("Description", [line.description for line in inv.lines]),
        Shown("For month", [line.for_month for line in inv.lines]),
        Shown("Amount", [format_pounds(line.pence) for line in inv.lines], "right")], terminal_width()),
        "", total_sentence(inv)])


def invoice_report(inv: Invoice) -> Report:
    """`hds invoice`: the table, JSON (its `data`), and the one-page workbook or PDF."""
    rows = tuple({"description": line.description, "claim_month": line.for_month, "amount": pounds(line.pence)}
                 for line in inv.lines)
    return Report(heading(inv)[0], ("description", "claim_month", "amount"), rows, (total_sentence(inv),),
                  invoice_json(inv), sheet="Invoice", heading=" ".join(heading(inv)[:1]),
                  render={"table": lambda: invoice_table(inv),
                          "xlsx": lambda: invoice_xlsx(inv), "pdf": lambda: invoice_pdf(inv)})


def pack_report(inv: Invoice) -> Report:
    """The month-end pack's Invoice sheet."""
    rows = tuple({"description": line.description, "claim_month": line.for_month, "amount": pounds(line.pence)}
                 for line in inv.lines)
    label = (f"Total due from {inv.to_party.code} to {inv.from_party.code}" if inv.total_pence
             else "Total: nothing is due either way")
    return Report(heading(inv)[0], ("claim_month", "description", "amount"), rows, (total_sentence(inv),),
                  {"heading": heading(inv), "label": label, "total": pounds(inv.total_pence)}, sheet="Invoice")


# --- one A4 page: the workbook --------------------------------------------------------------

def invoice_xlsx(inv: Invoice) -> bytes:
    """The invoice on one portrait A4 page of a workbook."""
    from claims.report import excel

    book = excel._new_book()
    ws = book.add_worksheet("Invoice")
    fmt = _formats(book, excel)
    ws.set_column(0, 0, 14)
    ws.set_column(1, 1, 62)
    ws.set_column(2, 2, 16)
    ws.set_paper(excel.A4)
    ws.set_portrait()
    ws.fit_to_pages(1, 1)
    ws.hide_gridlines(2)
    ws.set_margins(left=0.7, right=0.7, top=0.8, bottom=0.8)
    row = _xlsx_head(ws, fmt, inv)
    row = _xlsx_lines(ws, fmt, inv, row + 1)
    ws.merge_range(row + 1, 0, row + 1, 2, _text(_payment_note(inv)), fmt["note"])
    ws.set_row(row + 1, 40)
    ws.set_footer(f"&L{_hf(inv.number)}&C{_hf(TITLE)}&R{_hf(inv.from_party.code)} / {_hf(inv.to_party.code)}")
    return excel._save(book)


def _formats(book, excel) -> dict:
    base = {"font_name": excel.FONT, "font_size": 10, "valign": "top"}
    money = excel.MONEY_FORMAT
    specs = {"title": {"font_size": 18, "bold": True}, "draft": {"font_size": 14, "bold": True, "font_color": "#C00000"},
             "label": {"bold": True}, "value": {"text_wrap": True}, "th": {"bold": True, "bg_color": "#D9D9D9",
                                                                       "bottom": 1},
             "th/right": {"bold": True, "bg_color": "#D9D9D9", "bottom": 1, "align": "right"},
             "cell": {"text_wrap": True, "bottom": 4, "bottom_color": "#A6A6A6"},
             "money": {"num_format": money, "bottom": 4, "bottom_color": "#A6A6A6"},
             "total": {"bold": True, "font_size": 12, "top": 1, "bottom": 6},
             "total/money": {"bold": True, "font_size": 12, "top": 1, "bottom": 6, "num_format": money},
             "note": {"italic": True, "text_wrap": True, "font_color": "#595959"}}
    return {name: book.add_format({**base, **spec}) for name, spec in specs.items()}


def _xlsx_head(ws, fmt: dict, inv: Invoice) -> int:
    ws.write_string(0, 0, "DRAFT INVOICE" if inv.draft else "INVOICE", fmt["draft" if inv.draft else "title"])
    ws.set_row(0, 28)
    facts = [("Number", inv.number), ("Issued", inv.issued or "not issued: a draft"),
             ("For", for_text(inv))]
    row = 2
    for label, value in facts:
        ws.write_string(row, 0, label, fmt["label"])
        ws.merge_range(row, 1, row, 2, _text(value), fmt["value"])
        row += 1
    for label, party in (("From", inv.from_party), ("To", inv.to_party)):
        row += 1
        ws.write_string(row, 0, label, fmt["label"])
        for text in [f"{party.name} ({party.code})" if party.name != party.code else party.code,
                     *address_lines(party.address)]:
            ws.merge_range(row, 1, row, 2, _text(text), fmt["value"])
            row += 1
    return row


def _xlsx_lines(ws, fmt: dict, inv: Invoice, row: int) -> int:
    ws.write_string(row, 0, "For month", fmt["th"])
    ws.write_string(row, 1, "Description", fmt["th"])
    ws.write_string(row, 2, "Amount", fmt["th/right"])
    first = row + 1
    for line in inv.lines:
        row += 1
        ws.write_string(row, 0, line.for_month, fmt["cell"])
        ws.write_string(row, 1, _text(line.description), fmt["cell"])
        ws.write_number(row, 2, pounds(line.pence), fmt["money"])
        ws.set_row(row, 13 * max(1, -(-len(line.description) // 68)) + 3)
    row += 1
    ws.write_string(row, 0, "", fmt["total"])
    ws.write_string(row, 1, f"Total due from {inv.to_party.code} to {inv.from_party.code}", fmt["total"])
    ws.write_formula(row, 2, f"=SUM(C{first + 1}:C{row})", fmt["total/money"], pounds(inv.total_pence))
    ws.set_row(row, 18)
    return row + 1


def _payment_note(inv: Invoice) -> str:
    if inv.draft:
        return ("A draft for checking: not an invoice until issued. Issuing records it in the ledger with its "
                "number; a later change of these figures goes into the next invoice as a line of its own.")
    return (f"Please pay {format_pounds(inv.total_pence)} to {inv.from_party.name}, quoting {inv.number}. "
            "Any later change to these figures is carried by the next invoice as a line of its own.")


def _text(value: str) -> str:
    return neutralise(str(value))


def _hf(text: str) -> str:
    return str(text).replace("&", "&&")


# --- one A4 page: the PDF ---------------------------------------------------------------------

def invoice_pdf(inv: Invoice) -> bytes:
    """The invoice on one portrait A4 page of a PDF."""
    from fpdf import FPDF

    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(18, 18, 18)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    if inv.draft:
        pdf.set_text_color(192, 0, 0)
    pdf.cell(0, 10, "DRAFT INVOICE" if inv.draft else "INVOICE", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.ln(3)
    _pdf_facts(pdf, inv)
    _pdf_lines(pdf, inv)
    pdf.ln(6)
    pdf.set_font("Helvetica", "I", 9)
    pdf.multi_cell(0, 5, _latin(_payment_note(inv)), new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(-15)
    pdf.set_font("Helvetica", "", 8)
    pdf.cell(0, 5, _latin(f"{inv.number}   {TITLE}   {inv.from_party.code} / {inv.to_party.code}"), align="C")
    return bytes(pdf.output())


def _pdf_facts(pdf, inv: Invoice) -> None:
    facts = [("Number", [inv.number]), ("Issued", [inv.issued or "not issued: a draft"]),
             ("For", [for_text(inv)])]
    for label, party in (("From", inv.from_party), ("To", inv.to_party)):
        facts.append((label, [f"{party.name} ({party.code})" if party.name != party.code else party.code,
                              *address_lines(party.address)]))
    for label, lines in facts:
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(30, 6, label)
        pdf.set_font("Helvetica", "", 10)
        pdf.multi_cell(0, 6, _latin("\n".join(lines)), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)


def _pdf_lines(pdf, inv: Invoice) -> None:
    from fpdf.fonts import FontFace

    pdf.ln(4)
    pdf.set_font("Helvetica", "", 10)
    with pdf.table(col_widths=(22, 118, 34), text_align=("LEFT", "LEFT", "RIGHT"), line_height=5,
                   borders_layout="HORIZONTAL_LINES",
                   headings_style=FontFace(emphasis="BOLD", fill_color=(217, 217, 217))) as table:
        table.row(["For month", "Description", "Amount"])
        for line in inv.lines:
            table.row([line.for_month, _latin(line.description), _latin(format_pounds(line.pence))])
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(140, 8, _latin(f"Total due from {inv.to_party.code} to {inv.from_party.code}"))
    pdf.cell(34, 8, _latin(format_pounds(inv.total_pence)), align="R", new_x="LMARGIN", new_y="NEXT")


def _latin(text: str) -> str:
    """What the PDF's core font can show: Latin-1 (the pound sign included); anything else as '?'."""
    return str(text).replace("\u2019", "'").replace("\u2013", "-").encode("latin-1", "replace").decode("latin-1")
