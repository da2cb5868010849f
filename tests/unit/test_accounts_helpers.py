"""Pure helpers of the accounts side: cursors, limit settings, SMTP URLs, roles."""

from __future__ import annotations

import pytest

from server import cursor
from server.deps import CurrentUser
from server.errors import ValidationFailed
from server.guards import has_role, requires_role
from server.mail import smtp_options
from server.settings import Limit, from_env, parse_limit


def test_keyset_cursors_round_trip_and_refuse_tampering():
    token = cursor.encode("k", "sessions", [123456789])
    assert cursor.decode_id("k", "sessions", token) == 123456789
    assert cursor.decode_id("k", "sessions", None) is None
    # The old unsigned ``id:<n>`` cursors ("aWQ6NQ" is "id:5") are refused like any forgery.
    for bad in ("%%%", "aWQ6eA", "aWQ6NQ", "eDox", token[:-1] + "!", cursor.encode("k", "audit", [5])):
        with pytest.raises(ValidationFailed):
            cursor.decode_id("k", "sessions", bad)
    assert cursor.next_id("k", "sessions", [3, 2, 1], 2) == cursor.encode("k", "sessions", [2])
    assert cursor.next_id("k", "sessions", [3, 2], 2) is None


def test_rate_limits_come_from_the_environment():
    settings = from_env({"SECRET_KEY": "k", "RATE_LIMIT_LOGIN_IP": "3/60", "RATE_LIMIT_RESET_ACCOUNT": "1/10"})
    assert settings.rate_limits.login_ip == Limit(3, 60)
    assert settings.rate_limits.reset_account == Limit(1, 10)
    assert settings.rate_limits.register_ip == Limit(100, 3600)
    for bad in ("0/60", "5", "a/b", "5/-1"):
        with pytest.raises(ValueError):
            parse_limit(bad)


def test_smtp_urls():
    plain = smtp_options("smtp://user:p%40ss@mail.example:2525")
    assert plain["hostname"] == "mail.example" and plain["port"] == 2525
    assert plain["username"] == "user" and plain["password"] == "p@ss" and plain["use_tls"] is False
    tls = smtp_options("smtps://mail.example")
    assert tls["port"] == 465 and tls["use_tls"] is True
    with pytest.raises(ValueError):
        smtp_options("http://mail.example")


def test_roles():
    admin, mod, user = (CurrentUser(1, 1, "admin"), CurrentUser(2, 2, "moderator"), CurrentUser(3, 3, "user"))
    assert has_role(admin, "moderator") and has_role(mod, "moderator") and not has_role(user, "moderator")
    assert has_role(user, "user", "creator")
    with pytest.raises(ValueError):
        requires_role("emperor")


def test_capability_guard_rule_admits_enrolled_users_and_admins_only():
    from server.deps import CurrentUser
    from server.guards import has_capability

    creator = CurrentUser(1, 1, "creator", ("creator",))
    both = CurrentUser(2, 2, "advertiser", ("advertiser", "creator"))
    moderator = CurrentUser(3, 3, "moderator")
    admin = CurrentUser(4, 4, "admin")
    assert has_capability(creator, "creator") and not has_capability(creator, "advertiser")
    assert has_capability(both, "creator") and has_capability(both, "advertiser")
    assert not has_capability(moderator, "creator")
    assert has_capability(admin, "creator") and has_capability(admin, "advertiser")
