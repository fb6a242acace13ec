"""Build the PDF and DOCX articles of the sample knowledge base from the texts below.

The generated files are committed (kb_docs/*.pdf, kb_docs/*.docx) so a fresh clone needs
neither reportlab nor this script; re-run it only after editing a text here:

    .venv/bin/python scripts/build_kb_binaries.py
"""

from __future__ import annotations

from pathlib import Path

KB = Path(__file__).resolve().parent.parent / "kb_docs"

# Each article: (title, [(heading, [paragraphs or ("table", rows) or ("list", items)])])
Section = tuple[str, list[object]]

RECHNUNG: list[Section] = [
    (
        "Zahlungsarten",
        [
            "Ihre monatliche Rechnung wird standardmäßig per SEPA-Lastschrift am 5. Werktag des Monats "
            "von Ihrem Konto abgebucht. Alternativ können Sie per Überweisung oder Kreditkarte zahlen.",
            (
                "list",
                [
                    "SEPA-Lastschrift: kostenlos",
                    "Überweisung: kostenlos, Zahlung muss bis zum 15. des Monats eingehen",
                    "Kreditkarte (Visa, Mastercard): kostenlos",
                ],
            ),
        ],
    ),
    (
        "Gebühren bei Zahlungsverzug",
        [
            "Wird eine Lastschrift von Ihrer Bank zurückgegeben, berechnen wir eine Rücklastschriftgebühr "
            "von 3,50 €. Für jede Mahnung berechnen wir eine Mahngebühr von 5,00 €.",
            (
                "table",
                [
                    ["Gebühr", "Betrag"],
                    ["Rücklastschrift", "3,50 €"],
                    ["Mahnung (je Mahnung)", "5,00 €"],
                    ["Papierrechnung (pro Monat)", "1,50 €"],
                    ["Entsperrung nach Zahlungsverzug", "kostenlos"],
                ],
            ),
            "Nach zwei Mahnungen ohne Zahlung sperren wir abgehende Anrufe und mobile Daten. Eingehende "
            "Anrufe und Notrufe bleiben möglich.",
        ],
    ),
    (
        "Rechnung prüfen und beanstanden",
        [
            "Sie finden jede Rechnung als PDF in „Mein Konto > Rechnungen“. Einwände gegen eine Rechnung "
            "müssen innerhalb von 8 Wochen nach Rechnungsdatum erhoben werden. Bis zur Klärung wird der "
            "beanstandete Betrag nicht eingezogen.",
        ],
    ),
]

BILLING_EN: list[Section] = [
    (
        "Your billing cycle",
        [
            "Your billing month starts on the day your contract was activated. The invoice is available "
            'in "My account > Invoices" two days after the billing month ends, and we notify you by e-mail.',
            "The first invoice is usually higher because it covers part of a month plus the first full month.",
        ],
    ),
    (
        "Itemised bill",
        [
            "A detailed itemised bill lists every chargeable connection. It is free of charge and can be "
            'switched on in "My account > Invoice settings". Numbers can be shown shortened by the last '
            "three digits.",
        ],
    ),
    (
        "Disputing an invoice",
        [
            "If you think an invoice is wrong, tell us within 8 weeks of the invoice date. We do not collect "
            "the disputed amount until the dispute is resolved. Contact our service team with your customer "
            "number and the invoice number.",
        ],
    ),
    (
        "Refunds",
        [
            "Credits and refunds are paid back to the bank account stored in your customer account within "
            "10 working days.",
        ],
    ),
]

WIDERRUF: list[Section] = [
    (
        "Widerrufsrecht",
        [
            "Als Verbraucher können Sie einen online oder telefonisch geschlossenen Vertrag innerhalb von "
            "14 Tagen ohne Angabe von Gründen widerrufen. Die Frist beginnt mit dem Tag des Vertragsschlusses, "
            "bei Geräten mit dem Tag, an dem Sie die Ware erhalten haben.",
        ],
    ),
    (
        "So widerrufen Sie",
        [
            (
                "list",
                [
                    "Online über „Mein Konto > Vertrag widerrufen“",
                    "Per E-Mail an widerruf@nordwind-mobil.example",
                    "Per Brief an NordWind Mobil GmbH, Hafenstraße 12, 20457 Hamburg",
                ],
            ),
            "Es genügt, wenn Sie den Widerruf vor Ablauf der Frist absenden.",
        ],
    ),
    (
        "Folgen des Widerrufs",
        [
            "Wir erstatten alle Zahlungen einschließlich der Versandkosten spätestens binnen 14 Tagen nach "
            "Eingang Ihres Widerrufs. Für bereits genutzte Leistungen (zum Beispiel verbrauchtes "
            "Datenvolumen) zahlen Sie einen anteiligen Betrag.",
        ],
    ),
]

DEVICE_PROTECTION: list[Section] = [
    (
        "What device protection covers",
        [
            "NordWind Device Protection covers accidental damage (for example a broken display), liquid "
            "damage and theft of your smartphone or tablet for as long as you keep the protection.",
        ],
    ),
    (
        "Prices and excess",
        [
            (
                "table",
                [
                    ["Device price", "Monthly fee", "Excess per claim"],
                    ["up to €500", "€4.99", "€49"],
                    ["€501 to €1,000", "€7.99", "€79"],
                    ["over €1,000", "€11.99", "€99"],
                ],
            ),
            "Protection can be added within 30 days of buying the device. It can be cancelled monthly.",
        ],
    ),
    (
        "Making a claim",
        [
            'Report damage in the NordWind app under "Device protection > Report a claim" within 14 days. '
            "Theft must be reported to the police first; upload the police report with the claim. "
            "Repaired devices are returned within 5 working days. At most two claims are covered per "
            "12 months.",
        ],
    ),
]

BUSINESS_TARIFE: list[Section] = [
    (
        "Tarife für Geschäftskunden",
        [
            "NordWind Business richtet sich an Selbstständige und Unternehmen. Alle Preise verstehen sich "
            "zuzüglich 19 % Mehrwertsteuer.",
            (
                "table",
                [
                    ["Tarif", "Datenvolumen", "Preis pro Monat (netto)"],
                    ["Business S", "20 GB", "12,90 €"],
                    ["Business M", "50 GB", "22,90 €"],
                    ["Business L", "unbegrenzt", "34,90 €"],
                ],
            ),
        ],
    ),
    (
        "Leistungen",
        [
            (
                "list",
                [
                    "Persönlicher Ansprechpartner ab 5 SIM-Karten",
                    "Entstörung innerhalb von 4 Stunden an Werktagen",
                    "Business-Hotline 0800 663 9450, Montag bis Freitag 7:00 bis 19:00 Uhr",
                ],
            ),
            "Die Mindestlaufzeit beträgt 24 Monate. Die Kündigungsfrist beträgt drei Monate zum Ende der "
            "Laufzeit (siehe „Kündigung für Geschäftskunden“).",
        ],
    ),
]


def write_pdf(path: Path, title: str, sections: list[Section]) -> None:
    """Text PDF with real headings, lists and a table, so pdfminer extracts them like a help-center export."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import ListFlowable, ListItem, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    story: list[object] = [Paragraph(title, styles["Title"]), Spacer(1, 12)]
    for heading, parts in sections:
        story.append(Paragraph(heading, styles["Heading2"]))
        for part in parts:
            if isinstance(part, str):
                story.append(Paragraph(part, styles["BodyText"]))
            elif part[0] == "list":
                story.append(
                    ListFlowable([ListItem(Paragraph(i, styles["BodyText"])) for i in part[1]], bulletType="bullet")
                )
            else:
                table = Table(part[1])
                table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey)]))
                story.append(table)
            story.append(Spacer(1, 6))
    doc = SimpleDocTemplate(str(path), pagesize=A4, title=title, author="NordWind Mobil GmbH")
    doc.build(story)


def write_docx(path: Path, title: str, sections: list[Section]) -> None:
    import docx

    document = docx.Document()
    document.core_properties.title = title
    document.add_heading(title, level=1)
    for heading, parts in sections:
        document.add_heading(heading, level=2)
        for part in parts:
            if isinstance(part, str):
                document.add_paragraph(part)
            elif part[0] == "list":
                for item in part[1]:
                    document.add_paragraph(item, style="List Bullet")
            else:
                rows = part[1]
                table = document.add_table(rows=len(rows), cols=len(rows[0]))
                table.style = "Table Grid"
                for r, row in enumerate(rows):
                    for c, cell in enumerate(row):
                        table.cell(r, c).text = cell
    document.save(str(path))


def main() -> None:
    write_pdf(KB / "rechnung-und-zahlung.pdf", "Rechnung und Zahlung", RECHNUNG)
    write_pdf(KB / "billing-explained.pdf", "Your bill explained", BILLING_EN)
    write_docx(KB / "widerrufsbelehrung.docx", "Widerrufsbelehrung", WIDERRUF)
    write_docx(KB / "device-protection.docx", "Device protection for smartphones and tablets", DEVICE_PROTECTION)
    write_docx(KB / "geschaeftskunden-tarife.docx", "NordWind Business: Tarife für Geschäftskunden", BUSINESS_TARIFE)


if __name__ == "__main__":
    main()
