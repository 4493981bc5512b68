"""Tracker events → console items (pure)."""

from __future__ import annotations

from bot.console.transcript import transcript_items, tracker_events


def test_items_for_every_kind_of_event():
    events = [
        {"event": "action", "name": "action_session_start", "timestamp": 1.0},
        {"event": "session_started", "timestamp": 1.0},
        {"event": "user", "text": "ごみ", "timestamp": 1_790_000_000.0,
         "parse_data": {"intent": {"name": "faq"}, "madoguchi": {
             "type": "clarify", "faq_id": None, "confidence": 0.2345, "reason": "",
             "candidates": [{"faq_id": f"f{i}", "question": f"質問{i}", "score": 0.5 - i / 10} for i in range(7)]}}},
        {"event": "bot", "text": "どれですか", "timestamp": 1_790_000_001.0,
         "data": {"custom": {"type": "clarify", "confidence": 0.2345, "candidates": [{"faq_id": "f0", "question": "質問0", "score": 0.5}]},
                  "buttons": [{"title": "質問0", "payload": '/choose_faq{"faq_id": "f0"}'}]}},
        {"event": "slot", "name": "x", "value": 1},
        {"event": "user", "text": '/choose_faq{"faq_id": "f0"}', "parse_data": {"intent": {"name": "choose_faq"}}},
        {"event": "pause"},
        {"event": "bot", "text": "担当の田中です", "data": {"custom": {"type": "staff", "staff_name": "田中"}}},
        {"event": "resume"},
    ]
    items = transcript_items(events)
    assert [(i["index"], i["kind"]) for i in items] == [
        (1, "system"), (2, "user"), (3, "bot"), (5, "user"), (6, "system"), (7, "staff"), (8, "system")]
    user = items[1]
    assert user["time"] == "2026-09-21T14:13:20+00:00"
    assert user["decision"]["confidence"] == 0.234 and len(user["decision"]["candidates"]) == 5
    assert items[2]["buttons"] == ["質問0"] and items[2]["type"] == "clarify"
    assert items[3]["button"] == "質問0" and items[3]["decision"] is None
    assert items[4]["text"].startswith("自動応答を止めました")
    assert items[5]["staff_name"] == "田中"
    assert [i["index"] for i in transcript_items(events, start=6)] == [6, 7, 8]
    # a button pressed after `start` is still named from a bot message before it
    assert transcript_items(events, start=5)[0]["button"] == "質問0"


def test_garbage_is_skipped_not_fatal():
    events = [None, "x", {"event": "user"}, {"event": "bot", "data": "nope", "text": None},
              {"event": "user", "text": "a", "parse_data": {"madoguchi": {"candidates": ["bad", {"score": "high"}]}},
               "timestamp": 1e30}]
    items = transcript_items(events)
    assert [i["kind"] for i in items] == ["user", "bot", "user"]
    assert items[2]["time"] is None and items[2]["decision"]["candidates"] == [{"faq_id": "", "question": "", "score": None}]
    assert tracker_events({"events": "x"}) == [] and tracker_events(None) == [] and tracker_events({"events": [1]}) == [1]
