"""The console API against a fake Rasa: claim (and its race), reply, hand back, close, tickets."""

from __future__ import annotations

import asyncio

import pytest


@pytest.fixture
def waiting(store):
    return store.request("conv-1", "rest", "shimin", "requested", "住民票を郵送で取りたい")


async def test_inbox_lists_open_handoffs_and_tickets_with_japanese_labels(staff_client, store, waiting):
    store.create_ticket("conv-2", "rest", "gomi", "粗大ごみの回収日", "chat", expected_by="12月4日（金）")
    c = await staff_client("suzuki")
    status, inbox = await c.get_json("/api/inbox")
    assert status == 200
    [h] = inbox["handoffs"]
    assert (h["id"], h["department_name"], h["reason_label"], h["status_label"], h["question"]) == (
        waiting.id, "市民課", "担当者との会話を希望", "対応待ち", "住民票を郵送で取りたい")
    [t] = inbox["tickets"]
    assert (t["department_name"], t["contact_label"], t["expected_by"]) == ("ごみ対策課", "チャットで回答", "12月4日（金）")
    assert {"id": "shimin", "name": "市民課"} in inbox["departments"]
    # Rows from before the language was recorded say so; they are not passed off as Japanese.
    assert (h["language"], h["language_label"], h["foreign"]) == (None, "不明", False)


async def test_inbox_and_detail_show_the_residents_language(staff_client, store):
    vi = store.request("conv-vi", "web", "gomi", "requested", "Tôi muốn vứt tủ lạnh cũ", language="vi")
    ja = store.request("conv-ja", "rest", "gomi", "requested", "冷蔵庫を捨てたい", language="ja")
    store.create_ticket("conv-pt", "line", None, "Como faço para pagar o imposto?", "chat", language="pt-BR")
    c = await staff_client("suzuki")
    _, inbox = await c.get_json("/api/inbox")
    assert [(h["id"], h["language"], h["language_label"], h["foreign"]) for h in inbox["handoffs"]] == [
        (vi.id, "vi", "ベトナム語", True), (ja.id, "ja", "日本語", False)]
    [t] = inbox["tickets"]
    assert (t["language"], t["language_label"], t["foreign"]) == ("pt-BR", "ポルトガル語（ブラジル）", True)
    assert {"id": "fil", "name": "フィリピノ語"} in inbox["languages"] and inbox["languages"][-1] == {"id": "-", "name": "不明"}
    _, detail = await c.get_json(f"/api/handoffs/{vi.id}")
    assert detail["handoff"]["language_label"] == "ベトナム語"
    _, ticket = await c.get_json(f"/api/tickets/{inbox['tickets'][0]['id']}")
    assert ticket["ticket"]["language_label"] == "ポルトガル語（ブラジル）"


async def test_claim_pauses_the_conversation_and_greets_the_resident(staff_client, store, fake_rasa, waiting):
    c = await staff_client("suzuki")
    status, body = await c.post_json(f"/api/handoffs/{waiting.id}/claim")
    assert status == 200
    assert (body["handoff"]["status"], body["handoff"]["claimed_by"], body["handoff"]["mine"]) == ("claimed", "suzuki", True)
    [(sender, events, query)] = fake_rasa.appended
    assert sender == "conv-1"
    assert query["execute_side_effects"] == "true" and query["output_channel"] == "latest"
    assert events[0] == {"event": "pause"}
    assert events[1]["event"] == "bot"
    assert events[1]["data"]["custom"] == {"type": "handoff", "status": "claimed", "staff_name": "鈴木",
                                           "handoff_id": waiting.id, "faq_id": None, "confidence": None, "candidates": []}
    assert "担当の鈴木です" in events[1]["text"]
    assert fake_rasa.tracker("conv-1")["paused"] is True
    # claiming again by the same person changes nothing and sends nothing
    status, _ = await c.post_json(f"/api/handoffs/{waiting.id}/claim")
    assert status == 200 and len(fake_rasa.appended) == 1


async def test_claim_race_between_three_staff_has_one_winner(staff_client, store, fake_rasa, waiting):
    clients = [await staff_client(name) for name in ("tanaka", "suzuki", "sato")]
    results = await asyncio.gather(*(c.post_json(f"/api/handoffs/{waiting.id}/claim") for c in clients))
    statuses = sorted(s for s, _ in results)
    assert statuses == [200, 409, 409]
    winner = next(c for c, (s, _) in zip(clients, results) if s == 200)
    losers = [body for s, body in results if s == 409]
    assert all(b["error"] == "already_claimed" for b in losers)
    owner = store.get(waiting.id).claimed_by
    assert (await winner.get_json("/api/me"))[1]["username"] == owner
    pauses = [e for e in fake_rasa.events_appended("conv-1") if e["event"] == "pause"]
    assert len(pauses) == 1
    assert len([r for r in store.audit_log() if r["action"] == "handoff.claim"]) == 1


async def test_claim_race_over_many_handoffs(staff_client, store, fake_rasa):
    handoffs = [store.request(f"conv-{i}", "rest", None, "requested", "") for i in range(6)]
    clients = [await staff_client(name) for name in ("tanaka", "suzuki", "sato")]
    calls = [c.post_json(f"/api/handoffs/{h.id}/claim") for h in handoffs for c in clients]
    results = await asyncio.gather(*calls)
    assert sum(1 for s, _ in results if s == 200) == len(handoffs)
    for h in handoffs:
        assert [e["event"] for e in fake_rasa.events_appended(h.conversation_id)] == ["pause", "bot"]


async def test_claim_when_rasa_is_down_leaves_it_waiting(staff_client, store, fake_rasa, waiting):
    fake_rasa.down = True
    c = await staff_client("suzuki")
    status, body = await c.post_json(f"/api/handoffs/{waiting.id}/claim")
    assert (status, body["error"]) == (502, "rasa_unavailable")
    assert "もう一度お試しください" in body["message"]
    assert store.get(waiting.id).status == "waiting"
    fake_rasa.down = False
    assert (await c.post_json(f"/api/handoffs/{waiting.id}/claim"))[0] == 200


async def test_claim_of_cancelled_or_missing_handoff(staff_client, store, waiting):
    store.cancel("conv-1")
    c = await staff_client("suzuki")
    status, body = await c.post_json(f"/api/handoffs/{waiting.id}/claim")
    assert (status, body["error"]) == (409, "not_waiting")
    status, body = await c.post_json("/api/handoffs/999/claim")
    assert (status, body["error"]) == (404, "not_found")
    status, _ = await c.post_json("/api/handoffs/99999999999999999999/claim")
    assert status == 404


async def test_reply_is_delivered_through_rasa_as_a_staff_message(staff_client, store, fake_rasa, waiting):
    c = await staff_client("suzuki")
    await c.post_json(f"/api/handoffs/{waiting.id}/claim")
    status, body = await c.post_json(f"/api/handoffs/{waiting.id}/reply", {"text": "  郵送の請求書は\nホームページにあります。 "})
    assert (status, body) == (200, {"delivered": True})
    sender, events, query = fake_rasa.appended[-1]
    assert sender == "conv-1" and query["execute_side_effects"] == "true"
    assert events == [{"event": "bot", "text": "郵送の請求書は\nホームページにあります。",
                       "data": {"custom": {"type": "staff", "staff_name": "鈴木", "faq_id": None, "confidence": None,
                                           "candidates": []}}}]
    assert fake_rasa.delivered[-1] == ("conv-1", events[0])
    [entry] = [r for r in store.audit_log() if r["action"] == "handoff.reply"]
    assert (entry["actor"], entry["detail"]) == ("suzuki", "20 characters")  # the text itself is not in the audit log


async def test_only_the_claimer_or_an_admin_may_reply(staff_client, fake_rasa, waiting):
    suzuki, sato, tanaka = [await staff_client(n) for n in ("suzuki", "sato", "tanaka")]
    status, body = await suzuki.post_json(f"/api/handoffs/{waiting.id}/reply", {"text": "x"})
    assert (status, body["error"]) == (409, "not_claimed")
    await suzuki.post_json(f"/api/handoffs/{waiting.id}/claim")
    status, body = await sato.post_json(f"/api/handoffs/{waiting.id}/reply", {"text": "割り込み"})
    assert (status, body["error"]) == (403, "not_yours")
    assert "鈴木" in body["message"]
    assert (await tanaka.post_json(f"/api/handoffs/{waiting.id}/reply", {"text": "管理者です"}))[0] == 200


@pytest.mark.parametrize("payload, status, code", [
    ({"text": ""}, 400, "empty_text"),
    ({"text": " \u0000\u0007 "}, 400, "empty_text"),
    ({"text": 42}, 400, "invalid_text"),
    ({}, 400, "empty_text"),
    ({"text": "あ" * 2001}, 413, "text_too_long"),
])
async def test_bad_replies_get_a_clear_4xx(staff_client, fake_rasa, waiting, payload, status, code):
    c = await staff_client("suzuki")
    await c.post_json(f"/api/handoffs/{waiting.id}/claim")
    got, body = await c.post_json(f"/api/handoffs/{waiting.id}/reply", payload)
    assert (got, body["error"]) == (status, code)
    assert body["message"]
    assert len(fake_rasa.appended) == 1  # only the claim


async def test_broken_json_and_huge_bodies(staff_client, waiting):
    c = await staff_client("suzuki")
    await c.post_json(f"/api/handoffs/{waiting.id}/claim")
    headers = {"X-CSRF-Token": c.csrf, "Content-Type": "application/json"}
    resp = await c.client.post(f"/api/handoffs/{waiting.id}/reply", data=b"{not json", headers=headers)
    assert resp.status == 400 and (await resp.json())["error"] == "invalid_json"
    resp = await c.client.post(f"/api/handoffs/{waiting.id}/reply", data=b"[1, 2]", headers=headers)
    assert resp.status == 400
    resp = await c.client.post(f"/api/handoffs/{waiting.id}/reply", data=b"\xff\xfe", headers=headers)
    assert resp.status == 400
    resp = await c.client.post(f"/api/handoffs/{waiting.id}/reply", data=b"x" * 200_000, headers=headers)
    assert resp.status == 413 and (await resp.json())["error"] == "too_large"
    resp = await c.client.post(f"/api/handoffs/{waiting.id}/reply", data=b"[" * 5000 + b"]" * 5000, headers=headers)
    assert resp.status == 400 and (await resp.json())["error"] == "invalid_json"  # not a 500 (RecursionError)


async def test_emoji_only_reply_is_fine(staff_client, fake_rasa, waiting):
    c = await staff_client("suzuki")
    await c.post_json(f"/api/handoffs/{waiting.id}/claim")
    assert (await c.post_json(f"/api/handoffs/{waiting.id}/reply", {"text": "🙇"}))[0] == 200
    assert fake_rasa.appended[-1][1][0]["text"] == "🙇"


async def test_reply_when_rasa_is_down_says_so(staff_client, store, fake_rasa, waiting):
    c = await staff_client("suzuki")
    await c.post_json(f"/api/handoffs/{waiting.id}/claim")
    fake_rasa.down = True
    status, body = await c.post_json(f"/api/handoffs/{waiting.id}/reply", {"text": "こんにちは"})
    assert (status, body["error"]) == (502, "rasa_unavailable")
    assert not [r for r in store.audit_log() if r["action"] == "handoff.reply"]


async def test_hand_back_resumes_the_assistant(staff_client, store, fake_rasa, waiting):
    c = await staff_client("suzuki")
    await c.post_json(f"/api/handoffs/{waiting.id}/claim")
    status, body = await c.post_json(f"/api/handoffs/{waiting.id}/hand_back", {"note": "一般的な質問"})
    assert status == 200 and body["handoff"]["status"] == "returned"
    events = fake_rasa.appended[-1][1]
    assert events[0] == {"event": "resume"}
    assert events[1]["data"]["custom"]["type"] == "handoff" and events[1]["data"]["custom"]["status"] == "returned"
    assert "自動応答でお答えします" in events[1]["text"]
    assert fake_rasa.tracker("conv-1")["paused"] is False
    h = store.get(waiting.id)
    assert (h.status, h.resolution) == ("returned", "一般的な質問")
    status, body = await c.post_json(f"/api/handoffs/{waiting.id}/reply", {"text": "まだいますか"})
    assert (status, body["error"]) == (409, "not_open")


async def test_hand_back_when_rasa_is_down_keeps_the_claim(staff_client, store, fake_rasa, waiting):
    c = await staff_client("suzuki")
    await c.post_json(f"/api/handoffs/{waiting.id}/claim")
    fake_rasa.down = True
    assert (await c.post_json(f"/api/handoffs/{waiting.id}/hand_back"))[0] == 502
    assert store.get(waiting.id).status == "claimed"


async def test_close_needs_a_resolution_and_resumes(staff_client, store, fake_rasa, waiting):
    c = await staff_client("suzuki")
    await c.post_json(f"/api/handoffs/{waiting.id}/claim")
    status, body = await c.post_json(f"/api/handoffs/{waiting.id}/close", {"resolution": ""})
    assert (status, body["error"]) == (400, "empty_text")
    status, body = await c.post_json(f"/api/handoffs/{waiting.id}/close", {"resolution": "郵送請求の方法を案内した"})
    assert status == 200 and body["handoff"]["status"] == "closed"
    events = fake_rasa.appended[-1][1]
    assert events[0] == {"event": "resume"} and events[1]["data"]["custom"]["status"] == "closed"
    h = store.get(waiting.id)
    assert (h.status, h.resolution) == ("closed", "郵送請求の方法を案内した")
    [entry] = store.audit_log()[:1]
    assert (entry["action"], entry["detail"]) == ("handoff.close", "12 characters")  # not the text (docs/console.md)
    assert not any("郵送請求" in (r["detail"] or "") for r in store.audit_log(500))
    status, inbox = await c.get_json("/api/inbox")
    assert inbox["handoffs"] == []


async def test_handoff_detail_and_conversation_with_candidates(staff_client, fake_rasa, waiting):
    decision = {"type": "clarify", "faq_id": None, "confidence": 0.21, "category": None, "reason": "",
                "candidates": [{"faq_id": "juminhyo-where", "question": "住民票の写しはどこで取れますか。", "score": 0.31},
                               {"faq_id": "juminhyo-mail", "question": "住民票を郵送で請求できますか。", "score": 0.29}]}
    fake_rasa.add_user_message("conv-1", "住民票 郵送", decision)
    fake_rasa.add_bot_message("conv-1", "もしかして、次のどれかですか？",
                              {"type": "clarify", "faq_id": None, "confidence": 0.21, "candidates": decision["candidates"]},
                              buttons=[{"title": "住民票を郵送で請求できますか。", "payload": '/choose_faq{"faq_id": "juminhyo-mail"}'}])
    fake_rasa.add_user_message("conv-1", '/choose_faq{"faq_id": "juminhyo-mail"}', None, intent="choose_faq")
    c = await staff_client("suzuki")
    status, body = await c.get_json(f"/api/handoffs/{waiting.id}")
    assert status == 200 and body["handoff"]["mine"] is False
    status, conv = await c.get_json(f"/api/handoffs/{waiting.id}/conversation")
    assert status == 200 and conv["cursor"] == 3 and conv["paused"] is False
    user, bot, pressed = conv["items"]
    assert user["kind"] == "user" and user["decision"]["type"] == "clarify"
    assert [x["faq_id"] for x in user["decision"]["candidates"]] == ["juminhyo-where", "juminhyo-mail"]
    assert bot["kind"] == "bot" and bot["type"] == "clarify" and bot["candidates"][1]["score"] == 0.29
    assert bot["buttons"] == ["住民票を郵送で請求できますか。"]
    assert pressed["button"] == "住民票を郵送で請求できますか。"


async def test_conversation_when_rasa_is_down(staff_client, fake_rasa, waiting):
    fake_rasa.down = True
    c = await staff_client("suzuki")
    status, body = await c.get_json(f"/api/handoffs/{waiting.id}/conversation")
    assert (status, body["error"]) == (502, "rasa_unavailable")
    page = await c.client.get(f"/handoffs/{waiting.id}")
    assert page.status == 200  # the page still opens and says it cannot load the conversation


async def test_ticket_answer_in_chat_is_delivered(staff_client, store, fake_rasa):
    t = store.create_ticket("conv-9", "rest", "gomi", "粗大ごみはいつ出せますか", "chat")
    c = await staff_client("sato")
    status, body = await c.get_json(f"/api/tickets/{t.id}")
    assert status == 200 and body["ticket"]["question"] == "粗大ごみはいつ出せますか"
    status, body = await c.post_json(f"/api/tickets/{t.id}/answer", {"answer": "毎月第2水曜日です。"})
    assert status == 200 and body["delivered"] is True
    assert (body["ticket"]["status"], body["ticket"]["answered_by_name"]) == ("answered", "佐藤")
    [(sender, events, _)] = fake_rasa.appended
    assert sender == "conv-9"
    assert events[0]["text"].endswith("毎月第2水曜日です。") and f"受付番号 {t.id}" in events[0]["text"]
    assert events[0]["data"]["custom"]["type"] == "staff" and events[0]["data"]["custom"]["ticket_id"] == t.id
    got = store.get_ticket(t.id)
    assert (got.status, got.answer, got.answered_by) == ("answered", "毎月第2水曜日です。", "sato")
    status, body = await c.post_json(f"/api/tickets/{t.id}/answer", {"answer": "二度目"})
    assert (status, body["error"]) == (409, "not_open")


async def test_ticket_answer_for_a_phone_call_is_recorded_only(staff_client, store, fake_rasa):
    t = store.create_ticket("conv-8", "line", "kokuho", "保険料の減免", "phone_dept")
    c = await staff_client("sato")
    status, body = await c.post_json(f"/api/tickets/{t.id}/answer", {"answer": "減免の申請書を案内"})
    assert status == 200 and body["delivered"] is False
    assert fake_rasa.appended == []
    assert store.get_ticket(t.id).status == "answered"


async def test_ticket_answer_when_rasa_is_down_stays_open(staff_client, store, fake_rasa):
    t = store.create_ticket("conv-9", "rest", None, "q", "chat")
    fake_rasa.down = True
    c = await staff_client("sato")
    assert (await c.post_json(f"/api/tickets/{t.id}/answer", {"answer": "a"}))[0] == 502
    got = store.get_ticket(t.id)
    assert (got.status, got.answer, got.answered_by) == ("open", None, None)
    assert [r["action"] for r in store.audit_log(5)][:2] == ["ticket.answer_undelivered", "ticket.answer"]
    fake_rasa.down = False  # back: the answer can be sent again
    assert (await c.post_json(f"/api/tickets/{t.id}/answer", {"answer": "a"}))[0] == 200
    assert len(fake_rasa.delivered) == 1


async def test_ticket_answer_race_delivers_only_the_recorded_answer(staff_client, store, fake_rasa):
    import asyncio

    fake_rasa.append_delay = 0.3  # the first delivery is still on its way when the second answer comes
    for round_ in range(3):
        t = store.create_ticket(f"conv-race-{round_}", "rest", None, "粗大ごみの回収日", "chat")
        sato, suzuki = await staff_client("sato"), await staff_client("suzuki")
        results = await asyncio.gather(
            sato.post_json(f"/api/tickets/{t.id}/answer", {"answer": "佐藤の回答です。"}),
            suzuki.post_json(f"/api/tickets/{t.id}/answer", {"answer": "鈴木の回答です。"}),
        )
        assert sorted(status for status, _ in results) == [200, 409]
        recorded = store.get_ticket(t.id)
        delivered = [e for sender, e in fake_rasa.delivered if sender == f"conv-race-{round_}"]
        assert len(delivered) == 1, delivered  # the resident gets one answer ...
        assert delivered[0]["text"].endswith(recorded.answer)  # ... the one that was recorded


async def test_cancelled_ticket_cannot_be_answered(staff_client, store):
    t = store.create_ticket("conv-9", "rest", None, "q", "chat")
    store.cancel_ticket(t.id, "conv-9")
    c = await staff_client("sato")
    status, body = await c.post_json(f"/api/tickets/{t.id}/answer", {"answer": "a"})
    assert (status, body["error"]) == (409, "not_open")


async def test_pages_render_for_existing_items_and_404_otherwise(staff_client, store, waiting):
    t = store.create_ticket("conv-9", "rest", None, "q", "chat")
    c = await staff_client("suzuki")
    assert "引き継ぎ 受付番号" in await (await c.client.get(f"/handoffs/{waiting.id}")).text()
    assert "伝言 受付番号" in await (await c.client.get(f"/tickets/{t.id}")).text()
    resp = await c.client.get("/handoffs/404")
    assert resp.status == 404 and "見つかりません" in await resp.text()
    assert (await c.client.get("/tickets/404")).status == 404
    assert (await c.client.get("/handoffs/999999999999999999999")).status == 404


async def test_resident_text_is_escaped_in_pages(staff_client, store):
    h = store.request("conv-x", "rest", None, "requested", "<script>alert(1)</script>")
    c = await staff_client("suzuki")
    page = await (await c.client.get(f"/handoffs/{h.id}")).text()
    assert "<script>alert(1)</script>" not in page
