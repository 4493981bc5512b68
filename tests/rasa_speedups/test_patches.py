import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from bot import rasa_speedups
from tests.rasa_speedups.conftest import assert_is_rasas


VALID = [{"events": [], "responses": [{"text": "はい"}]}, {},
         {"events": [{"event": "slot", "name": "x", "value": 1}], "responses": []}]
INVALID = [{"events": "not a list"}, {"events": [{"event": "slot", "name": 3}]},
           {"events": [{"event": "no_such_event"}]}, {"responses": "x"}]


def _validation(action, response):
    try:
        return action._validate_action_result(response)
    except ValidationError as e:
        return ("error", e.message)


def test_patched_validation_accepts_and_rejects_like_rasa(rasa_original):
    action = RemoteAction("action_x", None)
    assert_is_rasas(RemoteAction._validate_action_result)
    expected = [_validation(action, r) for r in VALID + INVALID]
    rasa_speedups.install()
    assert RemoteAction._validate_action_result.__module__ == "bot.rasa_speedups.patches"
    assert [_validation(action, r) for r in VALID + INVALID] == expected
    assert expected[: len(VALID)] == [True] * len(VALID)
    assert all(e[0] == "error" and "Failed to validate Action server response" in e[1] for e in expected[len(VALID):])


def test_event_types_resolve_as_in_rasa(rasa_original):
    from rasa.shared.core.events import Event, UserUttered
    from rasa.shared.utils.common import all_subclasses

    names = sorted({cls.type_name for cls in all_subclasses(Event)})
    assert len(names) > 20
    assert_is_rasas(Event.resolve_by_type)
    expected = [Event.resolve_by_type(name) for name in names]  # Rasa's own walk
    rasa_speedups.install()
    assert Event.__dict__["resolve_by_type"].__func__.__module__ == "bot.rasa_speedups.patches"
    assert [Event.resolve_by_type(name) for name in names] == expected
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no_such_event", default=UserUttered) is UserUttered
    with pytest.raises(ValueError, match="Unknown event name 'no_such_event'"):
        Event.resolve_by_type("no_such_event")


def test_event_subclass_defined_later_is_found():
    from rasa.shared.core.events import Event, SlotSet

    rasa_speedups.install()
    Event.resolve_by_type("user")  # fills the lookup

    class MadoguchiTestEvent(SlotSet):
        type_name = "madoguchi_test_event"

    assert Event.resolve_by_type("madoguchi_test_event") is MadoguchiTestEvent


def test_events_round_trip_through_the_patched_lookup():
    from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered, deserialise_events

    rasa_speedups.install()
    events = [ActionExecuted("action_session_start"), SessionStarted(), SlotSet("last_faq_id", "gomi-1"),
              UserUttered("粗大ごみ", {"name": "faq", "confidence": 0.9}), BotUttered("はい", {"custom": {"type": "answer"}})]
    assert deserialise_events([e.as_dict() for e in events]) == events


def test_unseen_intent_still_warns_and_domain_emptiness_is_asked_once(monkeypatch):
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.domain import Domain

    rasa_speedups.install()
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
    rasa_speedups.install()
    endpoint = EndpointConfig(str(server.make_url("/webhook")), headers={"X-Token": "h"}, token="t")
    for i in range(3):
        assert await endpoint.request(json={"n": i}, method="post") == {"events": [], "responses": [{"text": "はい"}]}
    assert bodies == [("h", "t", {"n": 0}), ("h", "t", {"n": 1}), ("h", "t", {"n": 2})]
    assert len(set(peers)) == 1, "one kept connection, not one per request"
    bad = EndpointConfig(str(server.make_url("/bad")))
    with pytest.raises(ClientResponseError) as raised:
        await bad.request(json={}, method="post")
    assert raised.value.status == 422
    await rasa_speedups.close_sessions()
    assert all(s.closed for s in endpoint.__dict__["_madoguchi_sessions"].values())
    assert await endpoint.request(json={"n": 3}, method="post")  # a new session after closing
    await rasa_speedups.close_sessions()


def test_uninstall_restores_every_rasa_function():
    from rasa.core.actions.action import RemoteAction
    from rasa.core.processor import MessageProcessor
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
    from rasa.shared.core.events import Event
    from rasa.utils.endpoints import EndpointConfig

    owners = [RemoteAction, MessageProcessor, DaskGraphRunner, CountVectorsFeaturizer, Event, EndpointConfig]
    rasa_speedups.uninstall()
    before = [dict(o.__dict__) for o in owners]
    rasa_speedups.install()
    changed = {(o.__name__, k) for o, b in zip(owners, before) for k, v in o.__dict__.items() if b.get(k) is not v}
    assert changed == {("RemoteAction", "_validate_action_result"), ("DaskGraphRunner", "run"),
                       ("CountVectorsFeaturizer", "_create_features"), ("Event", "resolve_by_type"),
                       ("MessageProcessor", "_check_for_unseen_features"), ("MessageProcessor", "parse_message"),
                       ("EndpointConfig", "request")}
    rasa_speedups.install()  # idempotent: the originals are not overwritten by the speed-ups
    rasa_speedups.uninstall()
    try:
        assert [dict(o.__dict__) for o in owners] == before
        assert not rasa_speedups.installed()
    finally:
        rasa_speedups.install()


def test_another_rasa_version_is_refused_and_nothing_patched(monkeypatch):
    import rasa
    from rasa.engine.runner.dask import DaskGraphRunner

    rasa_speedups.uninstall()
    monkeypatch.setattr(rasa, "__version__", "3.6.22")
    try:
        with pytest.raises(rasa_speedups.RasaVersionError) as raised:
            rasa_speedups.install()
        assert "Rasa 3.6.21" in str(raised.value) and "Rasa 3.6.22 is installed" in str(raised.value)
        assert "requirements.lock" in str(raised.value)  # what to do
        assert not rasa_speedups.installed()
        assert_is_rasas(DaskGraphRunner.run)
    finally:
        monkeypatch.undo()
        rasa_speedups.install()


def test_uninstall_restores_every_change_the_rasa_server_makes():
    """Not only the speed-ups: the pause guard, the action fallback, the tracker-store errors, /health."""
    from rasa.core.actions.action import RemoteAction
    from rasa.core.channels import channel
    from rasa.core.processor import MessageProcessor
    from rasa.core.tracker_store import FailSafeTrackerStore

    from bot import action_fallback, health
    from bot.handoff import pause_guard
    from bot.rasa_server import install_rasa_changes
    from bot.rasa_speedups import tracker_store

    owners = [RemoteAction, MessageProcessor, FailSafeTrackerStore]
    groups = [rasa_speedups.SPEEDUPS, pause_guard.GROUP, action_fallback.GROUP, tracker_store.STORE_ERRORS_GROUP,
              health.GROUP]
    with rasa_speedups.rasa_as_shipped():
        before = [dict(o.__dict__) for o in owners]
        rasa_register = channel.register
        install_rasa_changes()
        changed = {(o.__name__, k) for o, b in zip(owners, before) for k, v in o.__dict__.items() if b.get(k) is not v}
        assert changed == {("RemoteAction", "_validate_action_result"), ("RemoteAction", "run"),
                           ("MessageProcessor", "_check_for_unseen_features"), ("MessageProcessor", "parse_message"),
                           ("MessageProcessor", "_should_handle_message"), ("MessageProcessor", "_has_session_expired"),
                           ("FailSafeTrackerStore", "retrieve"), ("FailSafeTrackerStore", "retrieve_full_tracker"),
                           ("FailSafeTrackerStore", "save")}
        assert channel.register is not rasa_register and channel.register.__module__ == "bot.health"
        assert all(rasa_speedups.applied(g) for g in groups)
        assert rasa_speedups.original(FailSafeTrackerStore, "save") is before[2]["save"]
        install_rasa_changes()  # idempotent: Rasa's originals are not overwritten by ours
        rasa_speedups.uninstall()
        assert [dict(o.__dict__) for o in owners] == before
        assert channel.register is rasa_register
        assert not any(rasa_speedups.applied(g) for g in groups)
        assert_is_rasas(FailSafeTrackerStore.save)


def test_one_attribute_cannot_be_replaced_twice():
    from rasa.core.tracker_store import FailSafeTrackerStore

    with rasa_speedups.rasa_as_shipped():
        rasa_speedups.replace("first", FailSafeTrackerStore, "save", lambda self, tracker: None)
        with pytest.raises(RuntimeError, match="FailSafeTrackerStore.save is already replaced by first"):
            rasa_speedups.replace("second", FailSafeTrackerStore, "save", lambda self, tracker: None)
        with pytest.raises(rasa_speedups.RasaVersionError, match="not defined where"):
            rasa_speedups.replace("third", FailSafeTrackerStore, "no_such_method", None)
    assert_is_rasas(FailSafeTrackerStore.save)
