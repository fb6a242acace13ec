#!/usr/bin/env python3
"""Validate eval/pii/messages.jsonl (stdlib only).

Checks:
  * every line is a JSON object with id, language, text, entities
  * ids are unique and look like "<language>-NNN"
  * language is "de" or "en"
  * entity types come from the fixed list, entity texts are non-empty,
    have no surrounding whitespace and are exact substrings of the text
    (occurrences >= number of times the string is listed)
  * entities can be resolved to non-overlapping spans in the listed order
    (see resolve_spans), so a scorer can turn them into offsets
  * IBAN entities pass ISO 13616 mod-97 unless their note says
    "invalid checksum" (and those noted must actually fail it)
  * CARD entities have 13-19 digits and pass Luhn unless noted likewise

Prints counts per entity type and language.  Exit status 1 on any error.

Usage (from the repository root):
    python3 eval/pii/validate.py [--markdown] [path/to/messages.jsonl]
"""

import json
import os
import re
import sys
from collections import Counter

TYPES = ("EMAIL", "PHONE", "IBAN", "CARD", "CUSTOMER_NUMBER", "ADDRESS",
         "NAME", "DATE_OF_BIRTH")
LANGUAGES = ("de", "en")
INVALID_NOTE = "invalid checksum"
DEFAULT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            "messages.jsonl")


def iban_ok(s):
    s = re.sub(r"[\s-]", "", s).upper()
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}", s):
        return False
    s = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in s)) % 97 == 1


def luhn_ok(digits):
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def resolve_spans(record):
    """Map entities to (start, end) offsets.

    Entities are listed in order of appearance.  Each one is assigned the
    first occurrence of its text that starts at or after the start of the
    previous entity's span and does not overlap an already assigned span.
    Returns a list of (start, end) or raises ValueError.
    """
    text = record["text"]
    spans = []
    pos = 0
    for ent in record["entities"]:
        needle = ent["text"]
        start = text.find(needle, pos)
        while start != -1 and any(start < e and start + len(needle) > s
                                  for s, e in spans):
            start = text.find(needle, start + 1)
        if start == -1:
            raise ValueError("cannot place %r in listed order" % needle)
        spans.append((start, start + len(needle)))
        pos = start
    return spans


def validate(path):
    errors, warnings, records = [], [], []
    seen = set()
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            where = "line %d" % lineno
            if not line.strip():
                errors.append("%s: empty line" % where)
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                errors.append("%s: invalid JSON: %s" % (where, exc))
                continue
            if not isinstance(rec, dict):
                errors.append("%s: not an object" % where)
                continue
            missing = {"id", "language", "text", "entities"} - set(rec)
            if missing:
                errors.append("%s: missing keys %s" % (where, sorted(missing)))
                continue
            rid, lang, text, ents = (rec["id"], rec["language"], rec["text"],
                                     rec["entities"])
            where = "%s (%s)" % (where, rid)
            if rid in seen:
                errors.append("%s: duplicate id" % where)
            seen.add(rid)
            if lang not in LANGUAGES:
                errors.append("%s: bad language %r" % (where, lang))
            elif not re.fullmatch(r"%s-\d{3}" % lang, str(rid)):
                errors.append("%s: id does not match language" % where)
            if not isinstance(text, str) or not text.strip():
                errors.append("%s: empty text" % where)
                continue
            if not isinstance(ents, list):
                errors.append("%s: entities is not a list" % where)
                continue
            ok = True
            listed = Counter()
            for ent in ents:
                if not isinstance(ent, dict) or set(ent) - {"type", "text", "note"} \
                        or not {"type", "text"} <= set(ent):
                    errors.append("%s: malformed entity %r" % (where, ent))
                    ok = False
                    continue
                etype, etext = ent["type"], ent["text"]
                note = ent.get("note", "")
                if etype not in TYPES:
                    errors.append("%s: unknown type %r" % (where, etype))
                if not etext or etext != etext.strip():
                    errors.append("%s: empty/padded entity %r" % (where, etext))
                listed[etext] += 1
                if etype == "IBAN":
                    valid = iban_ok(etext)
                    if INVALID_NOTE in note:
                        if valid:
                            errors.append("%s: IBAN %r noted invalid but passes"
                                          % (where, etext))
                    elif not valid:
                        errors.append("%s: IBAN %r fails mod-97" % (where, etext))
                if etype == "CARD":
                    digits = re.sub(r"[\s-]", "", etext)
                    if not digits.isdigit() or not 13 <= len(digits) <= 19:
                        errors.append("%s: CARD %r is not 13-19 digits"
                                      % (where, etext))
                    elif INVALID_NOTE in note:
                        if luhn_ok(digits):
                            errors.append("%s: CARD %r noted invalid but passes"
                                          % (where, etext))
                    elif not luhn_ok(digits):
                        errors.append("%s: CARD %r fails Luhn" % (where, etext))
            for etext, n in listed.items():
                found = text.count(etext)
                if found < n:
                    errors.append("%s: %r listed %d times, found %d"
                                  % (where, etext, n, found))
                    ok = False
                elif found > n:
                    warnings.append("%s: %r occurs %d times, listed %d"
                                    % (where, etext, found, n))
            if ok:
                try:
                    resolve_spans(rec)
                except ValueError as exc:
                    errors.append("%s: %s" % (where, exc))
            records.append(rec)
    return records, errors, warnings


def counts(records):
    by_type = Counter()
    msgs = Counter()
    empty = Counter()
    for rec in records:
        lang = rec["language"]
        msgs[lang] += 1
        if not rec["entities"]:
            empty[lang] += 1
        for ent in rec["entities"]:
            by_type[(ent["type"], lang)] += 1
    return by_type, msgs, empty


def print_counts(records, markdown=False):
    by_type, msgs, empty = counts(records)
    rows = [("messages", msgs["de"], msgs["en"]),
            ("messages without entities", empty["de"], empty["en"])]
    rows += [(t, by_type[(t, "de")], by_type[(t, "en")]) for t in TYPES]
    rows.append(("all entities", sum(by_type[(t, "de")] for t in TYPES),
                 sum(by_type[(t, "en")] for t in TYPES)))
    if markdown:
        print("| | de | en | total |")
        print("|---|---:|---:|---:|")
        for name, de, en in rows:
            print("| %s | %d | %d | %d |" % (name, de, en, de + en))
    else:
        print("%-28s %5s %5s %6s" % ("", "de", "en", "total"))
        for name, de, en in rows:
            print("%-28s %5d %5d %6d" % (name, de, en, de + en))
    notes = Counter(ent["note"] for rec in records for ent in rec["entities"]
                    if "note" in ent)
    for note, n in sorted(notes.items()):
        print("%snote %r: %d" % ("\n" if markdown else "", note, n))


def main(argv):
    markdown = "--markdown" in argv
    args = [a for a in argv if a != "--markdown"]
    path = args[0] if args else DEFAULT_PATH
    records, errors, warnings = validate(path)
    for w in warnings:
        print("warning: " + w)
    for e in errors:
        print("ERROR: " + e)
    print_counts(records, markdown)
    if errors:
        print("\n%d error(s)" % len(errors))
        return 1
    print("\nOK: %d messages" % len(records))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
