"""Staff accounts and log-in sessions of the console, in the project's database (bot/db.py).

Passwords are hashed with scrypt and a per-user random salt, and compared in constant
time. Sessions live server-side: the browser only holds a random token (HttpOnly,
SameSite=Strict cookie); the database keeps its SHA-256, so a copy of the database does
not let anyone log in. A session expires after a period without activity and, at the
latest, :data:`MAX_SESSION_HOURS` after log-in.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets
import threading
import unicodedata
from dataclasses import dataclass
from enum import Enum
from typing import Callable

from bot.db import Database, Migration, migrate
from bot.errors import MadoguchiError

MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 256
MAX_SESSION_HOURS = 12  # a log-in never lasts longer than a working day
SCRYPT_COST = 2**14  # scrypt's n: 16 MiB and about 50–150 ms per check
_SCRYPT = {"n": SCRYPT_COST, "r": 8, "p": 1}
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
MAX_DISPLAY_NAME_CHARS = 20


class Role(str, Enum):
    STAFF = "staff"  # claims, replies, hands back, closes, answers tickets
    ADMIN = "admin"  # also sees the audit log


class AccountError(MadoguchiError):
    """An account cannot be created or changed as asked."""


@dataclass(frozen=True)
class StaffAccount:
    username: str
    display_name: str  # shown to residents with staff replies (e.g. 「田中」)
    role: str
    disabled: bool
    created_at: str
    password_changed_at: str

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN.value


@dataclass(frozen=True)
class Session:
    username: str
    csrf_token: str
    created_at: str
    expires_at: str


def _create_tables(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS staff (
            username TEXT PRIMARY KEY,
            display_name TEXT NOT NULL,
            role TEXT NOT NULL,
            password_hash TEXT NOT NULL,
            disabled INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            password_changed_at TEXT NOT NULL
        )"""
    )
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS staff_sessions (
            token_hash TEXT PRIMARY KEY,
            username TEXT NOT NULL REFERENCES staff(username) ON DELETE CASCADE,
            csrf_token TEXT NOT NULL,
            created_at TEXT NOT NULL,
            last_seen_at TEXT NOT NULL,
            expires_at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX IF NOT EXISTS staff_sessions_user ON staff_sessions(username)")


MIGRATIONS = [Migration("console-0001-staff-and-sessions", _create_tables, "staff accounts and log-in sessions")]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, salt: bytes | None = None) -> str:
    """``scrypt$n$r$p$salt$hash`` (base64), with a fresh 16-byte salt unless given."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str) -> bool:
    """True when ``password`` matches ``encoded`` (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


_DUMMY_HASH = None


def _dummy_hash() -> str:
    # Checked against when the user does not exist, so that the answer takes as long.
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
    return _DUMMY_HASH


def check_password_rules(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_CHARS:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_CHARS} characters",
                           hint="use a passphrase of several words")
    if len(password) > MAX_PASSWORD_CHARS:
        raise AccountError(f"the password must have at most {MAX_PASSWORD_CHARS} characters")
    if any(unicodedata.category(c).startswith("C") for c in password):
        raise AccountError("the password must not contain control characters")


def check_username(username: str) -> str:
    if not isinstance(username, str) or not _USERNAME.match(username):
        raise AccountError(
            f"user name {username!r} is not allowed",
            hint="use 2–32 lower-case letters, digits, '.', '_' or '-', e.g. tanaka.h",
        )
    return username


def check_display_name(name: str) -> str:
    name = unicodedata.normalize("NFC", (name or "").strip())
    if not name or len(name) > MAX_DISPLAY_NAME_CHARS or any(unicodedata.category(c).startswith("C") for c in name):
        raise AccountError(
            f"the display name must have 1–{MAX_DISPLAY_NAME_CHARS} characters without control characters; got {name!r}",
            hint="residents see it with your replies, e.g. 田中",
        )
    return name


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


_ACCOUNT_COLUMNS = "username, display_name, role, disabled, created_at, password_changed_at"


def _account(row) -> StaffAccount:
    username, display_name, role, disabled, created_at, changed = row
    return StaffAccount(username, display_name, role, bool(disabled), created_at, changed)


class StaffAccounts:
    """Accounts and sessions over the project's database.

    Args:
        db: the embedded database (``bot.db.open_database``); migrations run here.
        clock: returns the current UTC time (tests pass a fake clock).
    """

    def __init__(self, db: Database, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.db = db
        self._clock = clock or (lambda: dt.datetime.now(dt.timezone.utc))
        self._lock = threading.RLock()
        with self._lock:
            migrate(db, MIGRATIONS)

    def _now(self) -> dt.datetime:
        return self._clock()

    # ------------------------------------------------------------------ accounts
    def add(self, username: str, display_name: str, password: str, role: str = Role.STAFF.value) -> StaffAccount:
        """Create an account. Raises :class:`AccountError` if it exists or a value is not allowed."""
        check_username(username)
        display_name = check_display_name(display_name)
        check_password_rules(password)
        if role not in {r.value for r in Role}:
            raise AccountError(f"unknown role {role!r}", hint="use staff or admin")
        now = _iso(self._now())
        with self._lock:
            if self.get(username) is not None:
                raise AccountError(f"the account {username!r} already exists", hint="use `bot staff passwd` to reset its password")
            self.db.execute(
                "INSERT INTO staff (username, display_name, role, password_hash, disabled, created_at, password_changed_at) "
                "VALUES (?, ?, ?, ?, 0, ?, ?)",
                (username, display_name, role, hash_password(password), now, now),
            )
        return self.get(username)  # type: ignore[return-value]

    def get(self, username: str) -> StaffAccount | None:
        with self._lock:
            row = self.db.execute(f"SELECT {_ACCOUNT_COLUMNS} FROM staff WHERE username = ?", (username,)).fetchone()
        return _account(row) if row else None

    def list(self) -> list[StaffAccount]:
        with self._lock:
            rows = self.db.execute(f"SELECT {_ACCOUNT_COLUMNS} FROM staff ORDER BY username").fetchall()
        return [_account(r) for r in rows]

    def display_names(self) -> dict[str, str]:
        """User name → display name of every account."""
        with self._lock:
            return dict(self.db.execute("SELECT username, display_name FROM staff").fetchall())

    def _require(self, username: str) -> StaffAccount:
        found = self.get(username)
        if found is None:
            raise AccountError(f"no account {username!r}", hint="list the accounts with `bot staff list`")
        return found

    def set_password(self, username: str, password: str) -> None:
        """Reset the password; the account's open sessions end."""
        self._require(username)
        check_password_rules(password)
        with self._lock:
            self.db.execute("UPDATE staff SET password_hash = ?, password_changed_at = ? WHERE username = ?",
                                 (hash_password(password), _iso(self._now()), username))
            self.end_sessions_of(username)

    def set_disabled(self, username: str, disabled: bool = True) -> None:
        """Disable (or enable again) an account; disabling ends its sessions at once."""
        self._require(username)
        with self._lock:
            self.db.execute("UPDATE staff SET disabled = ? WHERE username = ?", (int(disabled), username))
            if disabled:
                self.end_sessions_of(username)

    def authenticate(self, username: str, password: str) -> StaffAccount | None:
        """The account when the password is right and it is not disabled, else None.

        Takes about as long whether or not the account exists.
        """
        with self._lock:
            row = self.db.execute("SELECT password_hash FROM staff WHERE username = ?", (username,)).fetchone()
        encoded = row[0] if row else _dummy_hash()
        ok = verify_password(password if isinstance(password, str) else "", encoded)
        if not ok or row is None:
            return None
        account = self.get(username)
        return account if account is not None and not account.disabled else None

    # ------------------------------------------------------------------ sessions
    def create_session(self, username: str, idle_minutes: int) -> tuple[str, Session]:
        """Start a session; returns the secret token for the cookie and the session."""
        token = secrets.token_urlsafe(32)
        now = self._now()
        expires = min(now + dt.timedelta(minutes=idle_minutes), now + dt.timedelta(hours=MAX_SESSION_HOURS))
        session = Session(username, secrets.token_urlsafe(32), _iso(now), _iso(expires))
        with self._lock:
            self.db.execute(
                "INSERT INTO staff_sessions (token_hash, username, csrf_token, created_at, last_seen_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (_token_hash(token), username, session.csrf_token, session.created_at, session.created_at, session.expires_at),
            )
        return token, session

    def session(self, token: str | None, idle_minutes: int, touch: bool = True) -> tuple[Session, StaffAccount] | None:
        """The live session and its account for a cookie token, or None.

        With ``touch``, the idle expiry moves forward (never past :data:`MAX_SESSION_HOURS`).
        """
        if not token or len(token) > 200:
            return None
        key = _token_hash(token)
        now = self._now()
        with self._lock:
            row = self.db.execute(
                "SELECT username, csrf_token, created_at, expires_at FROM staff_sessions WHERE token_hash = ?", (key,)
            ).fetchone()
            if row is None:
                return None
            username, csrf, created_at, expires_at = row
            if expires_at <= _iso(now):
                self.db.execute("DELETE FROM staff_sessions WHERE token_hash = ?", (key,))
                return None
            account = self.get(username)
            if account is None or account.disabled:
                return None
            if touch:
                hard_limit = dt.datetime.fromisoformat(created_at) + dt.timedelta(hours=MAX_SESSION_HOURS)
                expires_at = _iso(min(now + dt.timedelta(minutes=idle_minutes), hard_limit))
                self.db.execute("UPDATE staff_sessions SET last_seen_at = ?, expires_at = ? WHERE token_hash = ?",
                                     (_iso(now), expires_at, key))
        return Session(username, csrf, created_at, expires_at), account

    def end_session(self, token: str | None) -> None:
        if token:
            with self._lock:
                self.db.execute("DELETE FROM staff_sessions WHERE token_hash = ?", (_token_hash(token),))

    def end_sessions_of(self, username: str) -> None:
        with self._lock:
            self.db.execute("DELETE FROM staff_sessions WHERE username = ?", (username,))

    def purge_expired_sessions(self) -> int:
        with self._lock:
            cur = self.db.execute("DELETE FROM staff_sessions WHERE expires_at <= ?", (_iso(self._now()),))
        return cur.rowcount
