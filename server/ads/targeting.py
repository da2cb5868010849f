"""Request-side targeting facts, read from headers without I/O: the client's platform and languages."""

from __future__ import annotations

import re

Target = tuple[str, frozenset[str]]
"""A request's platform and languages: what selection reads of its headers."""

_TARGETS: dict[tuple[str, str], Target] = {}  # a few distinct clients send most requests: parsed once each


def targeting_of(user_agent: str, accept_language: str) -> Target:
    """``(platform_of(user_agent), languages_of(accept_language))``, remembered per header pair."""
    key = (user_agent, accept_language)
    got = _TARGETS.get(key)
    if got is None:
        if len(_TARGETS) >= 4096:  # bounded: any header values may come
            _TARGETS.clear()
        got = _TARGETS[key] = (platform_of(user_agent), languages_of(accept_language))
    return got


_LANG = re.compile(r"^\s*([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*\s*(?:;\s*q\s*=\s*([0-9.]+))?\s*$")


def platform_of(user_agent: str) -> str:
    """``ios``, ``android``, ``web`` or ``other`` from a User-Agent header."""
    ua = user_agent.lower()
    if "android" in ua:  # before "linux" and "mozilla": Android browsers say both
        return "android"
    if any(s in ua for s in ("iphone", "ipad", "ipod", "ios", "cfnetwork")):
        return "ios"
    if "mozilla" in ua:
        return "web"
    return "other"


def languages_of(accept_language: str) -> frozenset[str]:
    """The primary language subtags of an Accept-Language header (q=0 excluded), lower-case."""
    out: set[str] = set()
    for part in accept_language.split(",")[:20]:
        m = _LANG.match(part)
        if m is None:
            continue
        try:
            if m.group(2) is not None and float(m.group(2)) <= 0:
                continue
        except ValueError:
            continue
        out.add(m.group(1).lower())
    return frozenset(out)


def normalize_hashtag(tag: str) -> str:
    """As posts store it: lower-case, without '#'."""
    return tag.lstrip("#").lower()
