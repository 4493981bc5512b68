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
functions only for the Rasa version they were written against (:data:`PINNED_RASA_VERSION`).
Every original is kept in one registry (:func:`replace`), the speed-ups' and those of the
Rasa server's other changes alike; :func:`uninstall` puts them all back.
Entry points call :func:`install`: the Rasa server (``bot/rasa_server.py``) and every
path that parses with a trained model in this process (``bot.eval.parser.ModelParser``:
``bot rank``, ``bot eval``, ``bot calibrate``, the benchmarks).

Not speed-ups, and so not installed by :func:`install`: the pause guard
(``bot/handoff/pause_guard.py``), the action-server fallback (``bot/action_fallback.py``),
database errors passed on by Rasa's ``FailSafeTrackerStore`` (``tracker_store.py``) and
``GET /health`` (``bot/health.py``) change what Rasa does; the Rasa server installs them
next to these (``bot.rasa_server.install_rasa_changes``), through the same registry.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Tuple

from bot.errors import ConfigError

# The Rasa release whose internals the replacements were written against and compared
# with (requirements.lock pins it). Another version may have changed any of them.
PINNED_RASA_VERSION = "3.6.21"

# Group names in the registry: the speed-ups, and what the Rasa server changes next to them.
SPEEDUPS = "speedups"

# (class or module, attribute) -> (group, Rasa's own attribute exactly as it was in its
# __dict__), in the order replaced. Every change the project makes to Rasa is here, so
# that uninstall() can put Rasa back as it was shipped.
_originals: Dict[Tuple[Any, str], Tuple[str, Any]] = {}


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


def replace(group: str, owner: Any, name: str, new: Any) -> None:
    """Replace Rasa's ``owner.name`` with ``new``, keeping Rasa's own in the registry.

    Every change to Rasa goes through here (the speed-ups, and the Rasa server's other
    changes: ``bot.handoff.pause_guard``, ``bot.action_fallback``, the tracker-store
    errors of ``bot.rasa_speedups.tracker_store`` and ``GET /health`` of ``bot.health``),
    so :func:`uninstall` restores all of them.

    Args:
        group: What the change belongs to (:func:`applied` tells whether it is in place).
        owner: The Rasa class or module.
        name: The attribute, defined in ``owner`` itself (not inherited).
        new: The replacement.

    Raises:
        RasaVersionError: ``owner`` does not define ``name`` itself (another Rasa).
        RuntimeError: ``owner.name`` is already replaced (two changes would fight).
    """
    if name not in vars(owner):  # inherited: not the function the change was written against
        raise RasaVersionError(f"{getattr(owner, '__qualname__', owner.__name__)}.{name} is not defined where "
                               f"Rasa {PINNED_RASA_VERSION} defines it; {group} was not installed")
    key = (owner, name)
    if key in _originals and vars(owner)[name] is new:
        return  # already in place: another group put the same function there (the count featurizer)
    if key in _originals:
        raise RuntimeError(f"{owner.__name__}.{name} is already replaced by {_originals[key][0]}")
    _originals[key] = (group, vars(owner)[name])
    setattr(owner, name, new)


def applied(group: str) -> bool:
    """Whether the changes of ``group`` are in place."""
    return any(g == group for g, _ in _originals.values())


def install() -> None:
    """Replace Rasa's functions with the speed-ups (idempotent).

    Raises:
        RasaVersionError: Rasa is not :data:`PINNED_RASA_VERSION` (nothing is replaced).
    """
    check_rasa_version()
    if applied(SPEEDUPS):
        return
    replacements = _replacements()
    for owner, name, _ in replacements:
        if name not in owner.__dict__:  # defined on a base class: not the function we compared with
            raise RasaVersionError(f"bot.rasa_speedups: {owner.__qualname__}.{name} is not defined where "
                                   "Rasa 3.6 defines it; nothing was patched")
    for owner, name, fast in replacements:
        replace(SPEEDUPS, owner, name, fast)


def uninstall() -> None:
    """Put back every original Rasa attribute: the speed-ups and every other change (idempotent)."""
    for (owner, name), (_, rasa_own) in reversed(list(_originals.items())):
        setattr(owner, name, rasa_own)
    _originals.clear()


def uninstall_group(group: str) -> None:
    """Put back Rasa's own attributes for the changes of ``group`` only (idempotent)."""
    for key, (owner_group, rasa_own) in reversed(list(_originals.items())):
        if owner_group == group:
            setattr(key[0], key[1], rasa_own)
            del _originals[key]


def installed() -> bool:
    """Whether the speed-ups are in place."""
    return applied(SPEEDUPS)


def original(owner: Any, name: str) -> Any:
    """Rasa's own ``owner.name`` (the current attribute when it is not replaced)."""
    entry = _originals.get((owner, name))
    return entry[1] if entry is not None else vars(owner)[name]


@contextmanager
def rasa_as_shipped() -> Iterator[None]:
    """Rasa's own code in place inside the block; afterwards, the changes that were in place before.

    For tests that compare with Rasa's real code: whatever the block installs is removed at
    its end, and what was installed before is put back as it was.
    """
    before = [(owner, name, group, vars(owner)[name]) for (owner, name), (group, _) in _originals.items()]
    uninstall()
    try:
        yield
    finally:
        uninstall()
        for owner, name, group, ours in before:
            replace(group, owner, name, ours)


async def close_sessions() -> None:
    """Close the HTTP sessions kept open to the action server (at server stop)."""
    from bot.rasa_speedups.patches import close_sessions as close

    await close()
