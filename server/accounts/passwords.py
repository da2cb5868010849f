"""The common-password list: the most frequent leaked passwords of 10+ characters."""

from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    path = Path(__file__).with_name("common_passwords.txt")
    return frozenset(line.strip().lower() for line in path.read_text().splitlines() if line.strip())


def is_common_password(password: str) -> bool:
    return password.lower() in _common()
