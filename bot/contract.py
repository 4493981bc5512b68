"""What crosses the boundaries between Madoguchi's processes and stores, declared once.

The NLU graph (Rasa server) writes its decision into the parse data under ``PARSE_KEY``;
the actions (action server) read it and log an ``Outcome`` in the review log; the
channels and the widget render replies by ``ReplyType`` (``custom.type``); the staff
console and the review read both back. Every side imports these names from here.
"""

from __future__ import annotations

from enum import Enum
from zoneinfo import ZoneInfo

# The key of the FAQ decision in Rasa's parse data (``latest_message``), written by the
# FaqRetriever component and read by the actions, `bot eval` and the staff console.
PARSE_KEY = "madoguchi"

# Intent names the code relies on (the rest live in data/nlu/ and the domain only).
FAQ_INTENT = "faq"  # a question for the FAQ knowledge base
OUT_OF_SCOPE_INTENT = "out_of_scope"  # off-topic, or about the resident's own case
CHOOSE_FAQ_INTENT = "choose_faq"  # a clarify button: /choose_faq{"faq_id": …}
NONE_OF_THESE_INTENT = "none_of_these"  # 「どれでもない」 under the candidates
REQUEST_HUMAN_INTENT = "request_human"  # 「職員と話したい」

# Japanese municipalities count days, opening hours and figures in Japan time.
LOCAL_TIMEZONE = "Asia/Tokyo"
LOCAL_TZ = ZoneInfo(LOCAL_TIMEZONE)


class ReplyType(str, Enum):
    """The kinds of reply in the reply contract (``custom.type``)."""

    ANSWER = "answer"
    CLARIFY = "clarify"
    CANNOT_ANSWER = "cannot_answer"
    UNCLEAR = "unclear"
    SMALLTALK = "smalltalk"
    HANDOFF = "handoff"
    FEEDBACK = "feedback"
    ERROR = "error"
    LANGUAGE = "language"  # the resident chose a language (bot/i18n)


class Outcome(str, Enum):
    """What the assistant did with a message (the review log's ``outcome``)."""

    ANSWER = "answer"  # one FAQ answered it (logged for the figures, not for review)
    CLARIFY = "clarify"  # candidates offered
    CANNOT_ANSWER = "cannot_answer"  # no FAQ fitted
    UNCLEAR = "unclear"  # nothing to understand
    FEEDBACK_NEGATIVE = "feedback_negative"  # 「役に立たなかった」 after an answer
    HANDOFF_REQUESTED = "handoff_requested"  # the resident asked for a person


# Outcomes where the assistant gave no answer and offered nothing: what `bot eval`
# counts as refusing (cannot-answer precision and recall).
REFUSALS = frozenset({Outcome.CANNOT_ANSWER.value, Outcome.UNCLEAR.value})
# Outcomes of the FAQ decision itself (the others come from the resident's later steps).
DECISIONS = frozenset({Outcome.ANSWER.value, Outcome.CLARIFY.value, Outcome.CANNOT_ANSWER.value, Outcome.UNCLEAR.value})
