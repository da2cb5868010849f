"""Time-ordered 64-bit ids (Mastodon-style snowflakes), sent on the wire as strings."""

import os
import random
import threading
import time

_EPOCH_MS = 1_700_000_000_000
_lock = threading.Lock()
_seq = random.randrange(1 << 16)
_pid_bits = (os.getpid() & 0x3F) << 10


def new_id() -> int:
    """A positive bigint that rises with time: 41 bits of ms, 6 of process, 10 of sequence; 7 bits spare."""
    global _seq
    with _lock:
        _seq = (_seq + 1) & 0x3FF
        seq = _seq
    return ((int(time.time() * 1000) - _EPOCH_MS) << 16) | _pid_bits | seq
