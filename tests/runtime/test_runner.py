"""Stack.start: a port taken between choosing and binding (tests/conftest.py free_port)."""

from __future__ import annotations

import pytest

def test_a_port_taken_before_binding_is_replaced_and_the_start_retried(tmp_path, monkeypatch):
    from bot.runtime import runner
    from bot.settings import Settings

    settings = Settings(project_dir=tmp_path, var_dir=tmp_path / "var", rasa_port=20001, actions_port=20002,
                        console_port=20003)
    stack = runner.Stack(settings, tmp_path / "model.tar.gz", choose_port=iter([20011, 20012]).__next__)
    tried = []

    def start_once(self, timeout, on_wait):
        tried.append((self.settings.rasa_port, self.settings.actions_port))
        if len(tried) < 3:
            raise runner.PortTaken("taken", "rasa_port")

    monkeypatch.setattr(runner.Stack, "_start_once", start_once)
    stack.start()
    assert tried == [(20001, 20002), (20011, 20002), (20012, 20002)]
    assert stack.settings.rasa_port == 20012


def test_without_choose_port_a_taken_port_is_reported_with_every_port_setting(tmp_path):
    import socket

    from bot.runtime import runner
    from bot.settings import Settings
    from tests.conftest import free_port

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = Settings(project_dir=tmp_path, var_dir=tmp_path / "var", rasa_port=free_port(), actions_port=port,
                            console_port=free_port())
        with pytest.raises(runner.PortTaken) as raised:
            runner.Stack(settings, tmp_path / "model.tar.gz", with_console=False).start()
    assert raised.value.setting == "actions_port"
    assert f"port {port} on 127.0.0.1 is already in use, so the action server cannot start" in str(raised.value)
    for name in ("MADOGUCHI_RASA_PORT", "MADOGUCHI_ACTIONS_PORT", "MADOGUCHI_CONSOLE_PORT"):
        assert name in str(raised.value)


def test_the_log_of_this_start_tells_a_port_taken_at_binding(tmp_path):
    from bot.runtime.runner import _port_taken_in_log

    log = tmp_path / "rasa.log"
    log.write_text("OSError: [Errno 98] error while attempting to bind on address ('127.0.0.1', 5005): "
                   "address already in use\n")
    offset = log.stat().st_size
    assert _port_taken_in_log(log, 0)
    assert not _port_taken_in_log(log, offset)  # an earlier start's line does not count
    with log.open("a") as fh:
        fh.write("ModuleNotFoundError: No module named 'x'\n")
    assert not _port_taken_in_log(log, offset)
