"""``python -m server ledger-check``: prove every ledger transaction balances."""

from __future__ import annotations

import sys

from server.payments import ledger
from server.payments.queries import ledger as ledger_queries


async def ledger_check() -> int:
    """Print what is wrong (exit 1) or a one-line summary (exit 0)."""
    problems = await ledger.check()
    for problem in problems:
        print(f"ledger-check: {problem}", file=sys.stderr)
    if problems:
        return 1
    txns, entries = await ledger_queries.ledger_size()
    print(f"ledger-check: OK ({txns} transactions, {entries} entries, all balanced)")
    return 0
