"""Channel names: the grammar, and the closed vocabulary an application builds from it.

A channel name is ``<kind>`` (a kind that takes no argument) or ``<kind>:<arg>``, where the kind's pattern
matches the argument. ``channels/`` holds no application kinds: the application declares its own as a
``Vocabulary`` (Social Flow's is ``server/realtime/kinds.py``) and gives it to the gateway, which
accepts nothing else. ``RECHECK`` is the layer's own internal channel, never subscribable by clients.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# Argument patterns for the kinds an application declares.
ID = re.compile(r"[1-9][0-9]{0,19}")
"""The decimal string of a positive bigint id."""
TAG = re.compile(r"[^\W]{1,100}", re.UNICODE)
"""Word characters (a hashtag)."""

MAX_NAME_LENGTH = 200
RECHECK = "sys:recheck"
"""Internal control channel (not subscribable by clients): "re-check these subscriptions" on every node."""


class InvalidChannel(ValueError):
    """The name is not in the vocabulary."""


@dataclass(frozen=True, slots=True)
class Channel:
    """A parsed channel name: its ``kind`` and argument ('' when none)."""

    kind: str
    arg: str

    @property
    def name(self) -> str:
        return self.kind if not self.arg else f"{self.kind}:{self.arg}"


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of channel: its name, the pattern of its argument (``None``: it takes none), and whether
    arguments must be lower-case."""

    name: str
    arg: re.Pattern[str] | None
    lower_case: bool = False


class Vocabulary:
    """The closed set of channel kinds an application accepts; fixed when built."""

    def __init__(self, kinds: Iterable[Kind]) -> None:
        self.kinds: dict[str, Kind] = {k.name: k for k in kinds}

    def __contains__(self, kind: object) -> bool:
        return kind in self.kinds

    def parse(self, name: str) -> Channel:
        """Parse ``name`` or raise ``InvalidChannel``."""
        if not isinstance(name, str) or not name or len(name) > MAX_NAME_LENGTH:
            raise InvalidChannel("channel name is empty or too long")
        bare = self.kinds.get(name)
        if bare is not None and bare.arg is None:
            return Channel(name, "")
        kind_name, sep, arg = name.rpartition(":")
        kind = self.kinds.get(kind_name)
        if not sep or kind is None or kind.arg is None or kind.arg.fullmatch(arg) is None:
            raise InvalidChannel(f"unknown channel {name!r}")
        if kind.lower_case and arg != arg.lower():
            raise InvalidChannel(f"{kind_name} channels are lower-case")
        return Channel(kind_name, arg)


_EVENT = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*")


def valid_event(event: str) -> bool:
    """Event names are dotted lower-case words (``post.created``), at most 64 characters."""
    return isinstance(event, str) and len(event) <= 64 and _EVENT.fullmatch(event) is not None
