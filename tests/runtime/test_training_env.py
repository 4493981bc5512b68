"""The environment the Rasa and action server processes run with."""

from bot.settings import Settings
from bot.runtime.training import rasa_env


def test_servers_use_one_blas_thread_and_no_telemetry(monkeypatch):
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    env = rasa_env(Settings())
    assert env["OPENBLAS_NUM_THREADS"] == env["OMP_NUM_THREADS"] == env["MKL_NUM_THREADS"] == "1"
    assert env["RASA_TELEMETRY_ENABLED"] == "false"


def test_an_explicit_thread_setting_is_kept(monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    assert rasa_env(Settings())["OPENBLAS_NUM_THREADS"] == "2"
