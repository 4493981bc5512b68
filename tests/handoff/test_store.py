"""HandoffStore on both backends (a real SQLite file, a real PostgreSQL): queue, claim race,
tickets, audit, restart."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from bot.db import applied_migrations
from bot.handoff.store import MAX_NOTIFY_ATTEMPTS, HandoffError, HandoffStore, NotFound


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.timezone.utc)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def path(database_target):
    """The SQLite file, or the PostgreSQL URL (tests/conftest.py: every test runs on both)."""
    return database_target


@pytest.fixture
def store(path, clock):
    return HandoffStore.open(path, clock=clock)


def test_migrations_recorded_once(store, path):
    assert "handoff-0001-handoffs-tickets-audit" in applied_migrations(store.db)
    again = HandoffStore.open(path)
    assert {"handoffs", "tickets", "audit_log"} <= set(again.db.table_names())


def test_request_creates_waiting_handoff_with_utc_timestamps(store):
    h = store.request("conv-1", "rest", "shimin", "requested", "住民票の取り方")
    assert (h.conversation_id, h.channel, h.department, h.status, h.reason, h.question) == (
        "conv-1", "rest", "shimin", "waiting", "requested", "住民票の取り方")
    assert h.created_at == "2026-12-01T01:00:00.000+00:00"
    assert h.claimed_at is h.claimed_by is h.closed_at is h.resolution is None
    assert store.open_for("conv-1") == h


def test_request_is_idempotent_while_open(store):
    first = store.request("conv-1", "rest", "shimin", "requested", "質問A")
    second = store.request("conv-1", "web", "gomi", "urgent", "質問B")
    assert second == first
    assert len(store.list_open()) == 1
    store.claim(first.id, "tanaka")
    assert store.request("conv-1", "rest", None, "requested", "") == store.get(first.id)
    store.close(first.id, "tanaka", "電話で案内した")
    third = store.request("conv-1", "rest", None, "requested", "また質問")
    assert third.id != first.id and third.status == "waiting"


def test_request_rejects_unknown_reason_and_empty_conversation(store):
    with pytest.raises(HandoffError, match="unknown hand-off reason 'bored'"):
        store.request("c", "rest", None, "bored", "")
    with pytest.raises(HandoffError, match="conversation id"):
        store.request("", "rest", None, "requested", "")


def test_concurrent_requests_from_separate_connections_create_one(path):
    stores = [HandoffStore.open(path) for _ in range(6)]
    results: list = []
    barrier = threading.Barrier(len(stores))

    def go(s):
        barrier.wait()
        results.append(s.request("same-conv", "rest", None, "requested", "q"))

    threads = [threading.Thread(target=go, args=(s,)) for s in stores]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert len({h.id for h in results}) == 1
    assert len(stores[0].list_open()) == 1


def test_queue_position_counts_waiting_ahead_in_same_department(store, clock):
    a = store.request("a", "rest", "shimin", "requested", "")
    clock.advance(1)
    b = store.request("b", "rest", "gomi", "requested", "")
    clock.advance(1)
    c = store.request("c", "rest", "shimin", "requested", "")
    clock.advance(1)
    d = store.request("d", "rest", "shimin", "requested", "")
    e = store.request("e", "rest", None, "requested", "")
    f = store.request("f", "rest", None, "requested", "")
    assert [store.queue_position(h.id) for h in (a, b, c, d, e, f)] == [0, 0, 1, 2, 0, 1]
    store.claim(a.id, "tanaka")  # claimed ones are no longer ahead
    assert [store.queue_position(h.id) for h in (a, c, d)] == [0, 0, 1]
    store.cancel("c")
    assert store.queue_position(d.id) == 0


def test_claim_once_then_others_get_false(store):
    h = store.request("c1", "rest", "shimin", "requested", "")
    assert store.claim(h.id, "tanaka") is True
    assert store.claim(h.id, "tanaka") is True  # the same person again: still theirs
    assert store.claim(h.id, "suzuki") is False
    got = store.get(h.id)
    assert (got.status, got.claimed_by, got.claimed_at) == ("claimed", "tanaka", "2026-12-01T01:00:00.000+00:00")
    with pytest.raises(NotFound):
        store.claim(999, "tanaka")


@pytest.mark.parametrize("shared", [True, False], ids=["one-connection", "connection-per-thread"])
def test_claim_race_with_threads_has_exactly_one_winner(path, shared):
    base = HandoffStore.open(path)
    handoffs = [base.request(f"conv-{i}", "rest", None, "requested", "") for i in range(10)]
    names = [f"staff{i}" for i in range(8)]
    stores = {n: (base if shared else HandoffStore.open(path)) for n in names}
    wins: dict[int, list[str]] = {h.id: [] for h in handoffs}
    lock = threading.Lock()
    barrier = threading.Barrier(len(names))

    def go(name):
        barrier.wait()
        for h in handoffs:
            if stores[name].claim(h.id, name):
                with lock:
                    wins[h.id].append(name)

    threads = [threading.Thread(target=go, args=(n,)) for n in names]
    [t.start() for t in threads]
    [t.join() for t in threads]
    for h in handoffs:
        assert len(wins[h.id]) == 1, wins
        assert base.get(h.id).claimed_by == wins[h.id][0]
    claims = [r for r in base.audit_log() if r["action"] == "handoff.claim"]
    assert len(claims) == len(handoffs)


def test_cancel_returns_cancelled_handoff_or_none(store):
    assert store.cancel("nobody") is None
    h = store.request("c1", "rest", None, "requested", "")
    cancelled = store.cancel("c1")
    assert cancelled.id == h.id and cancelled.status == "cancelled" and cancelled.closed_at
    assert store.open_for("c1") is None
    assert store.claim(h.id, "tanaka") is False


def test_hand_back_and_close(store, clock):
    h = store.request("c1", "rest", None, "cannot_answer", "")
    with pytest.raises(HandoffError, match="is waiting"):
        store.hand_back(h.id, "tanaka")
    store.claim(h.id, "tanaka")
    clock.advance(60)
    store.hand_back(h.id, "tanaka", "一般的な質問なのでアシスタントへ")
    got = store.get(h.id)
    assert (got.status, got.resolution, got.closed_at) == ("returned", "一般的な質問なのでアシスタントへ", "2026-12-01T01:01:00.000+00:00")
    with pytest.raises(HandoffError):
        store.close(h.id, "tanaka", "x")
    h2 = store.request("c2", "rest", None, "urgent", "")
    store.claim(h2.id, "suzuki")
    with pytest.raises(HandoffError, match="resolution note"):
        store.close(h2.id, "suzuki", "  ")
    store.close(h2.id, "suzuki", "相談窓口を案内した")
    assert store.get(h2.id).status == "closed"
    details = {r["action"]: r["detail"] for r in store.audit_log()}
    assert (details["handoff.hand_back"], details["handoff.close"]) == ("16 characters", "9 characters")
    assert store.list_open() == []


def test_release_puts_claim_back_in_queue(store):
    h = store.request("c1", "rest", None, "requested", "")
    store.claim(h.id, "tanaka")
    store.release(h.id, "tanaka", "rasa unreachable")
    got = store.get(h.id)
    assert (got.status, got.claimed_by) == ("waiting", None)
    assert store.claim(h.id, "suzuki") is True


def test_list_open_by_waiting_time_and_department(store, clock):
    late = store.request("late", "rest", "gomi", "requested", "")
    clock.advance(-300)  # created earlier, so it waited longer
    early = store.request("early", "rest", "shimin", "requested", "")
    assert [h.id for h in store.list_open()] == [early.id, late.id]
    assert [h.id for h in store.list_open("gomi")] == [late.id]


def test_expired_unclaimed_and_offer_bookkeeping(store, clock):
    old = store.request("old", "rest", None, "requested", "")
    clock.advance(200)
    new = store.request("new", "rest", None, "requested", "")
    claimed = store.request("claimed", "rest", None, "requested", "")
    store.claim(claimed.id, "tanaka")
    clock.advance(150)
    assert [h.id for h in store.expired_unclaimed(300)] == [old.id]
    assert store.mark_expired(old.id) is True
    assert store.mark_expired(old.id) is False
    assert store.mark_expired(claimed.id) is False  # claimed meanwhile: untouched
    assert store.get(old.id).status == "expired"
    assert [h.id for h in store.expired_without_offer()] == [old.id]
    store.mark_offer_sent(old.id)
    assert store.expired_without_offer() == []
    assert [h.id for h in store.list_open()] == [new.id, claimed.id]


def test_notification_bookkeeping(store):
    h = store.request("c1", "rest", None, "requested", "")
    t = store.create_ticket("c2", "rest", None, "質問", "chat")
    assert [x.id for x in store.unnotified_handoffs()] == [h.id]
    assert [x.id for x in store.unnotified_tickets()] == [t.id]
    for _ in range(MAX_NOTIFY_ATTEMPTS - 1):
        store.record_notification("handoff", h.id, delivered=False)
    assert store.unnotified_handoffs() != []
    store.record_notification("handoff", h.id, delivered=False)
    assert store.unnotified_handoffs() == []  # given up
    store.record_notification("ticket", t.id, delivered=True)
    assert store.unnotified_tickets() == []


def test_tickets_lifecycle(store, clock):
    t = store.create_ticket("c1", "line", "kokuho", "保険証をなくしました", "phone_dept", expected_by="2026-12-04")
    assert (t.status, t.contact_method, t.expected_by, t.answer) == ("open", "phone_dept", "2026-12-04", None)
    clock.advance(10)
    t2 = store.create_ticket("c2", "rest", "shimin", "転入届の持ち物", "chat")
    assert [x.id for x in store.open_tickets()] == [t.id, t2.id]
    assert [x.id for x in store.open_tickets("shimin")] == [t2.id]
    assert store.cancel_ticket(t2.id, "someone-else") is False
    assert store.cancel_ticket(t2.id, "c2") is True
    assert store.cancel_ticket(t2.id, "c2") is False
    answered = store.answer_ticket(t.id, "suzuki", "再発行は窓口でできます。")
    assert (answered.status, answered.answer, answered.answered_by, answered.answered_at) == (
        "answered", "再発行は窓口でできます。", "suzuki", "2026-12-01T01:00:10.000+00:00")
    with pytest.raises(HandoffError, match="is answered"):
        store.answer_ticket(t.id, "suzuki", "again")
    with pytest.raises(HandoffError, match="is cancelled"):
        store.answer_ticket(t2.id, "suzuki", "x")
    with pytest.raises(NotFound):
        store.answer_ticket(404, "suzuki", "x")
    with pytest.raises(HandoffError, match="empty"):
        store.answer_ticket(t.id, "suzuki", "")
    assert store.open_tickets() == []


def test_create_ticket_validates(store):
    with pytest.raises(HandoffError, match="unknown contact method 'email'"):
        store.create_ticket("c", "rest", None, "q", "email")
    with pytest.raises(HandoffError, match="question"):
        store.create_ticket("c", "rest", None, "  ", "chat")


def test_every_state_change_is_audited(store):
    h = store.request("c1", "rest", "shimin", "requested", "住民票")
    store.claim(h.id, "tanaka")
    store.hand_back(h.id, "tanaka", "note")
    h2 = store.request("c1", "rest", "shimin", "requested", "")
    store.cancel("c1")
    t = store.create_ticket("c1", "rest", None, "q", "chat")
    store.answer_ticket(t.id, "suzuki", "a")
    store.audit("admin", "staff.add", "staff:sato", "role=staff")
    log = store.audit_log()
    assert [(r["actor"], r["action"], r["target"]) for r in reversed(log)] == [
        ("resident", "handoff.request", f"handoff:{h.id}"),
        ("tanaka", "handoff.claim", f"handoff:{h.id}"),
        ("tanaka", "handoff.hand_back", f"handoff:{h.id}"),
        ("resident", "handoff.request", f"handoff:{h2.id}"),
        ("resident", "handoff.cancel", f"handoff:{h2.id}"),
        ("resident", "ticket.create", f"ticket:{t.id}"),
        ("suzuki", "ticket.answer", f"ticket:{t.id}"),
        ("admin", "staff.add", "staff:sato"),
    ]
    assert all(r["at"] == "2026-12-01T01:00:00.000+00:00" for r in log)
    assert len(store.audit_log(limit=3)) == 3


def test_state_survives_reopening_the_file(path):
    s1 = HandoffStore.open(path)
    h = s1.request("c1", "rest", None, "requested", "q")
    s1.claim(h.id, "tanaka")
    s1.db.close()
    s2 = HandoffStore.open(path)
    assert s2.get(h.id).claimed_by == "tanaka"
    assert s2.claim(h.id, "suzuki") is False


def test_long_text_is_cut(store):
    h = store.request("c1", "rest", None, "requested", "あ" * 10_000)
    assert len(h.question) == 4000


def test_handoffs_and_tickets_keep_the_residents_language(store):
    h = store.request("c-vi", "web", "gomi", "requested", "Tôi muốn vứt rác cỡ lớn", language="vi")
    t = store.create_ticket("c-en", "line", None, "When is the office open?", "chat", language="en")
    assert (h.language, store.get(h.id).language, store.list_open()[0].language) == ("vi", "vi", "vi")
    assert (t.language, store.open_tickets()[0].language) == ("en", "en")
    assert store.audit_log(2)[1]["detail"] == "reason=requested department=gomi channel=web language=vi"
    # A code the assistant does not speak is never stored as if it were one; without a language: not recorded.
    assert store.request("c-x", "rest", None, "requested", "q", language="xx").language is None
    assert store.request("c-y", "rest", None, "requested", "q").language is None


def test_language_migration_keeps_older_rows_on_both_backends(path):
    """An installation from before the language column: its rows stay, with the language
    not recorded, and new rows get one (the same migration text on SQLite and PostgreSQL)."""
    from bot.db import migrate, open_database
    from bot.handoff.store import MIGRATIONS

    db = open_database(path)
    migrate(db, MIGRATIONS[:1])
    assert "language" not in db.column_names("handoffs")
    db.execute("INSERT INTO handoffs (conversation_id, channel, status, reason, question, created_at, updated_at) "
               "VALUES ('old', 'rest', 'waiting', 'requested', '古い質問', '2026-11-30T00:00:00.000+00:00', "
               "'2026-11-30T00:00:00.000+00:00')")
    db.execute("INSERT INTO tickets (conversation_id, channel, status, question, contact_method, created_at, updated_at) "
               "VALUES ('old', 'rest', 'open', '古い伝言', 'chat', '2026-11-30T00:00:00.000+00:00', '2026-11-30T00:00:00.000+00:00')")
    db.close()
    store = HandoffStore.open(path)
    assert "handoff-0002-language" in applied_migrations(store.db)
    [old] = store.list_open()
    assert (old.question, old.language) == ("古い質問", None)
    assert store.open_tickets()[0].language is None
    assert store.request("new", "web", None, "requested", "q", language="ko").language == "ko"
    HandoffStore.open(path)  # applied once: opening again changes nothing
    assert [c for c in store.db.column_names("handoffs") if c == "language"] == ["language"]
