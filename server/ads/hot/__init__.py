"""The hot state of ad delivery (see ``base`` for its guarantees), in Redis or in memory."""

from server.ads.hot.base import Candidate, Charge, HotState, pace_ceiling
from server.ads.hot.memory import MemoryHotState
from server.ads.hot.redis import RedisHotState

__all__ = ["Candidate", "Charge", "HotState", "MemoryHotState", "RedisHotState", "pace_ceiling"]
