"""A quick, exact validity check of action-server responses against Rasa's JSON schema.

Rasa's schema for a response lists, for every event, a ``oneOf`` of 23 branches, one per
event type. To decide ``oneOf`` jsonschema validates each event against all 23 branches,
which was ~5 % of the Rasa process's CPU per message under load (py-spy). Every branch
requires ``event`` to equal its own constant, and ``event`` is required, so at most the
branch of the event's own type can match: the event is valid exactly when it is valid
against the item schema without ``oneOf`` and against that one branch.

``QuickResponseCheck.is_valid`` uses this and answers True only when the full schema
would; when it cannot tell (an unknown event type, a schema of another shape, an invalid
response) it answers None and the caller validates with the full schema, which also
gives Rasa's error message.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Text


class QuickResponseCheck:
    """Built once from Rasa's action response schema and jsonschema's validator class."""

    def __init__(self, schema: Dict[Text, Any], validator_class: Any) -> None:
        self._ready = False
        events = (schema.get("properties") or {}).get("events")
        if schema.get("type") != "object" or not isinstance(events, dict) or set(events) != {"type", "items"}:
            return
        if events["type"] != "array" or not isinstance(events["items"], dict):
            return
        item = events["items"]
        branches = item.get("oneOf")
        if not isinstance(branches, list) or "event" not in (item.get("required") or []):
            return
        if "$ref" in repr(schema) or "$id" in repr(schema):
            return  # parts validated on their own must not refer to the rest
        by_type: Dict[Text, Any] = {}
        for branch in branches:
            event = ((branch.get("properties") or {}).get("event") or {})
            if set(event) != {"const"} or not isinstance(event["const"], str) or event["const"] in by_type:
                return  # not one distinct constant per branch: the shortcut would not be exact
            by_type[event["const"]] = validator_class(branch)
        rest_of_item = {k: v for k, v in item.items() if k != "oneOf"}
        self._item = validator_class(rest_of_item)
        self._by_type = by_type
        self._top = validator_class({**schema, "properties": {**schema["properties"], "events": {"type": "array"}}})
        self._ready = True

    def is_valid(self, result: Any) -> Optional[bool]:
        """True when the response is valid; None when the full schema has to decide."""
        if not self._ready or not isinstance(result, dict):
            return None
        events = result.get("events", [])
        if not isinstance(events, list) or not self._top.is_valid(result):
            return None
        for event in events:
            kind = event.get("event") if isinstance(event, dict) else None
            branch = self._by_type.get(kind) if isinstance(kind, str) else None
            if branch is None or not self._item.is_valid(event) or not branch.is_valid(event):
                return None
        return True
