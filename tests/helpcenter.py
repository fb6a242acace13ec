"""The tests' own help center: Velora, a fictional e-bike subscription in German cities, in German
and English, as Markdown, HTML and plain text. Tests assert behaviour on these articles (their
facts, their doc ids), never on the sample knowledge base ``kb_docs/`` that ships with the service.

``ARTICLES`` are public (customers see them); ``INTERNAL`` are for the support team only and are
ingested with ``audience="internal"``, the way ``rag-ingest --audience internal`` marks them.
"""

from __future__ import annotations

from pathlib import Path

ARTICLES: dict[str, str] = {
    "abos-und-preise.md": """# E-Bike-Abos und Preise

Bei Velora mieten Sie ein E-Bike im Monatsabo. Wartung, Reparaturen und Versicherung sind im
Monatspreis enthalten. Alle Preise verstehen sich inklusive Mehrwertsteuer.

## Preisübersicht

| Abo | Rad | Monatspreis | Mindestlaufzeit |
| --- | --- | --- | --- |
| Abo City | Stadtrad mit 7 Gängen | 34,90 € | 3 Monate |
| Abo Pendler | Trekkingrad mit 11 Gängen | 49,90 € | 6 Monate |
| Abo Cargo | Lastenrad für 2 Kinder | 79,00 € | 12 Monate |
| Abo Flex | Stadtrad mit 7 Gängen | 59,90 € | 1 Monat |

Zu jedem Abo kommt eine einmalige Startgebühr von 25,00 €. Sie wird mit der ersten Monatsrate
abgebucht.

## Laufzeit und Verlängerung

Das Abo City hat eine Mindestlaufzeit von 3 Monaten und kostet 34,90 € pro Monat. Nach der
Mindestlaufzeit verlängert sich jedes Abo automatisch um jeweils einen Monat.

## Abo wechseln

Ein Wechsel in ein größeres Abo ist jederzeit zum nächsten Monatsersten möglich. Das neue Rad
bringen wir Ihnen kostenlos vorbei.
""",
    "plans-and-prices.md": """# Plans and prices

Velora rents out e-bikes on a monthly plan. Maintenance, repairs and insurance are included in
the monthly price.

## Monthly plans

- **City**: city bike with 7 gears, €34.90 per month, minimum term 3 months
- **Pendler** (commuter): trekking bike with 11 gears, €49.90 per month, minimum term 6 months
- **Cargo**: cargo bike for two children, €79.00 per month, minimum term 12 months

## Day and weekend passes

Not ready for a subscription? The Day Pass costs €19.90 and gives you a City bike for 24 hours.
The Weekend Pass costs €39.00 and runs from Friday 15:00 to Monday 10:00.

## Student discount

Students get 15 % off every monthly plan. Upload a valid student ID in the Velora app; the
discount starts with the next monthly payment.
""",
    "kuendigung.md": """# Abo kündigen

Privatkunden kündigen ihr Abo mit einer Frist von einem Monat zum Monatsende, frühestens zum
Ende der Mindestlaufzeit. Die Kündigung geht in der Velora-App unter „Mein Abo > Kündigen“ oder
per E-Mail.

## Rückgabe des Rads

Nach dem Ende des Abos holen wir das Rad an Ihrer Adresse ab. Die Abholung erfolgt am 5. Werktag
nach Vertragsende. Fehlt Zubehör wie Ladegerät oder Schloss, berechnen wir es nach der
Ersatzteilliste.
""",
    "firmenabo.md": """# Firmenabo für Geschäftskunden

Unternehmen können ab 5 Rädern ein Firmenabo abschließen. Die Räder sind auf das Unternehmen
angemeldet und dürfen von allen Beschäftigten genutzt werden.

## Kündigung des Firmenabos

Geschäftskunden kündigen das Firmenabo mit einer Frist von drei Monaten zum Quartalsende. Die
Kündigung muss schriftlich erfolgen.

## Abrechnung

Firmenkunden erhalten eine Sammelrechnung pro Monat und zahlen per Überweisung innerhalb von
14 Tagen.
""",
    "abo-pausieren.md": """# Abo pausieren

Sie verreisen oder sind längere Zeit krank? Sie können Ihr Abo bis zu zweimal pro Jahr für je
höchstens 8 Wochen pausieren.

## Pause anmelden

Melden Sie die Pause spätestens 10 Tage vor ihrem Beginn in der Velora-App an. Während der
Pause lagern wir das Rad ein; Sie zahlen dann nur 5,00 € pro Monat statt des vollen Preises.
""",
    "zahlung.html": """<!DOCTYPE html>
<html lang="de">
<head><meta charset="utf-8"><title>Zahlung und Gebühren</title></head>
<body>
<h1>Zahlung und Gebühren</h1>
<p>Den Monatspreis ziehen wir per SEPA-Lastschrift ein. Die Abbuchung erfolgt am 3. Werktag des
Monats. Ihre Rechnungen finden Sie in der Velora-App unter „Mein Konto“.</p>
<h2>Gebühren</h2>
<table>
  <thead><tr><th>Gebühr</th><th>Betrag</th></tr></thead>
  <tbody>
    <tr><td>Mahngebühr (ab der zweiten Mahnung)</td><td>6,00 €</td></tr>
    <tr><td>Rücklastschrift</td><td>8,50 €</td></tr>
    <tr><td>Papierrechnung</td><td>2,00 € pro Monat</td></tr>
  </tbody>
</table>
</body>
</html>
""",
    "datenschutz.md": """# Datenschutz bei Velora

Jedes Rad hat einen GPS-Tracker, damit wir es bei einem Diebstahl finden. Die Standortdaten
speichern wir höchstens 30 Tage; danach werden sie automatisch gelöscht.

## Ihre Rechte

Sie können jederzeit Auskunft über Ihre gespeicherten Daten verlangen. Schreiben Sie dazu an
datenschutz@velora-rad.example.
""",
    "pannenhilfe.txt": """Panne, Reparatur und Ersatzteile

Panne unterwegs
Hat Ihr Rad unterwegs eine Panne, rufen Sie unsere Pannenhilfe unter 0800 725 8830 an. Ein
Techniker kommt innerhalb von 48 Stunden zu Ihnen und repariert das Rad vor Ort oder tauscht es aus.

Reparaturen
Reparaturen nach normalem Verschleiß sind im Abo enthalten. Schäden durch einen Unfall oder
unsachgemäße Nutzung berechnen wir nach Aufwand.

Ersatzteile
Ein verlorener Schlüssel für das Akkuschloss wird ersetzt; ein Ersatzschlüssel kostet 12,50 €.
Ein neues Ladegerät kostet 45,00 €.
""",
    "damage-and-theft.md": """# Damage and theft

## Reporting damage

Report damage in the Velora app within 48 hours: take a photo and describe what happened. A
technician will contact you the next working day.

## Theft

If your bike is stolen, file a police report within 24 hours and upload it in the app. Your
excess for a stolen bike is €150, provided the bike was locked with the supplied lock.
""",
    "getting-started.txt": """Getting started with your Velora bike

Unlocking the bike
Open the Velora app, tap "Unlock" and hold your phone next to the frame. The lock opens via
Bluetooth within a few seconds.

Charging the battery
Take the battery out with the key and charge it with the supplied charger. A full charge takes
about 4 hours and lasts for up to 70 km.
""",
    "kontakt.html": """<!DOCTYPE html>
<html lang="de">
<head><meta charset="utf-8"><title>Kontakt und Servicezeiten</title></head>
<body>
<h1>Kontakt und Servicezeiten</h1>
<p>Unser Kundenservice ist per Telefon, Chat und E-Mail für Sie da.</p>
<h2>Telefon</h2>
<p>Die Service-Hotline erreichen Sie kostenlos unter <strong>0800 725 8830</strong>, Montag bis
Freitag von 8:00 bis 18:00 Uhr.</p>
<h2>E-Mail</h2>
<p>Per E-Mail erreichen Sie uns unter hilfe@velora-rad.example. Wir antworten innerhalb von
24 Stunden an Werktagen.</p>
</body>
</html>
""",
    "contact.html": """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Contact us</title></head>
<body>
<h1>Contact us</h1>
<p>Our English service line is <strong>+49 30 5550 1200</strong>, Monday to Friday from 9:00 to
17:00 (calls cost the usual rate to a Berlin landline).</p>
<p>You can also write to help@velora-rad.example; we reply within one working day.</p>
</body>
</html>
""",
}

INTERNAL: dict[str, str] = {
    "kulanz-intern.md": """# Kulanzregeln (intern)

Nur für das Support-Team. Bei einem gestohlenen Rad darf das Team die Selbstbeteiligung bis zu
einem Betrag von 75 € erlassen, wenn der Kunde seit mindestens einem Jahr ein Abo hat.
""",
}


def write(folder: Path) -> tuple[Path, Path]:
    """The help center written under ``folder``: (public articles, internal articles), two folders
    to ingest (the second with ``audience="internal"``)."""
    public, internal = folder / "public", folder / "internal"
    for target, articles in ((public, ARTICLES), (internal, INTERNAL)):
        target.mkdir(parents=True, exist_ok=True)
        for name, text in articles.items():
            (target / name).write_text(text, encoding="utf-8")
    return public, internal
