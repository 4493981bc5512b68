"""Performance fixes for Rasa 3.6, installed by the entry points with :func:`install`.

Each one was found by profiling the REST round trip with py-spy (docs/benchmarks.md) and
keeps Rasa's behaviour; tests compare each with Rasa's own code, the speed-ups
uninstalled (tests/rasa_speedups/).

* Action-server responses: Rasa validated every response with ``jsonschema.validate``,
  which re-checks the *schema* itself on every call (~60 % of the Rasa process's CPU
  under load). Same schema, same errors, but the validator is built once, and a valid
  response is recognised by ``bot.rasa_speedups.action_response`` checking each event
  against the branch of its own type only, instead of all 23 (1.3 -> 0.2 ms per call).
* The prediction graph runs without dask's scheduler (``bot.rasa_speedups.graph_runner``, ~10 %).
* CountVectorsFeaturizer counts without building and converting scipy matrices call by
  call (``bot.rasa_speedups.count_vectors``, the two featurizers were ~11 %).
* Event deserialisation: ``Event.resolve_by_type`` walked every subclass of ``Event``
  (recursively, with ``inspect.isabstract`` on each) for every event of every tracker
  read (~4 %). The type-name lookup is now a dictionary, rebuilt when a name is unknown.
* HTTP calls to endpoints (the action server): ``EndpointConfig.request`` opened a new
  aiohttp session, so a new TCP connection, for every call (~3 % of the Rasa process,
  plus the action server accepting it). One session per endpoint and event loop now
  keeps connections alive; its keep-alive (2 s) is shorter than the action server's
  (Sanic: 5 s), so a pooled connection is never one the server is about to close.
* The question's sentence vector (~20 ms of C code that releases the GIL) is computed on
  a worker thread before the NLU graph runs, instead of inside it on the event loop
  (``bot.components.query_vectors``), so other residents' messages go on meanwhile.
* ``MessageProcessor._check_for_unseen_features`` asked ``Domain.is_empty()`` for every
  message, which serialises the whole domain and builds an empty one to compare
  (~1 %). The answer is kept per domain object.

The tracker store (``bot.rasa_speedups.tracker_store.SQLiteTrackerStore``, about half of
the Rasa process's time per message before) is not patched in: ``endpoints.yml`` names it.

The smaller replacements are in ``patches.py``. :func:`install` replaces Rasa's
functions only for the Rasa version they were written against (:data:`PINNED_RASA_VERSION`)
and keeps every original in one registry; :func:`uninstall` puts them all back.
Entry points call :func:`install`: the Rasa server (``bot/rasa_server.py``) and every
path that parses with a trained model in this process (``bot.eval.parser.ModelParser``:
``bot rank``, ``bot eval``, ``bot calibrate``, the benchmarks).

Not speed-ups, and so not here: the pause guard (``bot/handoff/pause_guard.py``) and the
action-server fallback (``bot/action_fallback.py``) change what Rasa does; the Rasa
server installs them next to these (``bot.rasa_server.install_rasa_changes``).
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

from bot.errors import ConfigError

# The Rasa release whose internals the replacements were written against and compared
# with (requirements.lock pins it). Another version may have changed any of them.
PINNED_RASA_VERSION = "3.6.21"

# (class, attribute) -> Rasa's own attribute, exactly as it was in the class's __dict__.
_originals: Dict[Tuple[type, str], Any] = {}


class RasaVersionError(ConfigError):
    """The installed Rasa is not the version the speed-ups were written for."""


def check_rasa_version(found: str | None = None) -> None:
    """Raise :class:`RasaVersionError` unless Rasa is the pinned version."""
    if found is None:
        import rasa

        found = rasa.__version__
    if found != PINNED_RASA_VERSION:
        raise RasaVersionError(
            f"bot.rasa_speedups replaces functions of Rasa {PINNED_RASA_VERSION}, but Rasa {found} is "
            f"installed; they are not known to keep that version's behaviour, so nothing was patched",
            hint="install the pinned environment (./scripts/bootstrap.sh, or .venv/bin/pip install -r "
                 "requirements.lock). To move to another Rasa, compare each function replaced in "
                 "bot/rasa_speedups/ with the new Rasa's code, run tests/rasa_speedups/, then change "
                 "PINNED_RASA_VERSION",
        )


def _replacements() -> List[Tuple[type, str, Any]]:
    """Every Rasa attribute the speed-ups replace, and its replacement."""
    from rasa.core.actions.action import RemoteAction
    from rasa.core.processor import MessageProcessor
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
    from rasa.shared.core.events import Event
    from rasa.utils.endpoints import EndpointConfig

    from bot.rasa_speedups import count_vectors, graph_runner, patches

    return [
        (RemoteAction, "_validate_action_result", patches.validate_action_result),
        (DaskGraphRunner, "run", graph_runner.run_in_order),
        (CountVectorsFeaturizer, "_create_features", count_vectors.create_features),
        (Event, "resolve_by_type", staticmethod(patches.resolve_event_type)),
        (MessageProcessor, "_check_for_unseen_features", patches.check_for_unseen_features),
        (MessageProcessor, "parse_message", patches.parse_message),
        (EndpointConfig, "request", patches.request),
    ]


def install() -> None:
    """Replace Rasa's functions with the speed-ups (idempotent).

    Raises:
        RasaVersionError: Rasa is not :data:`PINNED_RASA_VERSION` (nothing is replaced).
    """
    check_rasa_version()
    if _originals:
        return
    replacements = _replacements()
    for owner, name, _ in replacements:
        if name not in owner.__dict__:  # defined on a base class: not the function we compared with
            raise RasaVersionError(f"bot.rasa_speedups: {owner.__qualname__}.{name} is not defined where "
                                   "Rasa 3.6 defines it; nothing was patched")
    for owner, name, fast in replacements:
        _originals[(owner, name)] = owner.__dict__[name]
        setattr(owner, name, fast)


def uninstall() -> None:
    """Put every original Rasa function back (idempotent)."""
    for (owner, name), rasa_own in _originals.items():
        setattr(owner, name, rasa_own)
    _originals.clear()


def installed() -> bool:
    """Whether the speed-ups are in place."""
    return bool(_originals)


def original(owner: type, name: str) -> Any:
    """Rasa's own ``owner.name`` (the current attribute when the speed-ups are not installed)."""
    return _originals.get((owner, name), owner.__dict__[name])


async def close_sessions() -> None:
    """Close the HTTP sessions kept open to the action server (at server stop)."""
    from bot.rasa_speedups.patches import close_sessions as close

    await close()
