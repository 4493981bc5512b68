"""bot run's supervision: the pure restart policy, and the Supervisor with tiny real processes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.runtime.supervisor import RestartPolicy, ServerKeepsCrashing, Supervisor


def test_policy_backs_off_then_gives_up():
    policy = RestartPolicy(max_crashes=5, base_delay=1.0, max_delay=5.0)
    assert [policy.delay(n) for n in range(1, 6)] == [1.0, 2.0, 4.0, 5.0, None]


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def spawn(code: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code])


SERVE = "import time; time.sleep(120)"
CRASH = "import sys; sys.exit(3)"


@pytest.fixture
def procs():
    running: dict[str, subprocess.Popen] = {}
    yield running
    for p in running.values():
        if p.poll() is None:
            p.kill()
        p.wait()


def wait_exit(proc):
    proc.wait(timeout=30)


def test_a_crashed_server_is_restarted_after_its_delay_and_the_others_keep_running(procs):
    procs.update(actions=spawn(SERVE), rasa=spawn(SERVE))
    lines, clock = [], Clock()
    spawned = []

    def respawn(name):
        procs[name] = spawn(SERVE)
        spawned.append(name)
        return procs[name]

    sup = Supervisor(procs.__getitem__, respawn, ["actions", "rasa"], report=lines.append, clock=clock,
                     policy=RestartPolicy(base_delay=2.0))
    rasa_pid = procs["rasa"].pid
    procs["actions"].kill()
    wait_exit(procs["actions"])
    sup.check_once()
    assert lines == ["action server exited with code -9; restarting it in 2 s (crash 1 of at most 4 in 600 s)"]
    clock.now = 1.0
    sup.check_once()
    assert spawned == []  # still waiting
    clock.now = 2.0
    sup.check_once()
    assert spawned == ["actions"] and lines[-1].startswith("action server restarted (pid ")
    assert procs["actions"].poll() is None
    assert procs["rasa"].pid == rasa_pid and procs["rasa"].poll() is None  # untouched


def test_a_server_that_keeps_crashing_makes_it_give_up_saying_why(procs):
    procs.update(console=spawn(CRASH), rasa=spawn(SERVE))
    clock, lines = Clock(), []

    def respawn(name):
        procs[name] = spawn(CRASH)
        return procs[name]

    sup = Supervisor(procs.__getitem__, respawn, ["console", "rasa"], report=lines.append, clock=clock,
                     policy=RestartPolicy(max_crashes=3, base_delay=1.0), log_hint="var/logs")
    with pytest.raises(ServerKeepsCrashing) as err:
        for _ in range(20):
            wait_exit(procs["console"])
            sup.check_once()
            clock.now += 10
            sup.check_once()
    message = str(err.value)
    assert "the staff console crashed 3 times in 600 s (last exit code 3); stopping everything (see var/logs)" in message
    assert "fix the cause" in message
    assert sum("restarted" in line for line in lines) == 2
    assert procs["rasa"].poll() is None


def test_crashes_long_ago_do_not_count(procs):
    procs.update(actions=spawn(CRASH))
    clock = Clock()

    def respawn(name):
        procs[name] = spawn(CRASH)
        return procs[name]

    sup = Supervisor(procs.__getitem__, respawn, ["actions"], clock=clock, policy=RestartPolicy(max_crashes=2, window=60))
    for _ in range(5):  # one crash every 100 s: never two in a window of 60 s
        wait_exit(procs["actions"])
        sup.check_once()
        clock.now += 100
        sup.check_once()
    assert sup.restarts == 5


def test_retry_delays_fit_the_budget():
    from bot.action_fallback import retry_delays

    assert retry_delays(15) == [0.25, 0.5, 1.0, 2.0, 4.0, 4.0]
    assert sum(retry_delays(3)) <= 3 and retry_delays(0) == []


def test_only_a_refused_connection_counts_as_not_run():
    import aiohttp
    from rasa.shared.exceptions import RasaException

    from bot.action_fallback import could_not_connect

    class Key:
        ssl = None

    try:
        try:
            raise aiohttp.ClientConnectorError(Key(), OSError(111, "refused"))
        except aiohttp.ClientConnectionError:
            raise RasaException("Failed to execute custom action 'x'. Couldn't connect")  # as Rasa does
    except RasaException as exc:
        assert could_not_connect(exc)
    assert not could_not_connect(RasaException("Failed to execute custom action 'x'"))
    assert not could_not_connect(aiohttp.ServerDisconnectedError())  # the action may have run

