"""Comparisons with Rasa's own code run with the speed-ups uninstalled.

Another test (or the eval parser) may have installed the speed-ups before a comparison
runs; "Rasa's original" taken then would be the speed-up itself, and the comparison could
not fail. ``rasa_original`` uninstalls them (and every other change to Rasa) for the test's
reference run; the test then calls ``rasa_speedups.install()`` for its own run, and the
fixture puts back, after the test, what was installed before it.
"""

from __future__ import annotations

import pytest

from bot import rasa_speedups


@pytest.fixture
def rasa_original():
    """Rasa's own functions in place (checked); what was installed before, put back after the test."""
    with rasa_speedups.rasa_as_shipped():
        assert not rasa_speedups.installed()
        yield


def assert_is_rasas(function) -> None:
    """The function in place is Rasa's, not one of ours."""
    module = getattr(function, "__module__", None) or getattr(getattr(function, "__func__", None), "__module__", "")
    assert module.startswith("rasa."), f"{function!r} is from {module}, not from Rasa"
