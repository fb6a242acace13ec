#!/usr/bin/env python3
"""Build the .docx and .pdf documents of kb_fjordkasse from the text held in this script.

Requires python-docx and reportlab (e.g. python3 -m venv /tmp/kbvenv &&
/tmp/kbvenv/bin/pip install python-docx reportlab), then:

    /tmp/kbvenv/bin/python build_binaries.py

Writes docs/de_widerspruch_beschwerden.docx, docs/en_data_protection.docx,
docs/de_krankenhaus_aufenthalt.pdf (with a ReportLab Table) and
docs/en_cancellation_switching.pdf. All content is invented.

Each document is a list of blocks: ("h1", text), ("date", text), ("h2", text),
("p", text), ("ul", [items]) and ("table", [header_row, row, ...]).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DOCS = os.path.join(HERE, "docs")

# ---------------------------------------------------------------------------
# de_widerspruch_beschwerden.docx
# ---------------------------------------------------------------------------
DE_WIDERSPRUCH = [
    ("h1", "Widerspruch und Beschwerden"),
    ("date", "Stand: 15. Juli 2025"),
    ("p", "Sie sind mit einer Entscheidung der Fjordkasse nicht einverstanden oder mit unserem Service "
          "unzufrieden? Hier erfahren Sie, wann ein Widerspruch der richtige Weg ist und wann eine "
          "Beschwerde, welche Fristen gelten und wie es danach weitergeht."),
    ("h2", "Widerspruch oder Beschwerde?"),
    ("p", "Einen Widerspruch legen Sie gegen einen Bescheid ein, also gegen eine schriftliche Entscheidung "
          "der Fjordkasse über Ihre Rechte, zum Beispiel die Ablehnung eines Hilfsmittels, die Höhe Ihres "
          "Krankengeldes oder einen Beitragsbescheid. Eine Beschwerde ist der richtige Weg, wenn Sie mit "
          "unserem Service unzufrieden sind, etwa mit langen Wartezeiten, einer unfreundlichen Auskunft "
          "oder einer fehlenden Rückmeldung."),
    ("h2", "Frist für den Widerspruch"),
    ("p", "Sie können innerhalb eines Monats Widerspruch einlegen, nachdem Ihnen der Bescheid bekannt "
          "gegeben wurde. Ein Bescheid, den wir per Post schicken, gilt am vierten Tag nach dem "
          "Absendedatum als bekannt gegeben. Ein Bescheid im digitalen Postfach der App gilt am vierten "
          "Tag nach der Bereitstellung als bekannt gegeben. Enthält der Bescheid keine oder eine "
          "fehlerhafte Rechtsbehelfsbelehrung, beträgt die Frist ein Jahr."),
    ("h2", "So legen Sie Widerspruch ein"),
    ("ul", [
        "schriftlich per Brief mit Ihrer Unterschrift an: Fjordkasse, Widerspruchsstelle, "
        "Speicherlinie 14, 24937 Flensburg",
        "in der Fjordkasse-App über die Funktion „Widerspruch einlegen“ direkt im jeweiligen Bescheid",
        "persönlich zur Niederschrift in einer unserer Geschäftsstellen",
    ]),
    ("p", "Eine einfache E-Mail reicht für einen Widerspruch nicht aus. Die Begründung können Sie "
          "nachreichen; wir geben Ihnen dafür 4 Wochen Zeit. Bitte nennen Sie das Datum und das "
          "Aktenzeichen des Bescheids."),
    ("h2", "Wie geht es nach dem Widerspruch weiter?"),
    ("p", "Zunächst prüft die zuständige Fachabteilung Ihren Fall innerhalb von 4 Wochen erneut. Geben wir "
          "Ihrem Widerspruch vollständig statt, erhalten Sie einen neuen Bescheid (Abhilfebescheid). "
          "Andernfalls entscheidet unser Widerspruchsausschuss, der einmal im Monat tagt. Sie erhalten "
          "dann einen schriftlichen Widerspruchsbescheid. Gegen diesen können Sie innerhalb eines Monats "
          "Klage beim Sozialgericht erheben. Für Versicherte ist das Verfahren vor dem Sozialgericht "
          "gerichtskostenfrei."),
    ("p", "Wichtig: Ein Widerspruch gegen einen Beitragsbescheid hat keine aufschiebende Wirkung. Sie müssen "
          "die Beiträge also zunächst weiter zahlen, auch wenn Sie Widerspruch eingelegt haben."),
    ("h2", "Beschwerden: Kanäle und Antwortzeiten"),
    ("table", [
        ["Kanal", "Kontakt", "Eingangsbestätigung", "Antwort spätestens nach"],
        ["Online-Formular", "fjordkasse.example/beschwerde", "sofort per E-Mail", "10 Arbeitstagen"],
        ["Fjordkasse-App", "Postfach, Thema „Beschwerde“", "sofort", "10 Arbeitstagen"],
        ["E-Mail", "beschwerde@fjordkasse.example", "innerhalb von 2 Arbeitstagen", "15 Arbeitstagen"],
        ["Brief", "Fjordkasse Beschwerdemanagement, Speicherlinie 14, 24937 Flensburg",
         "innerhalb von 5 Arbeitstagen", "20 Arbeitstagen"],
        ["Telefon", "0800 555 0140", "im Gespräch", "10 Arbeitstagen"],
    ]),
    ("p", "Brauchen wir für die Klärung länger, erhalten Sie vor Ablauf der Frist eine Zwischennachricht "
          "mit dem Grund und einem neuen Termin."),
    ("h2", "Wenn Sie mit der Antwort nicht zufrieden sind"),
    ("p", "Sie können Ihre Beschwerde an unsere Kundenbeauftragte weitergeben: "
          "kundenbeauftragte@fjordkasse.example. Sie ist unabhängig von den Fachabteilungen und antwortet "
          "innerhalb von 30 Tagen. Außerdem können Sie sich an die Aufsichtsbehörde der Fjordkasse wenden, "
          "das Bundesamt für Soziale Sicherung."),
    ("h2", "Zusatzversicherungen"),
    ("p", "Bei den Zusatzversicherungen Zahn Basis, Zahn Plus, Klinik Komfort und Fjordkasse Reise ist Ihr "
          "Vertragspartner die Nordlicht Krankenversicherung AG. Für diese Verträge gibt es keinen "
          "Widerspruch nach dem Sozialrecht. Wenden Sie sich mit Beschwerden an die Nordlicht "
          "Krankenversicherung AG über unsere Zusatzversicherungs-Hotline 0800 555 0145. Sind Sie mit der "
          "Antwort nicht zufrieden, können Sie sich kostenlos an den Ombudsmann Private Kranken- und "
          "Pflegeversicherung wenden."),
]

# ---------------------------------------------------------------------------
# en_data_protection.docx
# ---------------------------------------------------------------------------
EN_DATA_PROTECTION = [
    ("h1", "Data protection at Fjordkasse"),
    ("date", "Last updated: 1 July 2025"),
    ("p", "As a health insurer, we process particularly sensitive information about your health. This page "
          "explains which data we store, why, how long we keep it and which rights you have."),
    ("h2", "Who is responsible?"),
    ("p", "The controller is Fjordkasse, Speicherlinie 14, 24937 Flensburg. You can reach our data "
          "protection officer at datenschutz@fjordkasse.example or by post at the same address, marked "
          "\"Datenschutzbeauftragter\"."),
    ("h2", "What we process and why"),
    ("p", "We process your data only where the law requires it, mainly the German Social Code (SGB V and "
          "SGB X), or where you have given your consent. This includes membership and contribution data, "
          "data about benefits such as diagnoses on invoices and on certificates of incapacity for work, "
          "data from your supplementary insurance, which is processed by Nordlicht Krankenversicherung AG, "
          "and information you give us in the app or chat. We only send you advertising with your consent, "
          "and we never sell your data."),
    ("p", "Your employer receives only what it needs: the membership confirmation and the start and end of "
          "a period of incapacity for work. Your employer never learns your diagnosis from us."),
    ("h2", "Your rights"),
    ("ul", [
        "Access: you can request a copy of the data we hold about you free of charge. We reply within "
        "1 month; for complex requests we can extend this by up to 2 further months and will tell you why.",
        "Rectification, erasure, restriction of processing, objection and data portability. Erasure is "
        "not possible while a statutory retention period applies.",
        "You can withdraw any consent at any time with effect for the future.",
    ]),
    ("p", "Send requests in the app under Privacy > My data or by letter. We check your identity before we "
          "release any data. We do not give information about you to other people by phone, including "
          "family members, unless you have given them a written power of attorney. Parents can exercise "
          "these rights for their children under 15."),
    ("h2", "How long we keep your data"),
    ("table", [
        ["Data", "Retention period", "Period starts"],
        ["Membership and contribution data", "10 years", "end of membership"],
        ["Invoices and documents for statutory benefits", "4 years",
         "end of the calendar year in which the benefit was provided"],
        ["Sick pay files", "6 years", "end of the calendar year of the last payment"],
        ["Supplementary insurance contracts and claims", "10 years", "end of the contract"],
        ["Bonus programme proofs", "3 years", "end of the bonus year"],
        ["Second opinion records held by MedRat", "3 months", "delivery of the opinion"],
        ["Chat transcripts", "12 months", "end of the chat"],
        ["Call recordings (only with your consent)", "90 days", "date of the call"],
        ["Applications of people who did not become members", "6 months",
         "rejection or withdrawal of the application"],
    ]),
    ("p", "When the retention period ends, we delete the data or anonymise it."),
    ("h2", "Electronic patient record (ePA)"),
    ("p", "Since 15 January 2025, every insured person automatically receives an electronic patient record "
          "unless they object. You can object at any time in the \"Fjordkasse ePA\" app or by letter. We "
          "then delete your ePA and all its contents within 30 days. Fjordkasse cannot read the medical "
          "documents in your ePA; you decide which doctors may see which documents."),
    ("h2", "Security"),
    ("p", "Everything you send us through the app is transmitted encrypted. Ordinary e-mail is not "
          "encrypted, so please do not send health information by e-mail. We will never ask for your "
          "password by phone or e-mail."),
    ("h2", "Complaints"),
    ("p", "If you believe that we have not handled your data correctly, please contact our data protection "
          "officer first. You also have the right to complain to the supervisory authority, the Federal "
          "Commissioner for Data Protection and Freedom of Information (BfDI)."),
]

# ---------------------------------------------------------------------------
# de_krankenhaus_aufenthalt.pdf (with a ReportLab Table)
# ---------------------------------------------------------------------------
DE_KRANKENHAUS = [
    ("h1", "Krankenhausaufenthalt: Zuzahlungen, Belastungsgrenze und Klinik Komfort"),
    ("date", "Stand: 1. Juli 2025"),
    ("p", "Ob geplante Operation oder Notfall: Hier erfahren Sie, was Sie für einen Krankenhausaufenthalt "
          "brauchen, welche Zuzahlungen anfallen, wann Sie davon befreit werden können und wie Sie sich "
          "mit der Zusatzversicherung Klinik Komfort besser absichern."),
    ("h2", "Vor der Aufnahme"),
    ("p", "Für eine geplante Behandlung im Krankenhaus brauchen Sie eine Verordnung von "
          "Krankenhausbehandlung (Einweisung) Ihrer Ärztin oder Ihres Arztes. Im Notfall geht es auch ohne. "
          "Sie können unter den zugelassenen Krankenhäusern frei wählen. Wählen Sie ohne zwingenden Grund "
          "ein anderes Krankenhaus als das in der Einweisung genannte, können wir Ihnen die Mehrkosten "
          "berechnen. Bringen Sie zur Aufnahme Ihre Gesundheitskarte, die Einweisung, Ihren "
          "Medikationsplan und vorhandene Befunde mit."),
    ("h2", "Zuzahlungen"),
    ("p", "Für Versicherte ab 18 Jahren gelten folgende Zuzahlungen:"),
    ("table", [
        ["Leistung", "Zuzahlung", "Begrenzung"],
        ["Vollstationäre Krankenhausbehandlung", "10 € pro Kalendertag", "höchstens 28 Tage pro Kalenderjahr"],
        ["Anschlussrehabilitation", "10 € pro Kalendertag",
         "höchstens 28 Tage pro Kalenderjahr, zusammen mit den Krankenhaustagen"],
        ["Sonstige stationäre Rehabilitation", "10 € pro Kalendertag", "keine Begrenzung der Tage"],
        ["Fahrkosten zur stationären Behandlung", "10 % je Fahrt, mindestens 5 €, höchstens 10 €", "–"],
        ["Ambulante Operation im Krankenhaus", "keine", "–"],
        ["Versicherte unter 18 Jahren", "keine", "–"],
    ]),
    ("p", "Aufnahme- und Entlassungstag zählen jeweils als volle Kalendertage. Das Krankenhaus zieht die "
          "Zuzahlung für uns ein und schickt Ihnen dafür eine Rechnung. Für Krankenhausaufenthalte zahlen "
          "Sie so höchstens 280 € pro Kalenderjahr. Haben Sie im selben Kalenderjahr schon Tage in einem "
          "anderen Krankenhaus bezahlt, legen Sie die Quittung vor."),
    ("h2", "Belastungsgrenze und Befreiung"),
    ("p", "Alle gesetzlichen Zuzahlungen zusammen müssen Sie nur bis zu Ihrer persönlichen "
          "Belastungsgrenze leisten. Sie beträgt 2 % Ihrer jährlichen Bruttoeinnahmen zum Lebensunterhalt, "
          "für chronisch Kranke 1 %. Dabei werden die Einnahmen aller Angehörigen im Haushalt "
          "zusammengezählt und Freibeträge abgezogen: 2025 sind das 6.909 € für den ersten Angehörigen, "
          "zum Beispiel den Ehepartner, und 9.600 € für jedes Kind."),
    ("ul", [
        "Sammeln Sie alle Quittungen über Zuzahlungen eines Kalenderjahres.",
        "Ist die Grenze erreicht, beantragen Sie die Befreiung in der App oder mit unserem Formular. "
        "Zu viel gezahlte Zuzahlungen erstatten wir Ihnen.",
        "Chronisch Kranke können den Betrag von 1 % zu Jahresbeginn im Voraus an uns zahlen und erhalten "
        "sofort einen Befreiungsausweis für das ganze Jahr.",
        "Eigenanteile und Mehrkosten, zum Beispiel für Wahlleistungen, zählen nicht zur Belastungsgrenze.",
    ]),
    ("h2", "Wahlleistungen und die Zusatzversicherung Klinik Komfort"),
    ("p", "Ein Ein- oder Zweibettzimmer und die Behandlung durch den Chefarzt sind Wahlleistungen, die die "
          "gesetzliche Krankenversicherung nicht bezahlt. Mit der Krankenhauszusatzversicherung "
          "„Klinik Komfort“ unseres Partners Nordlicht Krankenversicherung AG sind Sie dafür abgesichert:"),
    ("ul", [
        "Unterbringung im Zweibettzimmer: 100 % der Kosten",
        "privatärztliche Behandlung, auch durch den Chefarzt: 100 % bis zum Höchstsatz der Gebührenordnung "
        "für Ärzte",
        "Einbettzimmer: Zuschuss von 40 € pro Tag",
        "Ersatz-Krankenhaustagegeld von 30 € pro Tag, wenn Sie keine Wahlleistungen in Anspruch nehmen",
    ]),
    ("p", "Die Wartezeit beträgt 3 Monate; nach einem Unfall entfällt sie. Die Mindestvertragslaufzeit "
          "beträgt 24 Monate. Der Beitrag beginnt bei 14,90 € im Monat und richtet sich nach dem "
          "Eintrittsalter. Die gesetzliche Zuzahlung von 10 € pro Tag übernimmt Klinik Komfort nicht."),
    ("h2", "Begleitperson, Entlassung und Fahrkosten"),
    ("p", "Bei Kindern unter 9 Jahren übernehmen wir die Mitaufnahme eines Elternteils ohne weiteren "
          "Nachweis, bei älteren Kindern mit ärztlicher Begründung. Berufstätige Begleitpersonen erhalten "
          "für die Zeit der Mitaufnahme Krankengeld."),
    ("p", "Vor der Entlassung organisiert das Entlassmanagement des Krankenhauses Ihre weitere Versorgung, "
          "zum Beispiel Medikamente für bis zu 7 Tage, Hilfsmittel oder eine Anschlussrehabilitation. "
          "Fahrkosten zur stationären Behandlung übernehmen wir, wenn die Fahrt ärztlich verordnet ist; "
          "die Zuzahlung finden Sie in der Tabelle oben."),
]

# ---------------------------------------------------------------------------
# en_cancellation_switching.pdf (no table)
# ---------------------------------------------------------------------------
EN_CANCELLATION = [
    ("h1", "Cancellation and switching insurer"),
    ("date", "Last updated: 4 July 2025"),
    ("p", "We are sorry to see you go, but we want switching to be simple and transparent. This page "
          "explains the rules for your statutory membership and for the supplementary insurance policies "
          "offered with our partner Nordlicht Krankenversicherung AG."),
    ("h2", "Switching from Fjordkasse to another statutory insurer"),
    ("ul", [
        "Minimum membership period: you can switch after you have been a member for at least 12 months.",
        "Notice period: 2 full calendar months, to the end of a month. Example: if the notification from "
        "your new insurer reaches us on 20 March, your membership with us ends on 31 May and your new "
        "insurer covers you from 1 June.",
        "You do not need to send us a cancellation. Simply join your new insurer, which notifies us "
        "electronically. We confirm the end of your membership within 14 days, by letter or in the "
        "app mailbox.",
        "Family-insured relatives switch together with you: their family insurance with us ends when your "
        "membership ends, so please register them with your new insurer.",
    ]),
    ("h2", "Special right of termination after a contribution increase"),
    ("p", "If Fjordkasse raises its additional contribution rate, you can switch even if you have not yet "
          "been a member for 12 months. You must join the new insurer by the end of the month in which the "
          "higher rate first applies. The notice period of 2 months still applies, and during the notice "
          "period you pay the higher rate. We inform you by letter at least 1 month before any increase."),
    ("h2", "Optional tariffs (Wahltarife)"),
    ("p", "If you have chosen an optional tariff, for example the sick pay tariff for self-employed members, "
          "you are bound to Fjordkasse for the minimum term of that tariff. You can only switch to another "
          "insurer once it has ended, except in cases of special hardship. The minimum term is stated in "
          "the conditions of the tariff."),
    ("h2", "Leaving statutory insurance"),
    ("ul", [
        "Private full health insurance: as an employee you can only leave if your income is above the "
        "annual income threshold (73,800 € in 2025); self-employed people and civil servants can leave at "
        "any time. The 12-month minimum period does not apply, but you must prove your private insurance "
        "within the notice period of 2 months.",
        "Moving abroad: if you leave Germany permanently and are no longer required to be insured here, "
        "your membership ends on the day you move. Please tell us before you move.",
        "Death: the membership ends on the day of death. We inform family-insured relatives about their "
        "options.",
    ]),
    ("h2", "Supplementary insurance"),
    ("p", "Zahn Basis, Zahn Plus, Klinik Komfort and Fjordkasse Reise are contracts with Nordlicht "
          "Krankenversicherung AG. They are separate from your statutory membership and continue unchanged "
          "if you switch to another statutory insurer; the premiums are then collected directly by "
          "Nordlicht."),
    ("ul", [
        "Zahn Basis, Zahn Plus and Klinik Komfort: you can cancel with 3 months' notice to the end of an "
        "insurance year, at the earliest at the end of the minimum term stated in the plan conditions. "
        "An insurance year is the 12 months from the start date of your contract.",
        "Example: a contract with a 12-month minimum term started on 1 April 2024. The earliest possible "
        "end was 31 March 2025, and the cancellation had to reach us by 31 December 2024.",
        "Fjordkasse Reise runs for 1 year and renews automatically. Cancel at least 1 month before the "
        "renewal date.",
        "If a premium is increased, you can cancel within 2 months of receiving the notice, effective "
        "from the date the increase applies.",
    ]),
    ("p", "For supplementary insurance, a cancellation in text form is sufficient: in the app, by letter or "
          "by e-mail to zusatz@fjordkasse.example. Please state your policy number."),
]

DOCUMENTS = {
    "de_widerspruch_beschwerden.docx": DE_WIDERSPRUCH,
    "en_data_protection.docx": EN_DATA_PROTECTION,
    "de_krankenhaus_aufenthalt.pdf": DE_KRANKENHAUS,
    "en_cancellation_switching.pdf": EN_CANCELLATION,
}


def plain_text(blocks):
    """The text of a document as plain text (used by validate.py as a cross-check)."""
    out = []
    for kind, content in blocks:
        if kind == "ul":
            out.extend("- " + item for item in content)
        elif kind == "table":
            out.extend(" | ".join(row) for row in content)
        else:
            out.append(content)
    return "\n".join(out)


def build_docx(path, blocks, title):
    import docx
    from docx.shared import Pt

    d = docx.Document()
    d.core_properties.title = title
    d.core_properties.author = "Fjordkasse"
    for kind, content in blocks:
        if kind == "h1":
            d.add_heading(content, level=1)
        elif kind == "h2":
            d.add_heading(content, level=2)
        elif kind == "date":
            p = d.add_paragraph()
            r = p.add_run(content)
            r.italic = True
        elif kind == "p":
            d.add_paragraph(content)
        elif kind == "ul":
            for item in content:
                d.add_paragraph(item, style="List Bullet")
        elif kind == "table":
            t = d.add_table(rows=len(content), cols=len(content[0]))
            t.style = "Table Grid"
            for i, row in enumerate(content):
                for j, cell in enumerate(row):
                    c = t.cell(i, j)
                    c.text = cell
                    if i == 0:
                        for r in c.paragraphs[0].runs:
                            r.bold = True
            d.add_paragraph()
    for s in ("Normal",):
        d.styles[s].font.size = Pt(11)
    d.save(path)


def build_pdf(path, blocks, title):
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import (ListFlowable, ListItem, Paragraph, SimpleDocTemplate, Spacer,
                                    Table, TableStyle)
    from xml.sax.saxutils import escape

    ss = getSampleStyleSheet()
    body = ss["BodyText"]
    cell = ss["BodyText"].clone("cell", fontSize=9, leading=11)
    story = []
    for kind, content in blocks:
        if kind == "h1":
            story.append(Paragraph(escape(content), ss["Heading1"]))
        elif kind == "h2":
            story.append(Paragraph(escape(content), ss["Heading2"]))
        elif kind == "date":
            story.append(Paragraph("<i>%s</i>" % escape(content), body))
            story.append(Spacer(1, 6))
        elif kind == "p":
            story.append(Paragraph(escape(content), body))
        elif kind == "ul":
            story.append(ListFlowable(
                [ListItem(Paragraph(escape(item), body), leftIndent=12) for item in content],
                bulletType="bullet", start="\u2022", leftIndent=12))
        elif kind == "table":
            data = [[Paragraph(("<b>%s</b>" if i == 0 else "%s") % escape(c), cell) for c in row]
                    for i, row in enumerate(content)]
            ncol = len(content[0])
            width = 16.5 * cm
            t = Table(data, colWidths=[width / ncol] * ncol, repeatRows=1)
            t.setStyle(TableStyle([
                ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dde8f0")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]))
            story.append(Spacer(1, 4))
            story.append(t)
            story.append(Spacer(1, 6))
    doc = SimpleDocTemplate(path, pagesize=A4, title=title, author="Fjordkasse",
                            leftMargin=2.2 * cm, rightMargin=2.2 * cm, topMargin=2 * cm, bottomMargin=2 * cm)
    doc.build(story)


def main():
    os.makedirs(DOCS, exist_ok=True)
    for name, blocks in DOCUMENTS.items():
        path = os.path.join(DOCS, name)
        title = blocks[0][1]
        if name.endswith(".docx"):
            build_docx(path, blocks, title)
        else:
            build_pdf(path, blocks, title)
        print("wrote", os.path.relpath(path, HERE), len(plain_text(blocks).split()), "words")


if __name__ == "__main__":
    sys.exit(main())
