"""Retrain after review edits, with progress, and load the new model without downtime.

:class:`RetrainJob` runs in a background thread: check the knowledge base → train
(:func:`bot.runtime.training.train`, about a minute) → ask the running Rasa server to load the
new model (``PUT /model``; it answers with the old model until the new one is ready).
Progress during training is estimated from how long the previous training took.
Only one training runs at a time on a machine (a lock file under ``var/``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import fcntl
import json
import logging
import threading
import time
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path
from typing import Callable

from bot.errors import MadoguchiError
from bot.settings import Settings

logger = logging.getLogger(__name__)

DEFAULT_TRAIN_SECONDS = 60.0  # estimate when no training was timed yet


class Phase(str, Enum):
    IDLE = "idle"
    CHECKING = "checking"  # validating knowledge/
    TRAINING = "training"
    RELOADING = "reloading"  # the Rasa server loads the new model
    DONE = "done"
    FAILED = "failed"


PHASE_LABELS = {
    Phase.IDLE: "待機中",
    Phase.CHECKING: "ナレッジを確認しています",
    Phase.TRAINING: "モデルを学習しています",
    Phase.RELOADING: "新しいモデルを読み込んでいます",
    Phase.DONE: "完了しました",
    Phase.FAILED: "失敗しました",
}


@dataclass(frozen=True)
class RetrainStatus:
    phase: Phase = Phase.IDLE
    message: str = ""
    started_at: float | None = None  # time.time()
    finished_at: float | None = None
    expected_seconds: float = DEFAULT_TRAIN_SECONDS
    train_started_at: float | None = None
    model_path: str | None = None
    reloaded: bool = False

    @property
    def running(self) -> bool:
        return self.phase in (Phase.CHECKING, Phase.TRAINING, Phase.RELOADING)

    @property
    def label(self) -> str:
        return PHASE_LABELS[self.phase]

    def elapsed(self, now: float | None = None) -> float:
        if self.started_at is None:
            return 0.0
        return max(0.0, (self.finished_at or now or time.time()) - self.started_at)

    def progress(self, now: float | None = None) -> float:
        """0–1: checking 5 %, training up to 90 % (by the expected time), reloading 95 %."""
        if self.phase == Phase.DONE:
            return 1.0
        if self.phase == Phase.CHECKING:
            return 0.05
        if self.phase == Phase.TRAINING and self.train_started_at is not None:
            spent = (now or time.time()) - self.train_started_at
            return round(0.05 + 0.85 * min(0.99, spent / max(1.0, self.expected_seconds)), 3)
        if self.phase == Phase.RELOADING:
            return 0.95
        return 0.0

    def as_dict(self) -> dict:
        return {
            "phase": self.phase.value,
            "label": self.label,
            "message": self.message,
            "running": self.running,
            "progress": self.progress(),
            "elapsed_seconds": round(self.elapsed(), 1),
            "expected_seconds": round(self.expected_seconds, 1),
            "model_path": self.model_path,
            "reloaded": self.reloaded,
            "started_at": dt.datetime.fromtimestamp(self.started_at, dt.timezone.utc).isoformat() if self.started_at else None,
        }


def previous_training_seconds(settings: Settings) -> float:
    """How long the last training took (from var/train-stamp.json), else a default."""
    try:
        data = json.loads((settings.var_dir / "train-stamp.json").read_text())
        return float(data.get("seconds") or DEFAULT_TRAIN_SECONDS)
    except (OSError, ValueError):
        return DEFAULT_TRAIN_SECONDS


async def reload_model(settings: Settings, model_path: Path, timeout: float = 300.0) -> None:
    """Ask the running Rasa server to load ``model_path`` (``PUT /model``)."""
    import aiohttp

    from bot.runtime.rasa_api import RasaApi

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
        await RasaApi(settings.rasa_url, settings.api_token(), session).load_model(str(model_path), timeout=timeout)


class RetrainJob:
    """Retrain and reload in a background thread; one job per process.

    Args:
        settings: Where the knowledge, models and var directories are.
        train_fn: ``train(settings, force, quiet) -> TrainResult`` (default: bot.runtime.training.train).
        reload_fn: Loads the model into the running server (default: :func:`reload_model`).
    """

    def __init__(self, settings: Settings, train_fn: Callable | None = None, reload_fn: Callable | None = None) -> None:
        self.settings = settings
        self._train = train_fn
        self._reload = reload_fn
        self._lock = threading.Lock()
        self._status = RetrainStatus()
        self._thread: threading.Thread | None = None

    def status(self) -> RetrainStatus:
        with self._lock:
            return self._status

    def _set(self, **changes) -> None:
        with self._lock:
            self._status = replace(self._status, **changes)

    def start(self, force: bool = False, reload: bool = True) -> bool:
        """Start a job; False when one is already running."""
        with self._lock:
            if self._status.running:
                return False
            self._status = RetrainStatus(Phase.CHECKING, "", time.time(), None, previous_training_seconds(self.settings))
            self._thread = threading.Thread(target=self.run, args=(force, reload), name="madoguchi-retrain", daemon=True)
            self._thread.start()
        return True

    def wait(self, timeout: float | None = None) -> RetrainStatus:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self.status()

    def run(self, force: bool = False, reload: bool = True) -> RetrainStatus:
        """The job itself (also usable synchronously, e.g. from the CLI)."""
        if not self.status().running:
            self._set(phase=Phase.CHECKING, started_at=time.time(), finished_at=None,
                      expected_seconds=previous_training_seconds(self.settings), message="")
        try:
            self._run(force, reload)
        except Exception as exc:  # noqa: BLE001 - every failure is shown to staff, none crashes the console
            logger.warning("retrain failed: %s", exc)
            self._set(phase=Phase.FAILED, message=str(exc), finished_at=time.time())
        return self.status()

    def _run(self, force: bool, reload: bool) -> None:
        from bot.knowledge.loader import load_knowledge
        from bot.runtime.training import needs_training, train

        s = self.settings
        problems = load_knowledge(s.knowledge_dir).problems
        if problems:
            listing = "\n".join(str(p) for p in problems[:20])
            raise MadoguchiError(f"ナレッジに{len(problems)}件の問題があります。直してから学習してください。\n{listing}")
        s.var_dir.mkdir(parents=True, exist_ok=True)
        with open(s.var_dir / "train.lock", "w") as lock_file:
            try:
                fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                raise MadoguchiError("ほかの学習が実行中です。終わってからもう一度お試しください。") from None
            if not force and not needs_training(s):
                self._set(phase=Phase.DONE, finished_at=time.time(),
                          message="前回の学習から変更がないため、学習は不要でした。")
                return
            self._set(phase=Phase.TRAINING, train_started_at=time.time())
            result = (self._train or train)(s, force=True, quiet=True)
        self._set(model_path=str(result.model_path))
        if not reload:
            self._set(phase=Phase.DONE, finished_at=time.time(),
                      message=f"学習しました（{result.seconds:.0f}秒）。次にサーバーを起動したときに使われます。")
            return
        self._set(phase=Phase.RELOADING)
        try:
            if self._reload is not None:
                self._reload(s, result.model_path)
            else:
                asyncio.run(reload_model(s, result.model_path))
        except Exception as exc:  # noqa: BLE001 - training worked; say what is left to do
            self._set(phase=Phase.DONE, finished_at=time.time(),
                      message=f"学習しました（{result.seconds:.0f}秒）が、動いているサーバーに読み込めませんでした（{exc}）。"
                              "サーバーを再起動すると新しいモデルが使われます。")
            return
        self._set(phase=Phase.DONE, finished_at=time.time(), reloaded=True,
                  message=f"学習しました（{result.seconds:.0f}秒）。新しいモデルで応答しています。")
