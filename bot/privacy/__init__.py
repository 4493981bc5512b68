"""Personal-data protection: masking what residents type before anything stores it."""

from bot.privacy.masking import PLACEHOLDERS, mask_personal_data

__all__ = ["PLACEHOLDERS", "mask_personal_data"]
