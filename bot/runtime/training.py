"""Train the Rasa model when (and only when) its inputs changed.

Training runs in a subprocess, ``python -m bot.runtime.training`` (:func:`main`): Rasa's
``rasa train`` with the training speed-ups installed (``bot.rasa_speedups.training``),
Rasa's training cache off (every training is a full one: one edited FAQ changes the
training data of every NLU component, so the cache could only restore the dialogue
policy, which trains in under a second), and Rasa's validation of the project's files
(``domain.yml``, ``data/``, ``config.yml``) run only when those files changed since they
last passed it. The knowledge base, which staff edit, is validated on every training by
the knowledge importer (``bot.knowledge.loader``); a broken FAQ stops the training with
the loader's message.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bot.errors import MadoguchiError
from bot.settings import Settings

MODEL_NAME = "madoguchi"
# Everything that changes what the trained model does.
TRAINING_INPUTS = ("config.yml", "domain.yml", "data", "bot/components", "bot/knowledge", "bot/nlp")


@dataclass(frozen=True)
class TrainResult:
    model_path: Path
    trained: bool
    seconds: float


def rasa_env(settings: Settings) -> dict[str, str]:
    """Environment for Rasa subprocesses: telemetry off, our settings passed on."""
    env = dict(os.environ)
    env.update(
        {
            "RASA_TELEMETRY_ENABLED": "false",
            "MADOGUCHI_KNOWLEDGE_DIR": str(settings.knowledge_dir),
            "MADOGUCHI_VAR_DIR": str(settings.var_dir),
            "MADOGUCHI_MODELS_DIR": str(settings.models_dir),
            "MADOGUCHI_PROJECT_DIR": str(settings.project_dir),
            "MADOGUCHI_HOST": settings.host,
            "MADOGUCHI_RASA_PORT": str(settings.rasa_port),
            "MADOGUCHI_ACTIONS_PORT": str(settings.actions_port),
            "MADOGUCHI_CONSOLE_PORT": str(settings.console_port),
            "MADOGUCHI_ACTION_RETRY_SECONDS": str(settings.action_retry_seconds),
            "MADOGUCHI_DATABASE_URL": settings.database_url,
            "MADOGUCHI_TRACKER_DB": settings.tracker_db,
            "MADOGUCHI_REDIS_URL": settings.redis_url,
            "MADOGUCHI_INDEX_TRANSLATIONS": "true" if settings.index_translations else "false",
            "SANIC_HOST": settings.host,
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "PYTHONWARNINGS": "ignore",
        }
    )
    # One BLAS thread per process: a server handles one message at a time, and OpenBLAS's
    # extra threads spin after each small matrix product, burning the other core that the
    # action server needs (REST benchmark: Rasa CPU 27.7 → 15.2 ms per message).
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(name, "1")
    return env


def inputs_digest(settings: Settings) -> str:
    """A hash of every file that goes into training, plus the knowledge base."""
    h = hashlib.sha256()
    roots = [settings.project_dir / p for p in TRAINING_INPUTS] + [settings.knowledge_dir]
    for root in roots:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            if "__pycache__" in path.parts:
                continue
            h.update(str(path.relative_to(root.parent) if root.is_dir() else path.name).encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def _stamp_path(settings: Settings) -> Path:
    return settings.var_dir / "train-stamp.json"


def model_path(settings: Settings) -> Path:
    return settings.models_dir / f"{MODEL_NAME}.tar.gz"


def needs_training(settings: Settings) -> bool:
    stamp = _stamp_path(settings)
    if not model_path(settings).exists() or not stamp.exists():
        return True
    try:
        return json.loads(stamp.read_text())["digest"] != inputs_digest(settings)
    except (ValueError, KeyError):
        return True


def train(settings: Settings, force: bool = False, quiet: bool = False) -> TrainResult:
    """Train with ``rasa train`` unless the inputs are unchanged since the last training."""
    target = model_path(settings)
    if not force and not needs_training(settings):
        return TrainResult(target, False, 0.0)
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    settings.models_dir.mkdir(parents=True, exist_ok=True)
    digest = inputs_digest(settings)
    started = time.monotonic()
    proc = subprocess.run(
        train_command(settings),
        cwd=settings.project_dir,
        env=training_env(settings),
        stdout=subprocess.PIPE if quiet else None,
        stderr=subprocess.STDOUT if quiet else None,
        text=True,
    )
    seconds = time.monotonic() - started
    if proc.returncode != 0 or not target.exists():
        tail = (proc.stdout or "")[-3000:] if quiet else ""
        raise MadoguchiError(
            f"training failed (rasa train exited with {proc.returncode})\n{tail}",
            hint="run `bot kb check` and `rasa data validate`; the messages above say what is wrong",
        )
    _stamp_path(settings).write_text(json.dumps({"digest": digest, "model": str(target), "seconds": round(seconds, 1)}))
    return TrainResult(target, True, seconds)


def train_command(settings: Settings, config: Path | None = None) -> list[str]:
    """The training process's command line (``config``: another config file, for benchmarks)."""
    return [
        sys.executable, "-m", "bot.runtime.training",
        "--config", str(config or settings.project_dir / "config.yml"),
        "--domain", str(settings.project_dir / "domain.yml"),
        "--data", str(settings.project_dir / "data"),
        "--out", str(settings.models_dir),
        "--fixed-model-name", MODEL_NAME,
    ]


def training_env(settings: Settings) -> dict[str, str]:
    """:func:`rasa_env` for the training process, with Rasa's training cache off.

    With ``--force`` Rasa never reads its cache, but still fingerprinted every node's
    output and copied every trained component into ``.rasa/cache`` of the working
    directory (about 25 MB per training, up to 1 GB).
    """
    env = rasa_env(settings)
    env["RASA_MAX_CACHE_SIZE"] = "0"
    return env


def validation_digest(config: Path, domain: Path, data: Path) -> str:
    """A hash of what Rasa's validation reads besides the knowledge base, and Rasa's version."""
    import rasa

    h = hashlib.sha256(f"rasa {rasa.__version__}".encode())
    for root in (config, domain, data):
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            h.update(str(path.relative_to(root.parent)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def _validation_stamp(settings: Settings) -> Path:
    return settings.var_dir / "rasa-validation-stamp.json"


def _option(argv: list[str], name: str, default: str) -> str:
    return argv[argv.index(name) + 1] if name in argv and argv.index(name) + 1 < len(argv) else default


def main(argv: list[str] | None = None) -> int:
    """The training process: ``rasa train --force`` with the training speed-ups.

    Rasa's validation of domain, data and config runs when they changed since they last
    passed it (a stamp under ``var/``); the knowledge base is validated on every training
    (the importer), and its problems are reported as the loader words them, without a
    traceback.

    Returns:
        The exit code: 0 when the model was trained.
    """
    from bot.rasa_speedups import training as speedups

    argv = list(sys.argv[1:] if argv is None else argv)
    settings = Settings.from_env()
    paths = [Path(_option(argv, f"--{name}", default)) for name, default in
             (("config", "config.yml"), ("domain", "domain.yml"), ("data", "data"))]
    digest = validation_digest(*paths)
    stamp = _validation_stamp(settings)
    try:
        validated = json.loads(stamp.read_text())["digest"] == digest
    except (OSError, ValueError, KeyError):
        validated = False
    speedups.install()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", "train", *argv, "--force"] + (["--skip-validation"] if validated else [])
    try:
        rasa_main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except MadoguchiError as exc:
        print(f"training stopped: {exc}", file=sys.stderr, flush=True)
        return 1
    if code == 0 and not validated:
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        stamp.write_text(json.dumps({"digest": digest}))
    return code


class ModelDamaged(MadoguchiError):
    """The model file cannot be read: truncated, overwritten or corrupted."""


def check_model(path: Path) -> None:
    """Read the model archive once, end to end, before a server is started with it.

    Rasa, given a damaged model, dies during start-up with a traceback in its log (and
    ``bot run`` would restart it five times); this says what is wrong and what to do.
    Costs one decompression (about 0.3 s for the project's 18 MB model).

    Raises:
        ModelDamaged: the file is missing, not a gzip'd tar, fails its checksum, or has
            no ``metadata.json`` (not a Rasa 3 model).
    """
    import gzip
    import tarfile
    import zlib

    hint = (f"delete {path} and train again: `bot train --force` (`bot run` trains by itself when the "
            "model is missing); on a cluster node, copy a good model from where it was trained")
    try:
        with gzip.open(path, "rb") as raw:  # every byte, so that the checksum at the end is checked
            while raw.read(1 << 20):
                pass
        with tarfile.open(path, "r:gz") as tar:
            names = {m.name.strip("/") for m in tar}
    except FileNotFoundError:
        raise ModelDamaged(f"the model {path} does not exist", hint="train it: `bot train`") from None
    except (OSError, EOFError, zlib.error, tarfile.TarError) as exc:
        raise ModelDamaged(f"the model {path} is damaged and cannot be loaded ({type(exc).__name__}: {exc})",
                           hint=hint) from None
    if "metadata.json" not in names:
        raise ModelDamaged(f"the model {path} is not a Rasa model (it has no metadata.json)", hint=hint)


if __name__ == "__main__":
    sys.exit(main())
