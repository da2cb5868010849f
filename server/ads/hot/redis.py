"""The Redis hot state: shared by every process, each operation one atomic Lua script (one round trip).

Keys (under ``prefix``): ``c:{campaign}`` hash of ``spent`` and ``d:{day}`` (thousandths of a minor
unit); ``u:{user}`` hash of per-campaign cap counts and window starts; ``i:{user}`` sorted set of the
user's hashtags by last use; ``t:{nonce}`` a used token; ``pending`` the counts not yet in PostgreSQL;
``b:{key}`` a batch being written and ``batches`` the set of those keys.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import structlog
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError
from redis.exceptions import TimeoutError as RedisTimeoutError

from server.ads.hot.base import Candidate
from server.redis_lane import RedisLane, bulk

log = structlog.get_logger(__name__)

USER_TTL = 30 * 24 * 3600
# A lost lane connection (or one that stopped answering) fails only that attempt: the page's selection is then
# made through redis-py's script call, with its retries, as without a lane. A select whose reply was lost may
# already have reserved its cap slots; the second call then reserves again, which can only serve fewer ads,
# never more than a cap allows (as with redis-py's own retries).
_LANE_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError, TimeoutError)
_LANE_TIMEOUT = 5.0
INTERESTS_KEPT = 200

# KEYS: user caps hash, user interests zset, then one campaign hash per candidate.
# ARGV: now, day, want, pace share ('' = each pace is already the ceiling), then one packed string per candidate
# (fewer arguments to encode and parse): "id|price|budget|pace (-1 none)|cap n|cap seconds|tags csv".
# With a share, the ceiling is ``base.pace_ceiling``: max(floor(pace * share), price), in the same doubles.
_SELECT = """
local now = tonumber(ARGV[1])
local day = 'd:' .. ARGV[2]
local want = tonumber(ARGV[3])
local share = tonumber(ARGV[4])
local out, caps_set = {}, {}
for i = 5, #ARGV do
  local cid, price, budget, pace, capn, caps, tags =
    string.match(ARGV[i], '^(%d+)|(%d+)|(%d+)|(-?%d+)|(%d+)|(%d+)|(.*)$')
  price, budget, pace, capn, caps = tonumber(price), tonumber(budget), tonumber(pace), tonumber(capn), tonumber(caps)
  if share and pace >= 0 then pace = math.max(math.floor(pace * share), price) end
  local st = redis.call('HMGET', KEYS[i - 2], 'spent', day)
  local ok = tonumber(st[1] or '0') + price <= budget and (pace < 0 or tonumber(st[2] or '0') + price <= pace)
  if ok and tags ~= '' then
    ok = false
    for tag in string.gmatch(tags, '[^,]+') do
      if redis.call('ZSCORE', KEYS[2], tag) then ok = true break end
    end
  end
  if ok then
    local u = redis.call('HMGET', KEYS[1], cid, cid .. ':w')
    local count, start = tonumber(u[1] or '0'), tonumber(u[2] or '0')
    if now - start >= caps then count = 0 start = now end
    if count < capn then
      -- Each campaign at most once per call, so the reservations are written together below.
      local n = #caps_set
      caps_set[n + 1], caps_set[n + 2], caps_set[n + 3], caps_set[n + 4] = cid, count + 1, cid .. ':w', start
      out[#out + 1] = cid
      if #out >= want then break end
    end
  end
end
if #out > 0 then
  redis.call('HSET', KEYS[1], unpack(caps_set))
  redis.call('EXPIRE', KEYS[1], 2592000)  -- USER_TTL
end
return out
"""

# KEYS: token mark, campaign hash, pending hash. ARGV: ttl, price, budget, daily (-1 none), day, campaign.
_CHARGE = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
local price, budget, daily = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local day = 'd:' .. ARGV[5]
local st = redis.call('HMGET', KEYS[2], 'spent', day)
local spent, dspent = tonumber(st[1] or '0'), tonumber(st[2] or '0')
if spent + price > budget or (daily >= 0 and dspent + price > daily) then return 2 end
redis.call('HINCRBY', KEYS[2], 'spent', price)
redis.call('HINCRBY', KEYS[2], day, price)
local f = ARGV[6] .. ':' .. ARGV[5]
redis.call('HINCRBY', KEYS[3], f .. ':i', 1)
redis.call('HINCRBY', KEYS[3], f .. ':s', price)
return 1
"""

# KEYS: token mark, pending hash. ARGV: ttl, field prefix "{campaign}:{day}".
_CLICK = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
redis.call('HINCRBY', KEYS[2], ARGV[2] .. ':c', 1)
return 1
"""

# KEYS: pending, the new batch's key, the batch set. ARGV: the new batch's name.
_TAKE = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('RENAME', KEYS[1], KEYS[2])
  redis.call('SADD', KEYS[3], ARGV[1])
end
return redis.call('SMEMBERS', KEYS[3])
"""


class RedisHotState:
    def __init__(self, redis: Any, prefix: str = "{ads}:", lane: RedisLane | None = None) -> None:
        # One hash tag for every key: the scripts touch a user's keys and many campaigns' at once, so on a
        # Redis Cluster all of them live in one slot (one shard holds the ads state; it is small and hot).
        self.redis, self.p = redis, prefix
        # ``select`` runs once per feed page: with a lane (the home read's shared connection, not on a cluster)
        # it goes out as RESP bytes built here, without redis-py's pool checkout, retry wrapper and
        # per-argument encoding (~70 arguments a page: most of the ad slot's CPU). Same script, same reply.
        self.lane = lane
        self._select_sha = hashlib.sha1(_SELECT.encode()).hexdigest().encode()  # noqa: S324 - Redis's script id
        self._resp: dict[Candidate, tuple[bytes, bytes]] = {}  # a candidate's key and argument as RESP bulk strings
        self._select = redis.register_script(_SELECT)
        self._charge = redis.register_script(_CHARGE)
        self._click = redis.register_script(_CLICK)
        self._take = redis.register_script(_TAKE)
        self._seeded: set[tuple[int, str]] = set()  # (campaign, day) pairs this process seeded (see ``seed``)

    async def select(
        self,
        user_id: int,
        now: float,
        day: str,
        want: int,
        candidates: list[Candidate],
        pace_share: float | None = None,
    ) -> list[int]:
        if not candidates:
            return []
        share = "" if pace_share is None else repr(pace_share)  # repr: the exact double, read back by Lua
        if self.lane is not None:
            try:
                async with asyncio.timeout(_LANE_TIMEOUT):
                    return await self._select_on_lane(user_id, now, day, want, candidates, share)
            except _LANE_ERRORS as exc:  # the lane's connection was lost (it reconnects on its next call)
                log.warning("ads_select_lane_failed", error=type(exc).__name__)
        keys = [f"{self.p}u:{user_id}", f"{self.p}i:{user_id}", *(f"{self.p}c:{c.campaign_id}" for c in candidates)]
        args: list[Any] = [int(now), day, want, share]
        args += [_packed(c) for c in candidates]
        got = await self._select(keys=keys, args=args)
        return [int(x) for x in got]

    async def _select_on_lane(
        self, user_id: int, now: float, day: str, want: int, candidates: list[Candidate], share: str
    ) -> list[int]:
        """``select`` as ``EVALSHA`` on the lane (``EVAL`` once if Redis lost its script cache).

        A feed page's candidates are the same objects from page to page (``pace_share`` carries what changes),
        so each one's key and argument are RESP bytes made once and looked up here.
        """
        assert self.lane is not None
        cache = self._resp
        if len(cache) > 50_000:  # bounded: campaigns and their edits come and go
            cache.clear()
        keys = [bulk(f"{self.p}u:{user_id}".encode()), bulk(f"{self.p}i:{user_id}".encode())]
        args = [bulk(b"%d" % int(now)), bulk(day.encode()), bulk(b"%d" % want), bulk(share.encode())]
        for c in candidates:
            resp = cache.get(c)
            if resp is None:
                resp = cache[c] = (bulk(f"{self.p}c:{c.campaign_id}".encode()), bulk(_packed(c).encode()))
            keys.append(resp[0])
            args.append(resp[1])
        tail = [bulk(b"%d" % len(keys)), *keys, *args]
        count = b"*%d\r\n" % (len(tail) + 2)
        try:
            got = await self.lane.execute_packed([count, b"$7\r\nEVALSHA\r\n", bulk(self._select_sha), *tail], 1)
        except NoScriptError:
            got = await self.lane.execute_packed([count, b"$4\r\nEVAL\r\n", bulk(_SELECT.encode()), *tail], 1)
        return [int(x) for x in got[0]]

    async def charge(
        self, nonce: str, ttl: int, campaign_id: int, price: int, budget: int, daily: int, day: str
    ) -> int:
        keys = [f"{self.p}t:{nonce}", f"{self.p}c:{campaign_id}", f"{self.p}pending"]
        return int(await self._charge(keys=keys, args=[ttl, price, budget, daily, day, campaign_id]))

    async def click(self, nonce: str, ttl: int, campaign_id: int, day: str) -> bool:
        keys = [f"{self.p}t:{nonce}", f"{self.p}pending"]
        return int(await self._click(keys=keys, args=[ttl, f"{campaign_id}:{day}"])) == 1

    async def add_interests(self, user_id: int, tags: list[str], now: float) -> None:
        if not tags:
            return
        key = f"{self.p}i:{user_id}"
        pipe = self.redis.pipeline(transaction=False)
        pipe.zadd(key, dict.fromkeys(tags, now))
        pipe.zremrangebyrank(key, 0, -(INTERESTS_KEPT + 1))
        pipe.expire(key, USER_TTL)
        await pipe.execute()

    async def seed(self, rows: list[tuple[int, int, str, int]]) -> None:
        """Seed what this process has not seeded since Redis last lost its data (the ``seeded`` marker is gone).

        The snapshot reloads every few seconds with every active campaign, and re-sending an ``HSETNX`` pair
        for each of them each time (2,000 commands for 1,000 campaigns) was a steady share of the feed worker's
        CPU. The marker goes with the counters when Redis restarts empty or is flushed: then everything is
        seeded again from PostgreSQL, as before.
        """
        if not rows:
            return
        marker = f"{self.p}seeded"
        if not await self.redis.exists(marker):
            self._seeded.clear()
        todo = [r for r in rows if (r[0], r[2]) not in self._seeded]
        if not todo:
            return
        pipe = self.redis.pipeline(transaction=False)
        for campaign_id, spent, day, day_spent in todo:
            pipe.hsetnx(f"{self.p}c:{campaign_id}", "spent", spent)
            pipe.hsetnx(f"{self.p}c:{campaign_id}", f"d:{day}", day_spent)
        pipe.set(marker, 1)
        await pipe.execute()
        if len(self._seeded) > 1_000_000:  # bounded: forgetting only costs a re-seed
            self._seeded.clear()
        self._seeded.update((r[0], r[2]) for r in todo)

    async def take_batches(self, new_key: str) -> list[tuple[str, dict[str, int]]]:
        keys = [f"{self.p}pending", f"{self.p}b:{new_key}", f"{self.p}batches"]
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in await self._take(keys=keys, args=[new_key])]
        out: list[tuple[str, dict[str, int]]] = []
        for name in sorted(names):
            raw = await self.redis.hgetall(f"{self.p}b:{name}")
            out.append((name, {(k.decode() if isinstance(k, bytes) else k): int(v) for k, v in raw.items()}))
        return out

    async def finish_batch(self, key: str) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(f"{self.p}b:{key}")
        pipe.srem(f"{self.p}batches", key)
        await pipe.execute()


def _packed(c: Candidate) -> str:
    """A candidate as ``select``'s script reads it: "id|price|budget|pace|cap n|cap seconds|tags csv"."""
    return (
        f"{c.campaign_id}|{c.price_milli}|{c.budget_milli}|{c.pace_milli}|{c.cap_impressions}|{c.cap_seconds}|"
        + ",".join(c.hashtags)
    )
