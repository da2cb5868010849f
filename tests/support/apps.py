"""One Litestar app per settings, reused by test after test, each time with a fresh ``Runtime``.

Building the app (route and dependency registration) costs ~0.25 CPU-s and was about a third of the suite's
CPU when every test built its own; ``server.app.renew_runtime`` gives a reused app new runtime objects
(pools, caches, broker, queue: everything a test could leave state in), so each test still starts as on a
new app. Two apps with the same settings in one test (two nodes) are two leases, never the same object.
"""

from __future__ import annotations

from typing import Any

# Idle apps by their settings, and the ones the running test holds, in this worker process (pytest-xdist
# workers are processes of their own).
_idle: dict[Any, list[Any]] = {}
_leased: list[tuple[Any, Any]] = []


def app_for(settings: Any) -> Any:
    """An app for ``settings`` that nothing else in this test holds, with runtime objects of its own; it goes
    back to the idle ones when the test ends (``release_all``, run by the root conftest)."""
    from server.app import create_app, renew_runtime

    idle = _idle.setdefault(settings, [])
    if idle:
        app = idle.pop()
        renew_runtime(app)
    else:
        app = create_app(settings)
    _leased.append((settings, app))
    return app


def release_all() -> None:
    """End of a test: its apps may serve the next one. An app whose lifespan still runs (a test that left it
    running) is dropped, not reused."""
    while _leased:
        settings, app = _leased.pop()
        if not app.state["current_runtime"].serving:
            _idle[settings].append(app)
