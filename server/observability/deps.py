"""DI providers of observability: this process's metrics sampler (``None`` while ``METRICS_TOKEN`` is unset)."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import Provide

from server.observability.sampler import Sampler


def provide_sampler(state: State) -> Sampler | None:
    return state.get("metrics_sampler")  # type: ignore[no-any-return]


dependencies = {"metrics_sampler": Provide(provide_sampler, sync_to_thread=False)}
