"""The whole improvement loop on the real stack: an unanswered question is logged, staff
write an FAQ from it, the model is retrained and loaded with PUT /model while residents
keep getting answers, and the same question is then answered."""

from __future__ import annotations

import json
import secrets
import shutil
import threading
import time
import urllib.error
import urllib.request
import uuid

import pytest

from bot.review.retrain import Phase, RetrainJob
from bot.review.service import ReviewService
from bot.review.store import ReviewFilter
from bot.runtime.runner import Stack
from bot.settings import Settings
from tests.conftest import free_port

pytestmark = pytest.mark.slow

NEW_TOPIC = "ホタル祭りはいつですか"


def _post(url: str, sender: str, text: str) -> tuple[int, list]:
    req = urllib.request.Request(f"{url}/webhooks/rest/webhook", data=json.dumps({"sender": sender, "message": text}).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            return resp.status, json.loads(resp.read().decode())
    except (urllib.error.URLError, OSError) as exc:
        return 0, [str(exc)]


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory, project_root, fixture_kb_dir, trained_model):
    """A stack of this test only: its own copy of the knowledge base, var/ and models/."""
    work = tmp_path_factory.mktemp("retrain")
    shutil.copytree(fixture_kb_dir, work / "knowledge")
    settings = Settings(project_dir=project_root, knowledge_dir=work / "knowledge", var_dir=work / "var",
                        models_dir=work / "models", rasa_port=free_port(), actions_port=free_port(),
                        console_port=free_port()).resolved()
    settings.models_dir.mkdir(parents=True)
    model = settings.models_dir / trained_model.name
    shutil.copy(trained_model, model)  # the same knowledge base: no need to train it again
    settings.var_dir.mkdir(parents=True)
    settings.api_token_path.touch(mode=0o600)
    settings.api_token_path.write_text("t" + secrets.token_hex(16))  # never starts with "-"
    stack = Stack(settings, model, log_dir=settings.var_dir / "logs", with_console=False, choose_port=free_port)
    stack.start(timeout=240)
    yield stack.settings, stack  # the ports may have been replaced (Stack.choose_port)
    stack.stop()


def test_write_an_faq_retrain_and_reload_without_downtime(own_stack):
    settings, stack = own_stack
    sender = f"r-{uuid.uuid4().hex[:8]}"
    status, [before] = _post(stack.rasa_url, sender, NEW_TOPIC)
    assert status == 200 and before["custom"]["type"] in ("cannot_answer", "clarify")

    service = ReviewService(settings)
    [group] = [g for g in service.groups() if any(q.text == NEW_TOPIC for q in g.questions)]
    draft = service.draft(group.ids)
    draft.id, draft.file, draft.department = "event-hotaru", "shimin.yml", "shimin"
    draft.question = "ホタル祭りはいつ開かれますか。"
    draft.paraphrases = [NEW_TOPIC, "ほたるまつり いつ", "蛍祭りの日程"]
    draft.answer = "ホタル祭りは毎年6月の第2土曜日に、中央公園で開かれます。"
    service.create_faq(group.ids, draft, staff="テスト")
    assert service.log.questions(ReviewFilter(outcomes=(), status="new_faq"))

    # Residents keep asking while the model is retrained and swapped.
    results: list[tuple[int, str]] = []
    stop = threading.Event()

    def keep_asking() -> None:
        while not stop.is_set():
            code, body = _post(stack.rasa_url, f"load-{uuid.uuid4().hex[:6]}", "住民票ってどこでもらえるの？")
            results.append((code, body[0]["custom"]["type"] if code == 200 and body else str(body)[:200]))
            time.sleep(0.3)

    asker = threading.Thread(target=keep_asking, daemon=True)
    asker.start()
    job = RetrainJob(settings)
    assert job.start()
    seen = set()
    deadline = time.monotonic() + 600
    while job.status().running and time.monotonic() < deadline:
        seen.add(job.status().phase)
        time.sleep(0.2)
    final = job.wait(5)
    time.sleep(1.0)
    stop.set()
    asker.join(130)

    assert final.phase == Phase.DONE and final.reloaded, final.message
    assert Phase.TRAINING in seen
    assert len(results) >= 10
    assert [r for r in results if r != (200, "answer")] == []  # no downtime, no wrong answer

    status, [after] = _post(stack.rasa_url, f"r-{uuid.uuid4().hex[:8]}", NEW_TOPIC)
    assert status == 200
    assert after["custom"]["type"] == "answer" and after["custom"]["faq_id"] == "event-hotaru"
    assert "第2土曜日" in after["text"]
