#!/usr/bin/env python3
"""Print id, category and canonical question of every FAQ (no paraphrases, no answers).

Used by people writing evaluation questions, so that they write them independently of
the training paraphrases.
"""
import sys
from pathlib import Path

import yaml

root = Path(sys.argv[1] if len(sys.argv) > 1 else "knowledge")
for path in sorted((root / "faq").glob("*.yml")):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for f in data.get("faqs") or []:
        print(f"{f['id']}\t{data.get('category')}\t{f['question']}")
