"""The smaller speed-ups of bot.rasa_speedups, each a replacement for one Rasa 3.6 function.

Why each exists, and how it was found, is in the package docstring (``bot/rasa_speedups/__init__.py``);
``install()`` there puts them in place and keeps Rasa's originals.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, List, Optional, Text


@lru_cache(maxsize=1)
def _action_response_validator():
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@lru_cache(maxsize=1)
def _quick_response_check():
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    from bot.rasa_speedups.action_response import QuickResponseCheck

    schema = RemoteAction.action_response_format_spec()
    return QuickResponseCheck(schema, validator_for(schema))


def validate_action_result(self, result: Dict[Text, Any]) -> bool:
    from jsonschema import ValidationError, exceptions
    from rasa.shared.constants import DOCS_BASE_URL

    if _quick_response_check().is_valid(result):  # exact; None when the full schema must decide
        return True
    validator = _action_response_validator()
    error = exceptions.best_match(validator.iter_errors(result))
    if error is None:
        return True
    assert isinstance(error, ValidationError)
    error.message += (
        ". Failed to validate Action server response from API, make sure your response from the "
        f"Action endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
    )
    raise error


# type name -> Event subclass, first match in ``all_subclasses(Event)`` order as in Rasa.
_EVENT_TYPES: Dict[Text, type] = {}


def resolve_event_type(type_name: Text, default: Optional[type] = None) -> Optional[type]:
    """``Event.resolve_by_type`` with the subclass walk done once (again for an unknown name)."""
    cls = _EVENT_TYPES.get(type_name)
    if cls is None:
        from rasa.shared.core.events import Event
        from rasa.shared.utils.common import all_subclasses

        types: Dict[Text, type] = {}
        for sub in all_subclasses(Event):  # subclasses imported since the last walk count too
            types.setdefault(sub.type_name, sub)
        _EVENT_TYPES.clear()
        _EVENT_TYPES.update(types)
        cls = _EVENT_TYPES.get(type_name)
    if cls is not None:
        return cls
    if type_name == "topic":
        return None  # Rasa's backwards compatibility for old TopicSet events
    if default is not None:
        return default
    raise ValueError(f"Unknown event name '{type_name}'.")


def check_for_unseen_features(self, parse_data: Dict[Text, Any]) -> None:
    """Rasa's check, with ``domain.is_empty()`` computed once per domain object."""
    known = self.__dict__.get("_madoguchi_domain_empty")
    if known is None or known[0] is not self.domain:
        known = (self.domain, bool(self.domain) and self.domain.is_empty())
        self.__dict__["_madoguchi_domain_empty"] = known
    if not self.domain or known[1]:
        return
    from rasa.shared.constants import DOCS_URL_DOMAINS
    from rasa.shared.nlu.constants import INTENT_NAME_KEY
    from rasa.shared.utils.io import raise_warning

    # The rest as in Rasa 3.6.
    intent = parse_data["intent"][INTENT_NAME_KEY]
    if intent and intent not in self.domain.intents:
        raise_warning(
            f"Parsed an intent '{intent}' which is not defined in the domain. "
            f"Please make sure all intents are listed in the domain.",
            docs=DOCS_URL_DOMAINS,
        )
    for element in parse_data["entities"] or []:
        entity = element["entity"]
        if entity and entity not in self.domain.entities:
            raise_warning(
                f"Parsed an entity '{entity}' which is not defined in the domain. "
                f"Please make sure all entities are listed in the domain.",
                docs=DOCS_URL_DOMAINS,
            )


# Seconds an idle pooled connection is kept: below Sanic's default KEEP_ALIVE_TIMEOUT (5 s).
POOL_KEEPALIVE_SECONDS = 2.0
_sessions: List[Any] = []  # every pooled session, closed by close_sessions()


def _pooled_session(endpoint: Any) -> Any:
    """The endpoint's session for the running event loop (created on first use)."""
    import asyncio

    import aiohttp
    from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT

    loop = asyncio.get_running_loop()
    pool: Dict[Any, Any] = endpoint.__dict__.setdefault("_madoguchi_sessions", {})
    for other in [k for k in pool if k.is_closed()]:
        pool.pop(other)  # a finished loop's session cannot be used (tests run several loops)
    session = pool.get(loop)
    if session is None or session.closed:
        auth = None
        if endpoint.basic_auth:
            auth = aiohttp.BasicAuth(endpoint.basic_auth["username"], endpoint.basic_auth["password"])
        session = aiohttp.ClientSession(
            headers=endpoint.headers,
            auth=auth,
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(keepalive_timeout=POOL_KEEPALIVE_SECONDS),
        )
        pool[loop] = session
        _sessions.append(session)
    return session


async def request(
    self,
    method: Text = "post",
    subpath: Optional[Text] = None,
    content_type: Optional[Text] = "application/json",
    compress: bool = False,
    **kwargs: Any,
) -> Optional[Any]:
    """``EndpointConfig.request`` on a kept session (the rest as in Rasa 3.6)."""
    import os
    import ssl

    from aiohttp import ContentTypeError
    from rasa.shared.exceptions import FileNotFoundException
    from rasa.utils.endpoints import ClientResponseError, concat_url

    headers = {}
    if content_type:
        headers["Content-Type"] = content_type
    if "headers" in kwargs:
        headers.update(kwargs["headers"])
        del kwargs["headers"]
    if self.headers:
        headers.update(self.headers)
    url = concat_url(self.url, subpath)
    sslcontext = None
    if self.cafile:
        try:
            sslcontext = ssl.create_default_context(cafile=self.cafile)
        except FileNotFoundError as e:
            raise FileNotFoundException(
                f"Failed to find certificate file, '{os.path.abspath(self.cafile)}' does not exist."
            ) from e
    async with _pooled_session(self).request(
        method, url, headers=headers, params=self.combine_parameters(kwargs), compress=compress,
        ssl=sslcontext, **kwargs,
    ) as response:
        if response.status >= 400:
            raise ClientResponseError(response.status, response.reason, await response.content.read())
        try:
            return await response.json()
        except ContentTypeError:
            return None


async def close_sessions() -> None:
    """Close the kept sessions of the running event loop (at server stop)."""
    import asyncio

    loop = asyncio.get_running_loop()
    for session in list(_sessions):
        if session.closed or session._loop is not loop:  # aiohttp keeps no public accessor
            continue
        await session.close()
        _sessions.remove(session)


async def parse_message(self, message: Any, tracker: Any = None, only_output_properties: bool = True) -> Dict[Text, Any]:
    """``MessageProcessor.parse_message``, with the question's sentence vector computed first
    on a worker thread (``bot.components.query_vectors``), then Rasa's own."""
    from rasa.core.processor import MessageProcessor

    from bot import rasa_speedups
    from bot.components import query_vectors

    await query_vectors.prefetch(getattr(message, "text", None))
    rasa_parse_message = rasa_speedups.original(MessageProcessor, "parse_message")
    return await rasa_parse_message(self, message, tracker, only_output_properties)
