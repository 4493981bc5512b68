"""The retraining job's phases, messages and lock; the PUT /model client.

`rasa train` itself and the real reload run in tests/integration/test_retrain_reload.py.
"""

from __future__ import annotations

import fcntl
import json

import aiohttp
import pytest
from aiohttp import web

from bot.runtime.rasa_api import RasaApi, RasaApiError
from bot.review.retrain import Phase, RetrainJob, RetrainStatus
from bot.runtime.training import TrainResult, inputs_digest


def fake_train(settings, force=False, quiet=False):
    path = settings.models_dir / "madoguchi.tar.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"model")
    return TrainResult(path, True, 42.0)


def test_trained_but_not_reloaded_says_what_to_do(review_settings):
    def no_server(settings, path):
        raise ConnectionRefusedError("connection refused")

    status = RetrainJob(review_settings, train_fn=fake_train, reload_fn=no_server).run(force=True)
    assert status.phase == Phase.DONE and not status.reloaded
    assert "学習しました（42秒）" in status.message and "サーバーを再起動すると" in status.message
    assert status.model_path.endswith("madoguchi.tar.gz")


def test_nothing_changed_means_no_training(review_settings):
    fake_train(review_settings)
    review_settings.var_dir.mkdir(parents=True, exist_ok=True)
    (review_settings.var_dir / "train-stamp.json").write_text(json.dumps({"digest": inputs_digest(review_settings), "seconds": 33}))
    calls = []
    status = RetrainJob(review_settings, train_fn=lambda *a, **k: calls.append(1)).run()
    assert status.phase == Phase.DONE and "学習は不要でした" in status.message and calls == []
    assert status.expected_seconds == 33


def test_no_reload_requested(review_settings):
    status = RetrainJob(review_settings, train_fn=fake_train).run(force=True, reload=False)
    assert status.phase == Phase.DONE and "次にサーバーを起動したとき" in status.message


def test_one_training_at_a_time(review_settings):
    review_settings.var_dir.mkdir(parents=True, exist_ok=True)
    with open(review_settings.var_dir / "train.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        status = RetrainJob(review_settings, train_fn=fake_train).run(force=True)
    assert status.phase == Phase.FAILED and "ほかの学習が実行中です" in status.message


def test_training_failure_is_reported(review_settings):
    def broken(settings, force=False, quiet=False):
        raise RuntimeError("rasa train exited with 1")

    status = RetrainJob(review_settings, train_fn=broken).run(force=True)
    assert status.phase == Phase.FAILED and "rasa train exited with 1" in status.message


def test_progress_follows_the_phases():
    s = RetrainStatus(Phase.TRAINING, started_at=100.0, expected_seconds=60, train_started_at=100.0)
    assert s.progress(now=100.0) == 0.05
    assert s.progress(now=130.0) == 0.475
    assert s.progress(now=1000.0) == 0.892  # never 100 % before it is done
    assert RetrainStatus(Phase.RELOADING).progress() == 0.95
    assert RetrainStatus(Phase.DONE).progress() == 1.0
    assert RetrainStatus(Phase.FAILED).as_dict()["label"] == "失敗しました"


async def test_load_model_puts_the_path_with_the_token(aiohttp_server):
    seen = []

    async def put_model(request):  # what Rasa's PUT /model does with our request
        seen.append((request.query.get("token"), await request.json()))
        if (await request.json())["model_file"].endswith(".tar.gz"):
            return web.Response(status=204)
        return web.json_response({"message": "no model"}, status=400)

    app = web.Application()
    app.router.add_put("/model", put_model)
    server = await aiohttp_server(app)
    async with aiohttp.ClientSession() as session:
        api = RasaApi(str(server.make_url("")), "secret", session)
        await api.load_model("/models/madoguchi.tar.gz")
        with pytest.raises(RasaApiError, match="could not load the model /x: HTTP 400"):
            await api.load_model("/x")
    assert seen[0] == ("secret", {"model_file": "/models/madoguchi.tar.gz"})
