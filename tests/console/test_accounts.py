"""Staff accounts: password hashing, rules, sessions (on a real SQLite file and a real PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.console import accounts as module
from bot.console.accounts import AccountError, StaffAccounts, hash_password, verify_password
from bot.handoff.store import HandoffStore


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 12, 1, 0, 0, tzinfo=dt.timezone.utc)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def accounts(database_target, clock):
    """Accounts on both backends (tests/conftest.py: a SQLite file, a PostgreSQL schema)."""
    return StaffAccounts(HandoffStore.open(database_target).db, clock=clock)


def test_production_hash_is_scrypt_with_per_user_salt(monkeypatch):
    assert module.SCRYPT_COST == 2**14
    monkeypatch.setitem(module._SCRYPT, "n", module.SCRYPT_COST)  # tests/console/conftest lowers it for speed
    a, b = hash_password("same password here"), hash_password("same password here")
    assert a.startswith("scrypt$16384$8$1$") and a != b  # different salts
    assert verify_password("same password here", a) and verify_password("same password here", b)
    assert not verify_password("same password herE", a)


@pytest.mark.parametrize("encoded", ["", "plain", "scrypt$1$2$3", "bcrypt$16384$8$1$AAAA$AAAA", "scrypt$x$8$1$AA$AA"])
def test_malformed_hashes_never_verify(encoded):
    assert verify_password("anything", encoded) is False


def test_add_get_list_and_password_rules(accounts):
    a = accounts.add("tanaka.h", " 田中 ", "a long enough password", "admin")
    assert (a.username, a.display_name, a.role, a.disabled, a.is_admin) == ("tanaka.h", "田中", "admin", False, True)
    assert [x.username for x in accounts.list()] == ["tanaka.h"]
    with pytest.raises(AccountError, match="already exists"):
        accounts.add("tanaka.h", "田中", "a long enough password")
    with pytest.raises(AccountError, match="at least 10 characters"):
        accounts.add("suzuki", "鈴木", "short")
    with pytest.raises(AccountError, match="not allowed"):
        accounts.add("Suzuki Taro", "鈴木", "a long enough password")
    with pytest.raises(AccountError, match="display name"):
        accounts.add("suzuki", "", "a long enough password")
    with pytest.raises(AccountError, match="display name"):
        accounts.add("suzuki", "名" * 21, "a long enough password")
    with pytest.raises(AccountError, match="unknown role"):
        accounts.add("suzuki", "鈴木", "a long enough password", "root")
    with pytest.raises(AccountError, match="control characters"):
        accounts.add("suzuki", "鈴木", "a long\x00enough password")


def test_password_is_not_stored_in_clear(accounts):
    accounts.add("suzuki", "鈴木", "a long enough password")
    (stored,) = accounts.db.execute("SELECT password_hash FROM staff").fetchone()
    assert "a long enough password" not in stored and stored.startswith("scrypt$")


def test_authenticate(accounts):
    accounts.add("suzuki", "鈴木", "a long enough password")
    assert accounts.authenticate("suzuki", "a long enough password").username == "suzuki"
    assert accounts.authenticate("suzuki", "wrong password!") is None
    assert accounts.authenticate("nobody", "a long enough password") is None
    accounts.set_disabled("suzuki")
    assert accounts.authenticate("suzuki", "a long enough password") is None
    accounts.set_disabled("suzuki", False)
    accounts.set_password("suzuki", "another long password")
    assert accounts.authenticate("suzuki", "a long enough password") is None
    assert accounts.authenticate("suzuki", "another long password") is not None


def test_sessions_expire_when_idle_and_after_twelve_hours(accounts, clock):
    accounts.add("suzuki", "鈴木", "a long enough password")
    token, session = accounts.create_session("suzuki", idle_minutes=60)
    (stored,) = accounts.db.execute("SELECT token_hash FROM staff_sessions").fetchone()
    assert stored != token and len(stored) == 64  # only the hash is stored
    assert accounts.session(token, 60)[1].username == "suzuki"
    clock.now += dt.timedelta(minutes=59)
    assert accounts.session(token, 60, touch=False) is not None
    clock.now += dt.timedelta(minutes=2)
    assert accounts.session(token, 60) is None  # not touched: expired 60 min after the last activity
    token, _ = accounts.create_session("suzuki", idle_minutes=60)
    for _ in range(23):
        clock.now += dt.timedelta(minutes=30)
        assert accounts.session(token, 60) is not None
    clock.now += dt.timedelta(minutes=30)  # 12 hours after log-in
    assert accounts.session(token, 60) is None


def test_session_tokens_and_ending(accounts):
    accounts.add("suzuki", "鈴木", "a long enough password")
    token, session = accounts.create_session("suzuki", 60)
    assert accounts.session(None, 60) is None and accounts.session("", 60) is None
    assert accounts.session("x" * 500, 60) is None and accounts.session(token + "x", 60) is None
    assert accounts.session(token, 60)[0].csrf_token == session.csrf_token
    accounts.end_session(token)
    assert accounts.session(token, 60) is None


def test_purge_expired_sessions(accounts, clock):
    accounts.add("suzuki", "鈴木", "a long enough password")
    accounts.create_session("suzuki", 1)
    accounts.create_session("suzuki", 60)
    clock.now += dt.timedelta(minutes=5)
    assert accounts.purge_expired_sessions() == 1
