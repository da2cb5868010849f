"""Passwords are hashed at argon2-cffi's production cost unless ``PASSWORD_HASH_COST`` says otherwise."""

from __future__ import annotations

import pytest

from server import security
from server.settings import PasswordHashing, from_env


def test_a_server_hashes_at_the_production_cost_when_password_hash_cost_is_unset():
    cost = from_env({"SECRET_KEY": "k"}).security.password_hashing
    assert (cost.time_cost, cost.memory_kib, cost.parallelism) == (3, 64 * 1024, 4)  # RFC 9106's low-memory profile
    assert security.hash_password("correct horse battery", cost).startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert security.dummy_password_hash(cost).startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_password_hash_cost_sets_time_memory_and_lanes_and_refuses_what_argon2_cannot_do():
    cost = from_env({"SECRET_KEY": "k", "PASSWORD_HASH_COST": "1,1024,1"}).security.password_hashing
    assert cost == PasswordHashing(time_cost=1, memory_kib=1024, parallelism=1)
    hashed = security.hash_password("correct horse battery", cost)
    assert hashed.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    assert security.verify_password(hashed, "correct horse battery")
    assert not security.verify_password(hashed, "wrong horse battery")
    for bad in ("1,1024", "a,b,c", "0,1024,1", "1,15,2", "1,1024,0"):
        with pytest.raises(ValueError, match="PASSWORD_HASH_COST"):
            from_env({"SECRET_KEY": "k", "PASSWORD_HASH_COST": bad})


def test_serving_below_owasps_argon2_minimum_is_logged_at_start(caplog):
    """An operator who copied the tests' cheap cost into production hears about it in the server's log."""
    from server.__main__ import _warn_weak_password_hashing

    with caplog.at_level("WARNING", logger="server"):
        _warn_weak_password_hashing(from_env({"SECRET_KEY": "k"}))
        _warn_weak_password_hashing(from_env({"SECRET_KEY": "k", "PASSWORD_HASH_COST": "2,19456,1"}))
    assert not caplog.records  # the default and OWASP's own minimum pass quietly
    with caplog.at_level("WARNING", logger="server"):
        _warn_weak_password_hashing(from_env({"SECRET_KEY": "k", "PASSWORD_HASH_COST": "1,1024,1"}))
    assert ["below OWASP" in r.getMessage() for r in caplog.records] == [True]
