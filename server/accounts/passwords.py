"""Password checks: the common-password list, and argon2 off the event loop."""

import asyncio
from functools import lru_cache
from pathlib import Path

from server import security
from server.settings import PasswordHashing


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    path = Path(__file__).with_name("common_passwords.txt")
    return frozenset(line.strip().lower() for line in path.read_text().splitlines() if line.strip())


def is_common_password(password: str) -> bool:
    return password.lower() in _common()


# argon2id costs tens of milliseconds of CPU on purpose; in a thread, sockets keep being served meanwhile.
async def hash_password(password: str, cost: PasswordHashing) -> str:
    return await asyncio.to_thread(security.hash_password, password, cost)


async def verify_password(password_hash: str, password: str) -> bool:
    return await asyncio.to_thread(security.verify_password, password_hash, password)
