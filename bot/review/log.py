"""Short import path for the review log API used by the actions: ``from bot.review.log import ReviewLog``."""

from bot.review.store import NextAction, Outcome, ReviewError, ReviewLog

__all__ = ["NextAction", "Outcome", "ReviewError", "ReviewLog"]
