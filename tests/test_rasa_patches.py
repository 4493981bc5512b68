import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from bot import rasa_patches


def test_patched_validation_accepts_and_rejects_like_rasa():
    rasa_patches.apply()
    action = RemoteAction("action_x", None)
    assert action._validate_action_result({"events": [], "responses": [{"text": "はい"}]})
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result({"events": "not a list"})


def test_event_types_resolve_as_in_rasa():
    from rasa.shared.core.events import Event, UserUttered
    from rasa.shared.utils.common import all_subclasses

    rasa_patches.apply()
    names = {cls.type_name for cls in all_subclasses(Event)}
    assert len(names) > 20
    for name in names:
        expected = next(cls for cls in all_subclasses(Event) if cls.type_name == name)
        assert Event.resolve_by_type(name) is expected
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no_such_event", default=UserUttered) is UserUttered
    with pytest.raises(ValueError, match="Unknown event name 'no_such_event'"):
        Event.resolve_by_type("no_such_event")


def test_event_subclass_defined_later_is_found():
    from rasa.shared.core.events import Event, SlotSet

    rasa_patches.apply()
    Event.resolve_by_type("user")  # fills the lookup

    class MadoguchiTestEvent(SlotSet):
        type_name = "madoguchi_test_event"

    assert Event.resolve_by_type("madoguchi_test_event") is MadoguchiTestEvent


def test_events_round_trip_through_the_patched_lookup():
    from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered, deserialise_events

    rasa_patches.apply()
    events = [ActionExecuted("action_session_start"), SessionStarted(), SlotSet("last_faq_id", "gomi-1"),
              UserUttered("粗大ごみ", {"name": "faq", "confidence": 0.9}), BotUttered("はい", {"custom": {"type": "answer"}})]
    assert deserialise_events([e.as_dict() for e in events]) == events


def test_unseen_intent_still_warns_and_domain_emptiness_is_asked_once(monkeypatch):
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.domain import Domain

    rasa_patches.apply()
    processor = object.__new__(MessageProcessor)
    processor.domain = Domain.from_yaml("version: '3.1'\nintents: [faq]\nentities: [faq_id]\n")
    asked = []
    original = Domain.is_empty
    monkeypatch.setattr(Domain, "is_empty", lambda self: asked.append(1) or original(self))
    known = {"intent": {"name": "faq"}, "entities": [{"entity": "faq_id"}]}
    processor._check_for_unseen_features(known)
    processor._check_for_unseen_features(known)
    assert len(asked) == 1
    with pytest.warns(UserWarning, match="Parsed an intent 'weather'"):
        processor._check_for_unseen_features({"intent": {"name": "weather"}, "entities": []})
    with pytest.warns(UserWarning, match="Parsed an entity 'city'"):
        processor._check_for_unseen_features({"intent": {"name": "faq"}, "entities": [{"entity": "city"}]})
    processor.domain = Domain.empty()  # a new domain (model reload): asked again, and empty means no check
    processor._check_for_unseen_features({"intent": {"name": "weather"}, "entities": []})
    assert len(asked) == 2


async def test_endpoint_requests_reuse_one_connection(aiohttp_server):
    from aiohttp import web
    from rasa.utils.endpoints import ClientResponseError, EndpointConfig

    peers, bodies = [], []

    async def webhook(request):
        peers.append(request.transport.get_extra_info("peername"))
        bodies.append((request.headers.get("X-Token"), request.query.get("token"), await request.json()))
        if request.match_info["what"] == "bad":
            return web.Response(status=422, text="no")
        return web.json_response({"events": [], "responses": [{"text": "はい"}]})

    app = web.Application()
    app.router.add_post("/{what}", webhook)
    server = await aiohttp_server(app)
    rasa_patches.apply()
    endpoint = EndpointConfig(str(server.make_url("/webhook")), headers={"X-Token": "h"}, token="t")
    for i in range(3):
        assert await endpoint.request(json={"n": i}, method="post") == {"events": [], "responses": [{"text": "はい"}]}
    assert bodies == [("h", "t", {"n": 0}), ("h", "t", {"n": 1}), ("h", "t", {"n": 2})]
    assert len(set(peers)) == 1, "one kept connection, not one per request"
    bad = EndpointConfig(str(server.make_url("/bad")))
    with pytest.raises(ClientResponseError) as raised:
        await bad.request(json={}, method="post")
    assert raised.value.status == 422
    await rasa_patches.close_sessions()
    assert all(s.closed for s in endpoint.__dict__["_madoguchi_sessions"].values())
    assert await endpoint.request(json={"n": 3}, method="post")  # a new session after closing
    await rasa_patches.close_sessions()
