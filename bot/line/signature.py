"""The ``X-Line-Signature`` header: base64(HMAC-SHA256(channel secret, raw request body))."""

from __future__ import annotations

import base64
import hashlib
import hmac


def sign(channel_secret: str, body: bytes) -> str:
    """The signature LINE sends with ``body`` (what the fake platform and tests use).

    Args:
        channel_secret: The channel secret from the LINE Developers console.
        body: The exact bytes of the request body.

    Returns:
        The base64-encoded HMAC-SHA256 digest.
    """
    digest = hmac.new(channel_secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify(channel_secret: str, body: bytes, signature: str | None) -> bool:
    """Whether ``signature`` was made from ``body`` with ``channel_secret``.

    The comparison is constant-time, so a forger learns nothing from response timing.
    Must run on the raw bytes before the body is parsed.

    Args:
        channel_secret: The channel secret.
        body: The raw request body, unparsed.
        signature: The ``X-Line-Signature`` header value (None when missing).

    Returns:
        True only for a present, well-formed and matching signature.
    """
    if not signature or not channel_secret:
        return False
    try:
        given = base64.b64decode(signature.strip(), validate=True)
    except (ValueError, UnicodeEncodeError):
        return False
    expected = hmac.new(channel_secret.encode("utf-8"), body, hashlib.sha256).digest()
    return hmac.compare_digest(given, expected)
