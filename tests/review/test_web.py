"""The review pages (bot/console/review/), mounted under /review as the console does, over real HTTP.

The console around them is a fake: a middleware puts in each request what the console's
log-in middleware puts there (tests/console/test_review_mount.py mounts them in the real one).
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from pathlib import Path

import pytest
from aiohttp import web

from bot.console import keys
from bot.console.accounts import StaffAccount
from bot.console.pages import STATIC
from bot.console.review import create_review_app
from bot.knowledge.loader import load_knowledge
from bot.review.retrain import RetrainJob
from bot.review.service import ReviewService
from bot.review.store import ReviewFilter
from bot.runtime.training import TrainResult
from tests.review.test_dashboard import D18, D20, seed, seed_handoffs

ALL = ReviewFilter(outcomes=(), status=None)


class FakeTraining:
    """Stands in for `rasa train` (about a minute) and the model reload; the real ones run in
    tests/integration/test_retrain_reload.py. ``gate`` holds the training until released."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.trained = 0
        self.reloaded: list[Path] = []

    def train(self, settings, force=False, quiet=False):
        self.gate.wait(10)
        self.trained += 1
        path = settings.models_dir / "madoguchi.tar.gz"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"model")
        return TrainResult(path, True, 1.0)

    def reload(self, settings, path):
        self.reloaded.append(path)


@pytest.fixture
def training():
    return FakeTraining()


@pytest.fixture
def service(review_settings, log):
    return ReviewService(review_settings, log=log)


@pytest.fixture
async def client(aiohttp_client, review_settings, service, training):
    console = fake_console()
    job = RetrainJob(review_settings, train_fn=training.train, reload_fn=training.reload)
    mount(console, create_review_app(review_settings, service=service, retrain_job=job))
    return await aiohttp_client(console)  # sends Host: 127.0.0.1:<port>, as browsers do


def fake_console() -> web.Application:
    """An application with what the console's log-in middleware and configuration provide."""
    staff = StaffAccount("tanaka", "田中", "staff", False, "2026-11-01T00:00:00+00:00", "2026-11-01T00:00:00+00:00")

    @web.middleware
    async def console_session(request, handler):
        request["staff"] = staff
        request["csrf_token"] = "csrf-123"
        request["username"] = staff.username
        request["staff_name"] = staff.display_name
        return await handler(request)

    console = web.Application(middlewares=[console_session])
    console[keys.CONFIG] = keys.ConsoleConfig(rasa_url="", rasa_token="", session_minutes=60, claim_timeout=0,
                                              notify_webhook_url="", public_url="", review_mounted=True)
    return console


def mount(console: web.Application, review: web.Application) -> None:
    """Mount under /review exactly as the console does.

    The console's ``add_subapp`` works around aiohttp 3.9 + yarl >= 1.13, which cannot build
    ``request.url`` when the Host header has a port (aio-libs/aiohttp#9307).
    """
    try:
        from bot.console.app import add_subapp
    except ImportError:  # a checkout without the console
        console.add_subapp("/review", review)
    else:
        add_subapp(console, "/review", review)


async def test_routing_with_a_port_in_host(client):
    resp = await client.get("/review/dashboard", headers={"Host": "127.0.0.1:5080"})
    assert resp.status == 200


def ask(log, clock, conv, text, outcome="cannot_answer", minutes=0, **kw):
    clock.now = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=minutes)
    return log.record(conv, kw.pop("channel", "web"), text, outcome, kw.pop("candidates", []), **kw)


SODAI = [{"faq_id": "gomi-sodai-apply", "question": "粗大ごみの出し方を教えてください。", "score": 0.3}]


@pytest.fixture
def hotaru(log, clock):
    """Three ways of asking about ホタル祭り and one about a lost dog."""
    ids = [ask(log, clock, f"h{i}", t, minutes=i) for i, t in enumerate(["ホタル祭りはいつですか", "ほたるまつりの日程", "蛍祭りの駐車場"])]
    dog = ask(log, clock, "d1", "ソファを捨てたい［電話番号］", "clarify", minutes=10, candidates=SODAI)
    return ids, dog


async def test_list_shows_groups_with_csrf_and_actions(client, hotaru):
    ids, dog = hotaru
    resp = await client.get("/review/")
    assert resp.status == 200
    html = await resp.text()
    assert "2グループ・4件の未対応の質問" in html
    assert f'data-key="{ids[0]}"' in html and "「ホタル祭りはいつですか」" in html
    assert html.index("ホタル祭り") < html.index("ソファを捨てたい")  # most frequent first
    assert html.count('name="_csrf" value="csrf-123"') == 2 * 3  # three forms per group
    assert 'value="gomi-sodai-apply"' in html and "「粗大ごみの出し方を教えてください。」に言い換えとして追加" in html
    assert f'href="/review/draft?ids={ids[0]},{ids[1]},{ids[2]}"' in html
    newest = await (await client.get("/review/?sort=newest")).text()
    assert newest.index("ソファを捨てたい") < newest.index("ホタル祭り")
    only_clarify = await (await client.get("/review/?outcome=clarify")).text()
    assert "1グループ・1件" in only_clarify


async def test_the_console_layout_and_stylesheet_no_inline_style_or_script(client):
    html = await (await client.get("/review/dashboard")).text()
    assert html.count('<link rel="stylesheet" href="/static/console.css">') == 1
    assert "<style" not in html and "style=" not in html and "<script" not in html
    assert '<body data-page="review" data-staff="tanaka">' in html and "<title>ダッシュボード｜振り返り | 窓口 職員コンソール</title>" in html
    assert '<nav aria-label="メニュー"><a href="/inbox">受付一覧</a><a href="/review/" aria-current="page">振り返り</a></nav>' in html
    assert ('<nav class="subnav" aria-label="振り返りのメニュー"><a href="/review/">未回答の質問</a>'
            '<a href="/review/dashboard" aria-current="page">ダッシュボード</a><a href="/review/retrain">学習</a></nav>') in html
    assert "article.group" in (STATIC / "console.css").read_text(encoding="utf-8")
    old = await client.get("/review/review.css", allow_redirects=False)
    assert old.status == 301 and old.headers["Location"] == "/static/console.css"


async def test_every_text_a_resident_wrote_is_escaped(client, log, clock, review_settings):
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    qid = ask(log, clock, "e1", evil + "ごみの日", "clarify", candidates=SODAI)
    ask(log, clock, "e2", evil + "ごみの日", "clarify", minutes=1, candidates=SODAI, channel=evil)
    escaped = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"
    pages = [await (await client.get(path)).text() for path in
             ("/review/", f"/review/group/{qid}", f"/review/draft?ids={qid}", "/review/dashboard?since=2026-11-01&until=2026-11-30")]
    for html in pages:
        assert "<script" not in html and "<img" not in html
    assert escaped + "ごみの日" in pages[0] and escaped + "ごみの日" in pages[1]  # list, group page
    assert f'value="{escaped}ごみの日"' in pages[1]  # the checkbox of the text
    assert escaped in pages[3]  # the channel in the dashboard's table and chart


async def test_filters_with_bad_dates_say_so(client, hotaru):
    resp = await client.get("/review/?since=2026-13-01&until=yesterday&channel=" + "x" * 500)
    assert resp.status == 200
    html = await resp.text()
    assert "開始日は YYYY-MM-DD の形で入力してください" in html and "終了日は YYYY-MM-DD" in html


async def test_paraphrase_action_edits_knowledge_and_closes_the_group(client, hotaru, service, review_settings):
    _, dog = hotaru
    resp = await client.post("/review/paraphrase", data={"_csrf": "csrf-123", "ids": str(dog), "faq_choice": "gomi-sodai-apply"},
                             allow_redirects=False)
    assert resp.status == 303
    page = await (await client.get(resp.headers["Location"])).text()
    assert "追加できませんでした" in page and "個人情報を伏せた文のため追加しません" in page  # masked text is never a paraphrase
    ask(service.log, service.log._clock, "d2", "ソファを捨てたい", "clarify", minutes=20, candidates=SODAI)
    groups = service.groups()
    sofa = next(g for g in groups if any("ソファ" in q.text for q in g.questions))
    resp = await client.post("/review/paraphrase", data={"ids": ",".join(map(str, sofa.ids)), "faq_choice": "gomi-sodai-apply"})
    html = await resp.text()
    assert "FAQ「gomi-sodai-apply」に言い換えを1件追加しました（1件は追加しませんでした）" in html
    kb = load_knowledge(review_settings.knowledge_dir)
    assert kb.ok and "ソファを捨てたい" in kb.kb.by_id()["gomi-sodai-apply"].paraphrases
    assert all(q.status == "paraphrased" for q in service.log.by_ids(sofa.ids))
    [res] = service.log.resolutions()
    assert res["staff"] == "田中" and res["faq_id"] == "gomi-sodai-apply" and res["texts_added"] == ["ソファを捨てたい"]
    assert "ソファ" not in await (await client.get("/review/")).text()


async def test_paraphrase_with_chosen_texts_on_the_group_page(client, hotaru, review_settings):
    ids, _ = hotaru
    page = await client.get(f"/review/group/{ids[1]}")
    html = await page.text()
    assert page.status == 200 and "「ホタル祭りはいつですか」" in html and 'name="texts" value="ほたるまつりの日程" checked' in html
    resp = await client.post("/review/paraphrase", data=[("ids", ",".join(map(str, ids))), ("faq_id", "gomi-calendar"),
                                                          ("texts", "ほたるまつりの日程")])
    assert "言い換えを1件追加しました" in await resp.text()
    assert load_knowledge(review_settings.knowledge_dir).kb.by_id()["gomi-calendar"].paraphrases[-1] == "ほたるまつりの日程"


async def test_languages_grouped_by_the_live_ranking_filtered_and_kept_out_of_japanese_paraphrases(client, log, clock,
                                                                                                        review_settings):
    ja = ask(log, clock, "c-ja", "ソファを処分したい", "clarify", candidates=SODAI, language="ja")
    en = ask(log, clock, "c-en", "How do I get rid of an old sofa?", minutes=1, language="en",
             candidates=[{"faq_id": "gomi-sodai-apply", "question": "", "score": 0.23}])
    vi = ask(log, clock, "c-vi", "Tôi muốn vứt cái ghế sofa cũ", minutes=2, language="vi",
             candidates=[{"faq_id": "gomi-sodai-apply", "question": "", "score": 0.29}])
    html = await (await client.get("/review/")).text()
    assert "1グループ・3件の未対応の質問" in html and "「ソファを処分したい」" in html
    assert "言語: 日本語 1・英語 1・ベトナム語 1" in html
    assert '<option value="vi">ベトナム語</option>' in html
    only_vi = await (await client.get("/review/?language=vi")).text()
    assert "1グループ・1件" in only_vi and "言語: ベトナム語 1" in only_vi
    group = await (await client.get(f"/review/group/{ja}")).text()
    assert 'name="texts" value="ソファを処分したい" checked' in group
    assert 'name="texts" value="How do I get rid of an old sofa?">' in group  # offered, not checked
    assert '<td lang="vi">Tôi muốn vứt cái ghế sofa cũ</td>' in group
    # the one-click action adds the Japanese text and says why the others were left out
    resp = await client.post("/review/paraphrase", data={"ids": f"{ja},{en},{vi}", "faq_choice": "gomi-sodai-apply"})
    text = await resp.text()
    assert "言い換えを1件追加しました（2件は追加しませんでした）" in text
    assert load_knowledge(review_settings.knowledge_dir).kb.by_id()["gomi-sodai-apply"].paraphrases[-1] == "ソファを処分したい"


async def test_new_faq_from_a_draft(client, hotaru, service, review_settings):
    ids, _ = hotaru
    q = ",".join(map(str, ids))
    html = await (await client.get(f"/review/draft?ids={q}")).text()
    assert 'name="question" value="ホタル祭りはいつですか"' in html
    assert "ほたるまつりの日程\n蛍祭りの駐車場</textarea>" in html
    form = {"ids": q, "id": "BAD ID", "question": "ホタル祭りはいつですか。", "paraphrases": "ほたるまつりの日程\n蛍祭りの駐車場",
            "answer": "毎年6月の第2土曜日です。", "file": "shimin.yml", "department": "shimin"}
    bad = await client.post("/review/new-faq", data=form)
    assert bad.status == 400
    text = await bad.text()
    assert "追加できませんでした" in text and "毎年6月の第2土曜日です。" in text  # what staff typed is kept
    ok = await client.post("/review/new-faq", data={**form, "id": "event-hotaru"})
    assert "新しいFAQ「event-hotaru」を shimin.yml に追加しました" in await ok.text()
    faq = load_knowledge(review_settings.knowledge_dir).kb.by_id()["event-hotaru"]
    assert faq.paraphrases == ("ほたるまつりの日程", "蛍祭りの駐車場") and faq.department == "shimin"
    assert {q.status for q in service.log.by_ids(ids)} == {"new_faq"}


async def test_out_of_scope_and_dismiss(client, hotaru, service, review_settings):
    ids, dog = hotaru
    resp = await client.post("/review/out-of-scope", data={"ids": ",".join(map(str, ids)), "train": "1"})
    assert "3件の質問を対象外にしました。対象外の学習例を3件追加しました。" in await resp.text()
    nlu = (review_settings.project_dir / "data" / "nlu" / "out_of_scope.yml").read_text(encoding="utf-8")
    assert nlu.endswith("      - ホタル祭りはいつですか\n      - ほたるまつりの日程\n      - 蛍祭りの駐車場\n")
    resp = await client.post("/review/dismiss", data={"ids": str(dog)})
    assert "1件の質問を対応不要にしました。" in await resp.text()
    assert {q.status for q in service.log.questions(ALL)} == {"out_of_scope", "dismissed"}
    again = await client.post("/review/dismiss", data={"ids": str(dog)})
    assert "no longer open" in await again.text()


@pytest.mark.parametrize("method, path, data, status", [
    ("post", "/review/dismiss", {"ids": "abc"}, 400),
    ("post", "/review/dismiss", {}, 400),
    ("post", "/review/dismiss", {"ids": ",".join(["1"] * 6000)}, 400),
    ("post", "/review/paraphrase", {"ids": "1", "faq_id": ""}, 303),
    ("get", "/review/draft", None, 400),
    ("get", "/review/group/abc", None, 400),
    ("get", "/review/group/999", None, 404),
    ("get", "/review/export.csv?kind=secrets", None, 400),
    ("get", "/review/dashboard?since=2026-11-30&until=2020-01-01", None, 200),
])
async def test_bad_input_gets_a_clear_4xx_never_a_500(client, hotaru, method, path, data, status):
    resp = await getattr(client, method)(path, data=data, allow_redirects=False)
    assert resp.status == status
    if status == 400:
        assert re.search(r"[ぁ-ん]", await resp.text())  # a Japanese explanation


async def wait_status(client, done, timeout: float = 20.0) -> dict:
    import asyncio
    import time

    deadline = time.monotonic() + timeout
    while True:
        status = await (await client.get("/review/retrain/status")).json()
        if done(status) or time.monotonic() > deadline:
            return status
        await asyncio.sleep(0.05)


async def test_retrain_shows_progress_and_reloads(client, training):
    resp = await client.post("/review/retrain", data={"force": "1"}, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/review/retrain"
    status = await wait_status(client, lambda s: s["phase"] != "checking")
    assert status["running"] and status["phase"] == "training"  # held there by the gate
    html = await (await client.get("/review/retrain")).text()
    assert '<meta http-equiv="refresh" content="2">' in html and "<progress" in html and "モデルを学習しています" in html
    busy = await client.post("/review/retrain", data={})
    assert "すでに学習中です" in await busy.text()
    training.gate.set()
    status = await wait_status(client, lambda s: not s["running"])
    assert status["phase"] == "done" and status["reloaded"] and status["progress"] == 1.0
    assert training.trained == 1 and len(training.reloaded) == 1
    html = await (await client.get("/review/retrain")).text()
    assert "新しいモデルで応答しています" in html and "http-equiv" not in html


async def test_retrain_refuses_an_invalid_knowledge_base(client, training, review_settings):
    shimin = review_settings.knowledge_dir / "faq" / "shimin.yml"
    shimin.write_text(shimin.read_text(encoding="utf-8").replace("question: 住民票の写しはどこで取れますか。", "question:"), encoding="utf-8")
    training.gate.set()
    await client.post("/review/retrain", data={"force": "1"})
    job_status = await wait_status(client, lambda s: not s["running"])
    assert job_status["phase"] == "failed" and "question が空です" in job_status["message"]
    assert training.trained == 0


async def test_dashboard_shows_the_fixture_figures(client, log, clock):
    seed(log, clock)
    seed_handoffs(log)
    resp = await client.get(f"/review/dashboard?since={D18}&until={D20}")
    assert resp.status == 200
    html = await resp.text()
    assert '<div class="tile" data-figure="質問">質問<b>8件</b></div>' in html
    assert '<div class="tile" data-figure="自己解決率">自己解決率<b>37.5%</b></div>' in html
    assert '<div class="tile" data-figure="職員へ引き継ぎ">職員へ引き継ぎ<b>1件（12.5%）</b></div>' in html
    assert html.count("<svg") == 6
    assert "待ち時間の中央値 3.0分・90%点 24.6分" in html
    assert "<tr><td>2026-11-19</td><td>3</td><td>0</td><td>1</td><td>1</td><td>1</td></tr>" in html
    assert "<tr><td>web</td><td>5</td><td>3</td><td>1</td><td>1</td><td>0</td><td>60.0%</td></tr>" in html
    assert "<h2>言語別</h2>" in html  # the fixture was logged before languages were recorded:
    assert "<tr><td>不明</td><td>8</td><td>3</td><td>2</td><td>2</td><td>1</td><td>37.5%</td></tr>" in html
    line_only = await (await client.get(f"/review/dashboard?since={D18}&until={D20}&channel=line")).text()
    assert "質問<b>3件</b>" in line_only


async def test_dashboard_without_data_or_handoffs(client):
    html = await (await client.get("/review/dashboard")).text()
    assert "質問<b>0件</b>" in html and "自己解決率<b>—</b>" in html and "引き継ぎのデータがありません" in html


async def test_csv_export_has_a_bom_for_excel(client, log, clock):
    seed(log, clock)
    resp = await client.get(f"/review/export.csv?kind=daily&since={D18}&until={D20}")
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/csv")
    assert 'filename="madoguchi-daily-2026-11-18-2026-11-20.csv"' in resp.headers["Content-Disposition"]
    body = (await resp.read()).decode("utf-8")
    assert body.startswith("\ufeffday,questions,answered,clarified,cannot_answer,handed_off\r\n2026-11-18,3,2,1,0,0")
    questions = (await (await client.get("/review/export.csv?kind=questions")).read()).decode("utf-8-sig")
    assert questions.count("\n") == 12 and "ほたる祭り" in questions
    groups = (await (await client.get("/review/export.csv?kind=groups")).read()).decode("utf-8-sig")
    assert groups.startswith("group,count,")
