"""When the action server cannot run an action: wait for it briefly, then answer anyway.

Rasa 3.6 logs a failed custom action and carries on with no events: the resident gets
``200 []`` (no reply at all), a hand-off request is silently dropped, and a message left
with ``/leave_message`` is lost (the form took it; the ticket action never ran). In the
Rasa process, :func:`install` wraps ``RemoteAction.run`` so that:

1. **Retry while it restarts.** When the action server could not even be connected to
   (so the action did not run), the call is retried with growing pauses (0.25 s, 0.5 s,
   1 s …) for up to ``action_retry_seconds`` (15 s): ``bot run`` restarts a crashed
   action server within a few seconds (bot/runtime/supervisor.py).
2. **Never lose a left message.** If ``action_create_ticket`` still cannot run remotely,
   the same action class (``actions.handoff.ActionCreateTicket``) runs here, in the Rasa
   process, on the same database: the ticket is stored and the resident gets its number.
   The same holds for the texts that used to be the domain's responses (the form's
   question, greetings, 「お役に立ててよかったです」, the language choice): they run here.
3. **Always reply.** Any other action that cannot run ends with the reply contract's
   ``error`` message (「申し訳ありません。ただいま応答できません…」), never ``[]``.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from typing import Any, Iterator, List

from bot.channels.common import PROCESSING_FAILED_TEXT

logger = logging.getLogger(__name__)

# Actions that must not fail with the action server: run in the Rasa process instead.
LOCAL_FALLBACKS = {
    "action_create_ticket": ("actions.handoff", "ActionCreateTicket"),
    # Texts that were the domain's responses before they came in the resident's language
    # (bot/i18n): pure, so they still work without the action server, as responses did.
    "action_ask_ticket_question": ("actions.handoff", "ActionAskTicketQuestion"),
    "action_smalltalk": ("actions.human", "ActionSmalltalk"),
    "action_feedback_positive": ("actions.human", "ActionFeedbackPositive"),
    "action_set_language": ("actions.human", "ActionSetLanguage"),
}

GROUP = "action_fallback"  # in bot.rasa_speedups' registry of changes to Rasa


def retry_delays(budget: float, first: float = 0.25, longest: float = 4.0) -> list[float]:
    """Pauses between attempts, doubling, adding up to at most ``budget`` seconds."""
    delays: list[float] = []
    delay = first
    while budget > 0 and sum(delays) + delay <= budget:
        delays.append(delay)
        delay = min(longest, delay * 2)
    return delays


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def could_not_connect(exc: BaseException) -> bool:
    """True when the action server was not reached at all (so the action did not run)."""
    import aiohttp

    return any(isinstance(e, aiohttp.ClientConnectorError) for e in _chain(exc))


def error_reply_event() -> Any:
    """The reply contract's ``error`` message as a Rasa ``BotUttered`` event."""
    from rasa.shared.core.events import BotUttered

    return BotUttered(text=PROCESSING_FAILED_TEXT, data={"custom": {"type": "error"}})


async def _run_locally(action: Any, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> List[Any]:
    from rasa.shared.core.events import deserialise_events
    from rasa.shared.core.trackers import EventVerbosity
    from rasa_sdk import Tracker as SdkTracker
    from rasa_sdk.executor import CollectingDispatcher

    module_name, class_name = LOCAL_FALLBACKS[action.name()]
    local = getattr(importlib.import_module(module_name), class_name)()
    sdk_tracker = SdkTracker.from_dict(tracker.current_state(EventVerbosity.ALL))
    dispatcher = CollectingDispatcher()
    loop = asyncio.get_running_loop()
    events_json = await loop.run_in_executor(None, local.run, dispatcher, sdk_tracker, domain.as_dict())
    bot_messages = await action._utter_responses(dispatcher.messages, output_channel, nlg, tracker)
    return [*bot_messages, *deserialise_events(events_json or [])]


def install(retry_seconds: float) -> None:
    """Wrap ``RemoteAction.run`` in this process (idempotent).

    Rasa's own ``run`` is kept in ``bot.rasa_speedups``' registry; ``uninstall()`` puts it back.
    """
    from rasa.core.actions.action import ActionExecutionRejection, RemoteAction

    from bot import rasa_speedups

    if rasa_speedups.applied(GROUP):
        return

    remote_run = RemoteAction.run
    delays = retry_delays(retry_seconds)

    async def run(self: Any, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> List[Any]:
        failure: BaseException | None = None
        for delay in [*delays, None]:
            try:
                return await remote_run(self, output_channel, nlg, tracker, domain)
            except ActionExecutionRejection:
                raise
            except Exception as exc:  # noqa: BLE001 - decided below: retry, run here, or error reply
                failure = exc
                if delay is None or not could_not_connect(exc):
                    break
                await asyncio.sleep(delay)
        logger.error("action %s could not run on the action server (%s)", self.name(), type(failure).__name__)
        if self.name() in LOCAL_FALLBACKS:
            try:
                events = await _run_locally(self, output_channel, nlg, tracker, domain)
                logger.warning("action %s ran in the Rasa process instead", self.name())
                return events
            except Exception:  # then at least the error reply
                logger.exception("action %s failed in the Rasa process too", self.name())
        return [error_reply_event()]

    rasa_speedups.replace(GROUP, RemoteAction, "run", run)
