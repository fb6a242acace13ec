#!/usr/bin/env python3
"""Schema and consistency check for the kb_fjordkasse evaluation set (stdlib only).

    python3 validate.py            # check everything, exit 1 on any error
    python3 validate.py --words    # also print the word count of every document
    python3 validate.py --numbers  # also print the numbers found in every document

Checks: documents (formats, languages, word counts, date lines, tables, e-mail domain, PDF text
layer against the source text in build_binaries.py) and questions.jsonl (JSON per line, fields per
type, id scheme, doc references, counts, tags, cross-lingual and multi-doc citations, numbers in
key facts occurring in the cited documents).
"""
import html
import json
import os
import re
import sys
import zipfile
import zlib
from collections import Counter
from decimal import Decimal, InvalidOperation

HERE = os.path.dirname(os.path.abspath(__file__))
DOCS = os.path.join(HERE, "docs")
QUESTIONS = os.path.join(HERE, "questions.jsonl")

errors = []
warnings = []


def err(msg):
    errors.append(msg)


def warn(msg):
    warnings.append(msg)


# ---------------------------------------------------------------------------
# text extraction
# ---------------------------------------------------------------------------
def text_html(raw):
    raw = re.sub(r"(?is)<(head|script|style)\b.*?</\1>", " ", raw)
    raw = re.sub(r"(?s)<!--.*?-->", " ", raw)
    raw = re.sub(r"(?i)<br\s*/?>|</(p|li|tr|h[1-6]|td|th|caption|div)>", "\n", raw)
    raw = re.sub(r"<[^>]+>", " ", raw)
    return html.unescape(raw)


def text_docx(path):
    with zipfile.ZipFile(path) as z:
        xml = z.read("word/document.xml").decode("utf-8")
    has_table = "<w:tbl>" in xml or "<w:tbl " in xml
    paras = []
    for p in re.findall(r"(?s)<w:p[ >].*?</w:p>", xml):
        runs = re.findall(r"(?s)<w:t(?: [^>]*)?>(.*?)</w:t>", p)
        paras.append(html.unescape("".join(runs)))
    return "\n".join(paras), has_table


def _pdf_streams(data):
    for m in re.finditer(rb"(?s)<<(.*?)>>\s*stream\r?\n", data):
        head = m.group(1)
        start = m.end()
        end = data.find(b"endstream", start)
        if end < 0:
            continue
        body = data[start:end].rstrip(b"\r\n")
        filters = re.findall(rb"/(ASCII85Decode|FlateDecode|ASCIIHexDecode)", head)
        try:
            for f in filters:
                if f == b"ASCII85Decode":
                    import base64
                    b = body.strip()
                    if b.startswith(b"<~"):
                        b = b[2:]
                    if not b.endswith(b"~>"):
                        b = b + b"~>"
                    body = base64.a85decode(b"<~" + b, adobe=True)
                elif f == b"FlateDecode":
                    body = zlib.decompress(body)
                elif f == b"ASCIIHexDecode":
                    body = bytes.fromhex(re.sub(rb"\s|>", b"", body).decode())
        except Exception:
            continue
        yield body


def _pdf_string(s, i):
    """Parse a PDF literal string starting at s[i] == '('; return (bytes, next index)."""
    out = bytearray()
    depth = 1
    i += 1
    while i < len(s) and depth:
        c = s[i]
        if c == 0x5C:  # backslash
            i += 1
            c = s[i]
            esc = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("f"): 12}
            if c in esc:
                out.append(esc[c])
            elif 0x30 <= c <= 0x37:
                j = i
                while j < len(s) and j < i + 3 and 0x30 <= s[j] <= 0x37:
                    j += 1
                out.append(int(s[i:j], 8) & 0xFF)
                i = j - 1
            elif c in (10, 13):
                pass
            else:
                out.append(c)
        elif c == 0x28:
            depth += 1
            out.append(c)
        elif c == 0x29:
            depth -= 1
            if depth:
                out.append(c)
        else:
            out.append(c)
        i += 1
    return bytes(out), i


def text_pdf(path):
    data = open(path, "rb").read()
    lines = []
    for body in _pdf_streams(data):
        if b"BT" not in body:
            continue
        i = 0
        current = []
        while i < len(body):
            c = body[i]
            if c == 0x28:
                s, i = _pdf_string(body, i)
                current.append(s.decode("cp1252", errors="replace"))
                continue
            if body.startswith(b"Tj", i) or body.startswith(b"TJ", i) or body.startswith(b"'", i):
                if current:
                    lines.append("".join(current))
                    current = []
            i += 1
        if current:
            lines.append("".join(current))
    return "\n".join(lines)


def doc_text(path):
    """Return (text, has_table)."""
    ext = os.path.splitext(path)[1].lower()
    if ext in (".md", ".txt"):
        t = open(path, encoding="utf-8").read()
        return t, bool(re.search(r"(?m)^\s*\|.*\|\s*$", t))
    if ext == ".html":
        raw = open(path, encoding="utf-8").read()
        return text_html(raw), bool(re.search(r"(?i)<table\b", raw))
    if ext == ".docx":
        return text_docx(path)
    if ext == ".pdf":
        return text_pdf(path), None
    raise ValueError("unsupported format: " + path)


# ---------------------------------------------------------------------------
# numbers
# ---------------------------------------------------------------------------
NUM_RE = re.compile(r"\d+(?:[.,]\d+)*")


def canon(token):
    """Normalise a number token: decimal comma/point, thousands separators, leading/trailing zeros."""
    t = token
    if "." in t and "," in t:
        dec = "." if t.rfind(".") > t.rfind(",") else ","
        thou = "," if dec == "." else "."
        t = t.replace(thou, "").replace(dec, ".")
    elif "." in t or "," in t:
        sep = "." if "." in t else ","
        parts = t.split(sep)
        if len(parts) > 2 or (len(parts[-1]) == 3 and parts[0] != "0"):
            t = "".join(parts)  # thousands separator(s)
        else:
            t = parts[0] + "." + parts[1]
    try:
        d = Decimal(t)
    except InvalidOperation:
        return token
    s = format(d.normalize(), "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s or "0"


def numbers_in(text):
    return {canon(m.group(0)) for m in NUM_RE.finditer(text)}


# ---------------------------------------------------------------------------
# documents
# ---------------------------------------------------------------------------
EXPECTED_FORMATS = {".md": 7, ".html": 5, ".txt": 4, ".docx": 2, ".pdf": 2}
EXPECTED_LANGS = {"de": 10, "en": 10}
MIN_WORDS, MAX_WORDS = 300, 800
DE_MONTHS = "Mai|Juni|Juli|August|September"
EN_MONTHS = "May|June|July|August|September"
DATE_RE = {
    "de": re.compile(r"Stand:\s*\d{1,2}\.\s*(%s)\s+2025" % DE_MONTHS),
    "en": re.compile(r"Last updated:\s*\d{1,2}\s+(%s)\s+2025" % EN_MONTHS),
}


def load_build_sources():
    try:
        sys.path.insert(0, HERE)
        import build_binaries  # noqa: E402  (stdlib-only at import time)
        return {name: (build_binaries.plain_text(blocks), any(k == "table" for k, _ in blocks))
                for name, blocks in build_binaries.DOCUMENTS.items()}
    except Exception as e:  # pragma: no cover
        warn("could not import build_binaries.py: %s" % e)
        return {}


def check_docs(show_words=False, show_numbers=False):
    docs = {}
    if not os.path.isdir(DOCS):
        err("docs/ missing")
        return docs
    sources = load_build_sources()
    fmt = Counter()
    langs = Counter()
    html_tables = 0
    for name in sorted(os.listdir(DOCS)):
        path = os.path.join(DOCS, name)
        if not os.path.isfile(path):
            continue
        m = re.match(r"^(de|en)_[a-z0-9_]+\.(md|html|txt|docx|pdf)$", name)
        if not m:
            err("doc %s: name must be de_/en_ + [a-z0-9_] + .md/.html/.txt/.docx/.pdf" % name)
            continue
        lang = m.group(1)
        ext = "." + m.group(2)
        fmt[ext] += 1
        langs[lang] += 1
        try:
            text, has_table = doc_text(path)
        except Exception as e:
            err("doc %s: cannot extract text: %s" % (name, e))
            continue
        if ext == ".pdf":
            src = sources.get(name)
            if src is None:
                err("doc %s: no source text in build_binaries.py" % name)
            else:
                src_words = Counter(w for w in src[0].split() if re.search(r"\w", w))
                pdf_words = Counter(w for w in text.split() if re.search(r"\w", w))
                missing = sum((src_words - pdf_words).values())
                if missing > 0.02 * sum(src_words.values()):
                    err("doc %s: PDF text layer differs from build_binaries.py source (%d words missing)"
                        % (name, missing))
                has_table = src[1]
        if ext == ".docx":
            src = sources.get(name)
            if src is None:
                err("doc %s: no source text in build_binaries.py" % name)
        if ext == ".html" and has_table:
            html_tables += 1
        if ext == ".docx" and not has_table:
            err("doc %s: .docx must contain a table" % name)
        words = len(text.split())
        if show_words:
            print("  %-36s %-3s %-5s %4d words%s" % (name, lang, ext[1:], words, "  (table)" if has_table else ""))
        if not MIN_WORDS <= words <= MAX_WORDS:
            err("doc %s: %d words, expected %d-%d" % (name, words, MIN_WORDS, MAX_WORDS))
        if not DATE_RE[lang].search(text):
            err("doc %s: no date line ('Stand: <d>. <Monat> 2025' / 'Last updated: <d> <Month> 2025')" % name)
        for mail in re.findall(r"[\w.+-]+@[\w.-]+\w", text):
            if not mail.endswith("@fjordkasse.example"):
                err("doc %s: e-mail address outside fjordkasse.example: %s" % (name, mail))
        nums = numbers_in(text)
        if show_numbers:
            print("  %s: %s" % (name, " ".join(sorted(nums, key=lambda s: (len(s), s)))))
        docs[name] = {"lang": lang, "ext": ext, "text": text, "numbers": nums, "table": has_table}
    for ext, n in EXPECTED_FORMATS.items():
        if fmt[ext] != n:
            err("docs: %d %s files, expected %d" % (fmt[ext], ext, n))
    for lang, n in EXPECTED_LANGS.items():
        if langs[lang] != n:
            err("docs: %d %s documents, expected %d" % (langs[lang], lang, n))
    if html_tables < 3:
        err("docs: only %d HTML documents with a <table>, expected at least 3" % html_tables)
    if not any(d["table"] for d in docs.values() if d["ext"] == ".pdf"):
        err("docs: no PDF with a ReportLab Table")
    return docs


# ---------------------------------------------------------------------------
# questions
# ---------------------------------------------------------------------------
COMMON = ["id", "lang", "type", "question", "answer", "doc_ids", "key_facts", "tags", "split"]
FIELDS = {
    "answerable": COMMON + ["check_numbers"],
    "unanswerable": COMMON + ["near_docs", "expected_behavior"],
    "handoff": COMMON + ["reason", "expected_behavior"],
    "adversarial": COMMON + ["expected", "expected_behavior"],
}
ID_PREFIX = {("answerable", "de"): "a", ("answerable", "en"): "e", "unanswerable": "u",
             "handoff": "h", "adversarial": "x"}
TAGS = {"multi_doc", "cross_lingual", "near_duplicate", "table_only", "list_only", "typos",
        "long_context", "casual", "formal", "fragment", "confusable_product", "near_miss",
        "off_topic", "competitor", "legal_advice"}
ANSWERABLE_ONLY_TAGS = {"multi_doc", "cross_lingual", "near_duplicate", "table_only", "list_only"}
UNANSWERABLE_TAGS = {"confusable_product", "near_miss", "off_topic", "competitor", "legal_advice"}
REASONS = {"frustration", "explicit_request", "account_specific", "complaint"}
EXPECTED = {"refuse", "correct_premise"}
NEAR_DUP_DOCS = {"de_zahn_basis.md", "de_zahn_plus.md"}

COUNTS = {"answerable": (56, 28, 28), "unanswerable": (20, 10, 10), "handoff": (14, None, None),
          "adversarial": (10, None, None)}
MIN_TAGS = {"cross_lingual": 16, "near_duplicate": 6, "table_only": 6, "list_only": 5, "multi_doc": 6}
MIN_UNANSWERABLE_TAGS = {"confusable_product": 2, "near_miss": 4, "off_topic": 2, "competitor": 1,
                         "legal_advice": 1}


def check_questions(docs):
    if not os.path.exists(QUESTIONS):
        err("questions.jsonl missing")
        return
    items = []
    with open(QUESTIONS, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                err("line %d: empty line" % n)
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                err("line %d: invalid JSON: %s" % (n, e))
                continue
            if not isinstance(obj, dict):
                err("line %d: not an object" % n)
                continue
            obj["_line"] = n
            items.append(obj)

    ids = Counter(o.get("id") for o in items)
    for i, c in ids.items():
        if c > 1:
            err("id %s used %d times" % (i, c))

    by_prefix = {}
    for o in items:
        qid = o.get("id", "?")
        where = "%s (line %d)" % (qid, o["_line"])
        t = o.get("type")
        lang = o.get("lang")
        if t not in FIELDS:
            err("%s: unknown type %r" % (where, t))
            continue
        if lang not in ("de", "en"):
            err("%s: lang must be de or en" % where)
            continue
        expected_fields = set(FIELDS[t])
        present = set(k for k in o if k != "_line")
        if present != expected_fields:
            err("%s: fields %s missing, %s unexpected" % (where, sorted(expected_fields - present),
                                                          sorted(present - expected_fields)))
        prefix = ID_PREFIX.get((t, lang)) or ID_PREFIX.get(t)
        if not re.fullmatch(re.escape(prefix) + r"\d{2}", str(qid)):
            err("%s: id must be %s + two digits for type %s/%s" % (where, prefix, t, lang))
        else:
            by_prefix.setdefault(prefix, []).append(int(qid[1:]))
        if not isinstance(o.get("question"), str) or len(o.get("question", "").strip()) < 5:
            err("%s: question missing or too short" % where)
        tags = o.get("tags", [])
        if not isinstance(tags, list) or any(x not in TAGS for x in tags):
            err("%s: unknown tags %s" % (where, [x for x in tags if x not in TAGS]))
            tags = [x for x in tags if x in TAGS] if isinstance(tags, list) else []
        if len(set(tags)) != len(tags):
            err("%s: duplicate tags" % where)
        for field in ("doc_ids", "key_facts"):
            if not isinstance(o.get(field), list):
                err("%s: %s must be a list" % (where, field))
                o[field] = []
        for d in o.get("doc_ids", []) + (o.get("near_docs") or []):
            if d not in docs:
                err("%s: unknown document %s" % (where, d))
        if len(set(o["doc_ids"])) != len(o["doc_ids"]):
            err("%s: duplicate doc_ids" % where)

        needs_facts = t == "answerable" or (t == "adversarial" and o.get("expected") == "correct_premise")
        if needs_facts:
            if not isinstance(o.get("answer"), str) or not o["answer"].strip():
                err("%s: answer must be a non-empty string" % where)
            if not o["doc_ids"]:
                err("%s: doc_ids must not be empty" % where)
            if not 1 <= len(o["key_facts"]) <= 3:
                err("%s: 1-3 key_facts expected, got %d" % (where, len(o["key_facts"])))
            check_numbers_item(o, where, docs)
        else:
            if o.get("answer") is not None:
                err("%s: answer must be null for %s" % (where, t if t != "adversarial" else "refuse"))
            if o["key_facts"]:
                err("%s: key_facts must be empty" % where)

        if t != "answerable" and set(tags) & ANSWERABLE_ONLY_TAGS:
            err("%s: tags %s only allowed on answerable items" % (where, sorted(set(tags) & ANSWERABLE_ONLY_TAGS)))
        if t != "unanswerable" and set(tags) & UNANSWERABLE_TAGS:
            err("%s: tags %s only allowed on unanswerable items" % (where, sorted(set(tags) & UNANSWERABLE_TAGS)))

        if t == "answerable":
            langs_cited = {docs[d]["lang"] for d in o["doc_ids"] if d in docs}
            other = "en" if lang == "de" else "de"
            if "cross_lingual" in tags and other not in langs_cited:
                err("%s: cross_lingual but cites no %s document" % (where, other))
            if "cross_lingual" not in tags and other in langs_cited:
                err("%s: cites a %s document but is not tagged cross_lingual" % (where, other))
            if "multi_doc" in tags and len(o["doc_ids"]) < 2:
                err("%s: multi_doc needs at least 2 doc_ids" % where)
            if "multi_doc" not in tags and len(o["doc_ids"]) > 1:
                warn("%s: several doc_ids but not tagged multi_doc" % where)
            if "near_duplicate" in tags and not NEAR_DUP_DOCS & set(o["doc_ids"]):
                err("%s: near_duplicate must cite one of %s" % (where, sorted(NEAR_DUP_DOCS)))
            if "table_only" in tags and not any(docs.get(d, {}).get("table") for d in o["doc_ids"]):
                err("%s: table_only but no cited document has a table" % where)
        if t == "unanswerable":
            if o["doc_ids"]:
                err("%s: doc_ids must be [] for unanswerable" % where)
            if not isinstance(o.get("near_docs"), list):
                err("%s: near_docs must be a list" % where)
            elif not o["near_docs"] and "off_topic" not in tags:
                err("%s: near_docs empty but not off_topic" % where)
            if not set(tags) & UNANSWERABLE_TAGS:
                err("%s: unanswerable item needs one of %s" % (where, sorted(UNANSWERABLE_TAGS)))
        if t == "handoff" and o.get("reason") not in REASONS:
            err("%s: reason must be one of %s" % (where, sorted(REASONS)))
        if t == "adversarial" and o.get("expected") not in EXPECTED:
            err("%s: expected must be one of %s" % (where, sorted(EXPECTED)))
        if t != "answerable":
            eb = o.get("expected_behavior")
            if not isinstance(eb, str) or len(eb.strip()) < 20:
                err("%s: expected_behavior missing or too short" % where)

    for prefix, nums in by_prefix.items():
        nums = sorted(nums)
        if nums != list(range(1, len(nums) + 1)):
            err("ids with prefix %s are not numbered 01..%02d without gaps" % (prefix, len(nums)))

    # counts
    for t, (total, de, en) in COUNTS.items():
        sel = [o for o in items if o.get("type") == t]
        if len(sel) != total:
            err("count: %d %s items, expected %d" % (len(sel), t, total))
        if de is not None:
            for lang, n in (("de", de), ("en", en)):
                k = sum(1 for o in sel if o.get("lang") == lang)
                if k != n:
                    err("count: %d %s %s items, expected %d" % (k, lang, t, n))
        elif t in ("handoff", "adversarial"):
            for lang in ("de", "en"):
                if not any(o.get("lang") == lang for o in sel):
                    err("count: no %s %s item" % (lang, t))
    ans = [o for o in items if o.get("type") == "answerable"]
    tag_counts = Counter(x for o in ans for x in o.get("tags", []))
    for tag, n in MIN_TAGS.items():
        if tag_counts[tag] < n:
            err("count: %d answerable items tagged %s, expected at least %d" % (tag_counts[tag], tag, n))
    un = [o for o in items if o.get("type") == "unanswerable"]
    un_tags = Counter(x for o in un for x in o.get("tags", []))
    for tag, n in MIN_UNANSWERABLE_TAGS.items():
        if un_tags[tag] < n:
            err("count: %d unanswerable items tagged %s, expected at least %d" % (un_tags[tag], tag, n))
    ho = [o for o in items if o.get("type") == "handoff"]
    reasons = Counter(o.get("reason") for o in ho)
    for r in REASONS:
        if reasons[r] < 3:
            err("count: %d handoff items with reason %s, expected at least 3" % (reasons[r], r))
    adv = [o for o in items if o.get("type") == "adversarial"]
    exp = Counter(o.get("expected") for o in adv)
    if exp["refuse"] != 4 or exp["correct_premise"] != 6:
        err("count: adversarial refuse=%d correct_premise=%d, expected 4 and 6"
            % (exp["refuse"], exp["correct_premise"]))
    for lang in ("de", "en"):
        if not any(o.get("expected") == "refuse" and o.get("lang") == lang for o in adv):
            err("count: no %s refuse item" % lang)

    return items, tag_counts


def check_numbers_item(o, where, docs):
    cited = set()
    for d in o["doc_ids"]:
        if d in docs:
            cited |= docs[d]["numbers"]
    fact_nums = set()
    for fact in o["key_facts"]:
        if not isinstance(fact, str) or not fact.strip():
            err("%s: key_facts must be non-empty strings" % where)
            continue
        for m in NUM_RE.finditer(fact):
            c = canon(m.group(0))
            fact_nums.add(c)
            if c not in cited:
                err("%s: number %s (%r) in key fact %r not found in cited documents %s"
                    % (where, m.group(0), c, fact, o["doc_ids"]))
    if o.get("type") == "answerable":
        cn = o.get("check_numbers")
        if not isinstance(cn, list) or any(not isinstance(x, str) for x in cn):
            err("%s: check_numbers must be a list of strings" % where)
            return
        for x in cn:
            if not re.fullmatch(r"\d+(\.\d+)?", x):
                err("%s: check_numbers entry %r must be normalised (digits, optional decimal point)" % (where, x))
            if canon(x) not in cited:
                err("%s: check_numbers entry %r not found in cited documents" % (where, x))
        if {canon(x) for x in cn} != fact_nums:
            err("%s: check_numbers %s do not match the numbers in key_facts %s"
                % (where, sorted(cn), sorted(fact_nums)))


def main():
    show_words = "--words" in sys.argv
    show_numbers = "--numbers" in sys.argv
    docs = check_docs(show_words, show_numbers)
    result = check_questions(docs)
    if result:
        items, tag_counts = result
        by = Counter((o.get("type"), o.get("lang")) for o in items)
        print("items: %d  " % len(items) + "  ".join("%s/%s=%d" % (t, l, n) for (t, l), n in sorted(by.items())))
        print("answerable tags: " + ", ".join("%s=%d" % kv for kv in sorted(tag_counts.items())))
    for w in warnings:
        print("WARNING:", w)
    for e in errors:
        print("ERROR:", e)
    if errors:
        print("FAILED: %d errors, %d warnings" % (len(errors), len(warnings)))
        return 1
    print("OK: %d documents, %d warnings" % (len(docs), len(warnings)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
