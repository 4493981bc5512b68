#!/usr/bin/env python3
"""Sanity checks for eval/dev.csv against the FAQ listing (ids and categories only).

Usage: python3 eval/check_dev.py [eval/dev.csv] [knowledge]
Checks: header, every faq_id exists (or is "none"), no duplicate questions (after NFKC
normalisation and whitespace removal), minimum counts; prints per-area counts and any
FAQ without a question.
"""
import collections
import csv
import subprocess
import sys
import unicodedata
from pathlib import Path

here = Path(__file__).resolve().parent
csv_path = Path(sys.argv[1]) if len(sys.argv) > 1 else here / "dev.csv"
kdir = Path(sys.argv[2]) if len(sys.argv) > 2 else here.parent / "knowledge"
listing = subprocess.run([sys.executable, str(here.parent / "scripts" / "list_faqs.py"), str(kdir)],
                         capture_output=True, text=True, check=True).stdout
cat = {}
for line in listing.splitlines():
    fid, c, _q = line.split("\t")
    cat[fid] = c

with open(csv_path, encoding="utf-8-sig", newline="") as fh:
    reader = csv.DictReader(fh)
    assert reader.fieldnames == ["question", "faq_id"], reader.fieldnames
    rows = list(reader)

problems = []
seen = {}
for n, r in enumerate(rows, 2):
    q, fid = r["question"].strip(), r["faq_id"].strip()
    if not q:
        problems.append(f"line {n}: empty question")
    if fid != "none" and fid not in cat:
        problems.append(f"line {n}: unknown faq_id {fid}")
    key = "".join(unicodedata.normalize("NFKC", q).split()).lower()
    if key in seen:
        problems.append(f"line {n}: duplicate of line {seen[key]}: {q}")
    seen[key] = n

ins = [r for r in rows if r["faq_id"] != "none"]
none = [r for r in rows if r["faq_id"] == "none"]
per_area = collections.Counter(cat.get(r["faq_id"], "?") for r in ins)
faqs_per_area = collections.Counter(cat.values())
covered = {r["faq_id"] for r in ins}
print(f"rows {len(rows)}: in-scope {len(ins)}, none {len(none)}; FAQs {len(cat)}, covered {len(covered & set(cat))}")
for area in sorted(faqs_per_area, key=lambda a: -faqs_per_area[a]):
    print(f"  {area:16s} FAQs {faqs_per_area[area]:3d}  questions {per_area[area]:3d}")
missing = sorted(set(cat) - covered)
if missing:
    print("FAQs without a question:", ", ".join(missing))
if len(rows) < 330 or len(ins) < 260 or len(none) < 70:
    problems.append("row counts below the minimum (330 / 260 in-scope / 70 none)")
for area in faqs_per_area:
    if per_area[area] == 0:
        problems.append(f"area without questions: {area}")
for p in problems:
    print("PROBLEM:", p)
sys.exit(1 if problems else 0)
