"""The review loop: what residents asked and did not get answered, grouped for staff,
turned into FAQ edits, retraining and figures (docs/review.md)."""
