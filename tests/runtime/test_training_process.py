"""The training process (python -m bot.runtime.training): Rasa's validation only when the
project's own files changed, and a broken FAQ stopped with the loader's message."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from bot.errors import MadoguchiError
from bot.runtime import training
from bot.settings import Settings


@pytest.fixture
def rasa_calls(monkeypatch, tmp_path):
    """Runs ``training.main`` without Rasa: records the command line Rasa would get."""
    import rasa.__main__

    from bot.rasa_speedups import training as speedups

    calls: list[list[str]] = []
    outcome = {"exit": None, "raise": None}

    def fake_rasa_main():
        calls.append(list(sys.argv))
        if outcome["raise"] is not None:
            raise outcome["raise"]
        if outcome["exit"] is not None:
            raise SystemExit(outcome["exit"])

    monkeypatch.setattr(rasa.__main__, "main", fake_rasa_main)
    monkeypatch.setattr(speedups, "install", lambda: None)
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    monkeypatch.setenv("MADOGUCHI_VAR_DIR", str(tmp_path / "var"))
    project = tmp_path / "project"
    project.mkdir()
    for name in ("config.yml", "domain.yml"):
        shutil.copy(Path(training.__file__).resolve().parents[2] / name, project / name)
    shutil.copytree(Path(training.__file__).resolve().parents[2] / "data", project / "data")
    argv = ["--config", str(project / "config.yml"), "--domain", str(project / "domain.yml"),
            "--data", str(project / "data"), "--out", str(tmp_path / "models"), "--fixed-model-name", "m"]
    return calls, outcome, argv, project


def test_rasa_validates_once_then_only_after_data_domain_or_config_change(rasa_calls):
    calls, _, argv, project = rasa_calls
    assert training.main(argv) == 0
    assert training.main(argv) == 0
    (project / "data" / "nlu" / "added.yml").write_text('version: "3.1"\nnlu: []\n', encoding="utf-8")
    assert training.main(argv) == 0
    assert [c[:2] for c in calls] == [["rasa", "train"]] * 3
    assert ["--skip-validation" in c for c in calls] == [False, True, False]
    assert all("--force" in c for c in calls)


def test_a_failed_validation_is_run_again_next_time(rasa_calls):
    calls, outcome, argv, _ = rasa_calls
    outcome["exit"] = 1  # Rasa's print_error_and_exit
    assert training.main(argv) == 1
    outcome["exit"] = None
    assert training.main(argv) == 0
    assert ["--skip-validation" in c for c in calls] == [False, False]


def test_the_knowledge_base_error_is_printed_without_traceback(rasa_calls, capsys):
    _, outcome, argv, _ = rasa_calls
    outcome["raise"] = MadoguchiError("knowledge/faq/gomi.yml 3行目: answer が空です。", hint="fix it")
    assert training.main(argv) == 1
    err = capsys.readouterr().err
    assert "training stopped: knowledge/faq/gomi.yml 3行目: answer が空です。" in err
    assert "Traceback" not in err


def test_the_validation_digest_follows_the_validated_files(tmp_path):
    config, domain, data = tmp_path / "config.yml", tmp_path / "domain.yml", tmp_path / "data"
    config.write_text("a", encoding="utf-8")
    domain.write_text("b", encoding="utf-8")
    data.mkdir()
    (data / "nlu.yml").write_text("c", encoding="utf-8")
    first = training.validation_digest(config, domain, data)
    assert training.validation_digest(config, domain, data) == first
    (data / "nlu.yml").write_text("c2", encoding="utf-8")
    assert training.validation_digest(config, domain, data) != first


def test_training_runs_the_training_process_with_rasas_cache_off(tmp_path, monkeypatch):
    monkeypatch.delenv("RASA_MAX_CACHE_SIZE", raising=False)
    s = Settings(project_dir=tmp_path, var_dir=tmp_path / "var", models_dir=tmp_path / "models")
    assert training.train_command(s)[1:3] == ["-m", "bot.runtime.training"]
    assert "--force" not in training.train_command(s)  # the process adds it
    assert training.train_command(s, tmp_path / "other.yml")[4] == str(tmp_path / "other.yml")
    assert training.training_env(s)["RASA_MAX_CACHE_SIZE"] == "0"
    assert "RASA_MAX_CACHE_SIZE" not in training.rasa_env(s)  # the servers' environment is unchanged


@pytest.mark.parametrize("rasa_validates", [True, False], ids=["files-changed", "files-validated-before"])
def test_a_broken_faq_stops_a_real_training_with_the_loaders_message(tmp_path, fixture_kb_dir, project_root,
                                                                     rasa_validates):
    """The whole way, in a subprocess, whether Rasa's validation runs or was passed before:
    the message names the file, the line and the fix."""
    kb = tmp_path / "knowledge"
    shutil.copytree(fixture_kb_dir, kb)
    gomi = kb / "faq" / "gomi.yml"
    text = gomi.read_text(encoding="utf-8")
    lines = text.splitlines()
    answer_line = next(i for i, line in enumerate(lines) if line.strip().startswith("answer:"))
    indent = lines[answer_line][: len(lines[answer_line]) - len(lines[answer_line].lstrip())]
    # An empty answer; the block that followed it (a literal block) is dropped.
    end = answer_line + 1
    while end < len(lines) and (not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) > len(indent)):
        end += 1
    gomi.write_text("\n".join(lines[:answer_line] + [f'{indent}answer: ""'] + lines[end:]) + "\n", encoding="utf-8")
    s = Settings(project_dir=project_root, knowledge_dir=kb, var_dir=tmp_path / "var",
                 models_dir=tmp_path / "models").resolved()
    if not rasa_validates:
        s.var_dir.mkdir(parents=True)
        digest = training.validation_digest(project_root / "config.yml", project_root / "domain.yml", project_root / "data")
        (s.var_dir / "rasa-validation-stamp.json").write_text('{"digest": "%s"}' % digest, encoding="utf-8")
    with pytest.raises(MadoguchiError) as failed:
        training.train(s, force=True, quiet=True)
    message = str(failed.value)
    assert "training stopped: the knowledge base has" in message
    assert "faq/gomi.yml" in message and "answer が空です" in message
    assert "Traceback" not in message
    assert not (tmp_path / "models" / f"{training.MODEL_NAME}.tar.gz").exists()
