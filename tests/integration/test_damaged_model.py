"""A damaged model file at start: one clear error, no traceback, no server started
(bot/training.py ``check_model``, called by Stack.start, bot cluster up and the nodes)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.settings import Settings
from bot.runtime.training import ModelDamaged, check_model, inputs_digest
from tests.conftest import FIXTURE_KB, ROOT, free_port, port_is_free


def model_archive(path: Path, with_metadata: bool = True) -> Path:
    """A small model-shaped archive: metadata.json and a component of incompressible bytes."""
    with tarfile.open(path, "w:gz") as tar:
        files = {"components/x/data.bin": os.urandom(200_000)}
        if with_metadata:
            files["metadata.json"] = json.dumps({"rasa_open_source_version": "3.6.21"}).encode()
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def truncated(path: Path) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def flipped(path: Path) -> Path:
    data = bytearray(path.read_bytes())
    for i in range(len(data) // 2, len(data) // 2 + 64):
        data[i] ^= 0xFF  # a damaged block in the middle, the length unchanged
    path.write_bytes(bytes(data))
    return path


def test_a_good_archive_passes(tmp_path):
    check_model(model_archive(tmp_path / "m.tar.gz"))


@pytest.mark.parametrize("damage", ["truncated", "flipped", "not-gzip", "empty", "no-metadata", "missing"])
def test_damaged_models_are_named_with_the_fix(tmp_path, damage):
    path = model_archive(tmp_path / "m.tar.gz", with_metadata=damage != "no-metadata")
    if damage == "truncated":
        truncated(path)
    elif damage == "flipped":
        flipped(path)
    elif damage == "not-gzip":
        path.write_text("<html>404 Not Found</html>")
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "missing":
        path.unlink()
    with pytest.raises(ModelDamaged) as err:
        check_model(path)
    text = str(err.value)
    assert str(path) in text
    if damage == "missing":
        assert "does not exist" in text and "bot train" in text
    elif damage == "no-metadata":
        assert "not a Rasa model" in text and "bot train --force" in text
    else:
        assert "is damaged" in text and "bot train --force" in text


def _env(tmp_path) -> dict[str, str]:
    return {"MADOGUCHI_KNOWLEDGE_DIR": str(FIXTURE_KB), "MADOGUCHI_VAR_DIR": str(tmp_path / "var"),
            "MADOGUCHI_MODELS_DIR": str(tmp_path / "models"), "MADOGUCHI_RASA_PORT": str(free_port()),
            "MADOGUCHI_ACTIONS_PORT": str(free_port()), "MADOGUCHI_CONSOLE_PORT": str(free_port())}


def test_bot_run_with_a_damaged_model_says_so_and_starts_nothing(tmp_path, monkeypatch):
    env = _env(tmp_path)
    settings = Settings.from_env(env, project_dir=ROOT)
    settings.var_dir.mkdir(parents=True)
    settings.models_dir.mkdir(parents=True)
    model = flipped(model_archive(settings.models_dir / "madoguchi.tar.gz"))
    # Up to date as far as the inputs go: bot run would load it without training.
    (settings.var_dir / "train-stamp.json").write_text(json.dumps({"digest": inputs_digest(settings), "model": str(model)}))
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(cli, ["run"], env=env)
    assert result.exit_code == 1, result.output
    assert "model is up to date" in result.output
    assert f"the model {model} is damaged" in result.output and "bot train --force" in result.output
    assert "Traceback" not in result.output and result.exception.__class__ is SystemExit
    assert all(port_is_free(int(env[k])) for k in ("MADOGUCHI_RASA_PORT", "MADOGUCHI_ACTIONS_PORT",
                                                    "MADOGUCHI_CONSOLE_PORT"))
    assert not (settings.var_dir / "endpoints.runtime.yml").exists()  # no server was being prepared


def test_a_cluster_node_with_a_damaged_model_exits_with_the_message(tmp_path):
    model = truncated(model_archive(tmp_path / "m.tar.gz"))
    done = subprocess.run([sys.executable, "-m", "bot.cluster.node", str(model)], cwd=ROOT,
                          env={**os.environ, **_env(tmp_path)}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert f"node stopped: the model {model} is damaged" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
