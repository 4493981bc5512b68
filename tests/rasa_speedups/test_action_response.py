"""The quick check of action responses never accepts what Rasa's schema rejects."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import (
    ActionExecuted, ActiveLoop, BotUttered, FollowupAction, ReminderScheduled, Restarted, SessionStarted,
    SlotSet, UserUttered,
)

from bot.rasa_speedups.action_response import QuickResponseCheck

SCHEMA = RemoteAction.action_response_format_spec()
FULL = validator_for(SCHEMA)(SCHEMA)
QUICK = QuickResponseCheck(SCHEMA, validator_for(SCHEMA))

REAL_EVENTS = [e.as_dict() for e in [
    SlotSet("last_faq_id", "gomi-001"), SlotSet("last_department", None), FollowupAction("action_listen"),
    ActionExecuted("action_answer_faq"), BotUttered("はい", {"custom": {"type": "answer"}}),
    UserUttered("住民票", {"name": "faq", "confidence": 0.9}), ActiveLoop(None), Restarted(), SessionStarted(),
    ReminderScheduled("intent", trigger_date_time=__import__("datetime").datetime(2026, 1, 1)),
]]


def test_real_responses_are_recognised_without_the_full_schema():
    assert QUICK._ready
    response = {"events": REAL_EVENTS, "responses": [{"text": "はい", "custom": {"type": "answer", "faq_id": "x"}}]}
    assert FULL.is_valid(response)
    assert QUICK.is_valid(response) is True
    assert QUICK.is_valid({"events": [], "responses": []}) is True
    assert QUICK.is_valid({}) is True


@pytest.mark.parametrize("response", [
    {"events": "not a list"},
    {"events": [{"event": "slot", "name": 3}]},  # name must be a string
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"timestamp": 1.0}]},  # no event type
    {"events": [{"event": ["slot"]}]},  # an unhashable type name
    {"events": [3]},
    {"events": [], "responses": "text"},
    ["not", "an", "object"],
])
def test_invalid_responses_are_left_to_the_full_schema(response):
    assert not FULL.is_valid(response)
    assert QUICK.is_valid(response) is None


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                    max_leaves=8)
EVENT_TYPES = st.sampled_from(["user", "bot", "slot", "action", "followup", "active_loop", "reminder", "session_started",
                               "restart", "entities", "rewind", "unknown"]) | st.text(max_size=6) | JSON
FIELDS = st.sampled_from(["name", "value", "text", "timestamp", "metadata", "policy", "confidence", "entities",
                          "parse_data", "data", "intent", "date_time", "kill_on_user_msg", "input_channel", "x"])


@st.composite
def events(draw):
    """Real events, mutated: a field changed, added or removed, or the type replaced."""
    event = dict(draw(st.sampled_from(REAL_EVENTS)))
    for _ in range(draw(st.integers(0, 3))):
        action = draw(st.sampled_from(["set", "drop", "type"]))
        if action == "set":
            event[draw(FIELDS)] = draw(JSON)
        elif action == "drop" and event:
            event.pop(draw(st.sampled_from(sorted(event))))
        else:
            event["event"] = draw(EVENT_TYPES)
    return event


@settings(max_examples=600, deadline=None)
@given(st.lists(events(), max_size=4), st.one_of(st.just([]), st.lists(JSON, max_size=2)))
def test_quick_check_agrees_with_the_schema(event_list, responses):
    response = {"events": event_list, "responses": responses}
    quick, full = QUICK.is_valid(response), FULL.is_valid(response)
    assert quick in (True, None)
    if quick:
        assert full, response
    if full:
        assert quick is True, response  # a valid response never needs the slow path


def test_schema_of_another_shape_is_left_to_the_full_schema():
    other = {"type": "object", "properties": {"events": {"type": "array", "items": {
        "type": "object", "required": ["event"], "oneOf": [{"properties": {"event": {"enum": ["a", "b"]}}}]}}}}
    check = QuickResponseCheck(other, validator_for(other))
    assert not check._ready
    assert check.is_valid({"events": [{"event": "a"}]}) is None
