"""Personal data sent through the REST channel of the real stack never reaches the disk.

Sends messages full of personal data, then searches every file the system wrote (the
stack's var/ directory: tracker store, review log, hand-off store, WAL files, logs; and the
models directory) for the raw values, as bytes and in the escaped forms JSON uses.
"""

from __future__ import annotations

import json
import sqlite3
import time
import urllib.request
import uuid

import pytest

pytestmark = pytest.mark.slow

# Distinctive values (no false matches in binary files), and the pieces of them searched for.
MESSAGES = [
    "私の電話番号は090-2718-2818です。住民票の取り方は？",
    "携帯は０８０－９８７６－５４３２、メールは hanako.madoguchi@example.org です",
    "マイナンバーは3141 5926 5358です。マイナンバーカードをなくしました",
    "〒105-0011 東京都港区芝公園4丁目2番8号に住んでいます。粗大ごみを出したい",
    "カード4539-1488-0343-6467で払えますか",
    "生年月日は昭和58年7月16日です。国保に入りたい",
]
NEEDLES = [
    "2718-2818", "27182818", "９８７６", "98765432", "hanako.madoguchi", "example.org", "5926 5358", "59265358",
    "105-0011", "1050011", "芝公園4丁目", "1488-0343", "14880343", "昭和58年7月16日",
]


def _forms(needle: str) -> set[bytes]:
    """The needle as UTF-8, as JSON with \\u escapes, and as UTF-16 (some stores use it)."""
    escaped = json.dumps(needle)[1:-1]
    return {needle.encode("utf-8"), escaped.encode("ascii"), escaped.lower().encode("ascii"),
            needle.encode("utf-16-le")}


def _post(stack, sender: str, text: str) -> list[dict]:
    req = urllib.request.Request(f"{stack.rasa_url}/webhooks/rest/webhook",
                                 data=json.dumps({"sender": sender, "message": text}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read().decode())


def test_personal_data_is_masked_before_anything_is_stored(live_stack, fixture_settings):
    sender = f"pii-{uuid.uuid4().hex[:8]}"
    replies = [_post(live_stack, sender, text) for text in MESSAGES]
    assert all(r and r[0].get("custom", {}).get("type") for r in replies)
    # The FAQ search still works on the masked text: 住民票 is what it finds first.
    assert replies[0][0]["custom"]["candidates"][0]["faq_id"] == "juminhyo-get"
    _post(live_stack, sender, "/feedback_negative")
    time.sleep(0.5)

    # What was stored is the masked text (the action server wrote the review log).
    db = sqlite3.connect(fixture_settings.database_path)
    texts = [row[0] for row in db.execute("SELECT text FROM review_questions WHERE conversation_id = ?", (sender,))]
    db.close()
    assert len(texts) == len(MESSAGES) + 1
    assert "私の電話番号は［電話番号］です。住民票の取り方は？" in texts
    assert any("［マイナンバー］" in t for t in texts) and any("［住所］に住んでいます" in t for t in texts)
    assert any("［メールアドレス］" in t and "［電話番号］" in t for t in texts)
    assert any("［カード番号］" in t for t in texts) and any("生年月日は［生年月日］です" in t for t in texts)

    files = [p for root in (fixture_settings.var_dir, fixture_settings.models_dir) for p in root.rglob("*") if p.is_file()]
    assert any(p.name == "tracker.db" for p in files) and any(p.name.startswith("madoguchi.db") for p in files)
    found = []
    for path in files:
        data = path.read_bytes()
        for needle in NEEDLES:
            if any(form in data for form in _forms(needle)):
                found.append((str(path), needle))
    assert found == []
