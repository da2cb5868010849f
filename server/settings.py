"""Settings: one frozen struct per concern, read from the environment once, by the process entry.

``from_env()`` is called by the entry points only (``server/__main__.py``, ``server/asgi.py``, the bench and
script entries); everything below receives the ``Settings`` object through ``create_app(settings)`` and
``Runtime(settings)``. Nothing else reads the environment for configuration, and nothing caches it: a test
builds its own ``Settings`` (``settings.replace(...)``) instead of editing variables.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from server.ads.config import AdsSettings
from server.ads.config import from_env as _ads
from server.social.config import SocialSettings
from server.social.config import from_env as _social
from server.video.config import VideoSettings
from server.video.config import from_env as _video


class HTTPSettings(msgspec.Struct, frozen=True):
    host: str
    port: int
    workers: int
    allowed_origins: tuple[str, ...]
    max_body_bytes: int = 1 << 20
    cors_origins: tuple[str, ...] = ("*",)
    forwarded_allow_ips: tuple[str, ...] = ()
    """Peers whose ``X-Forwarded-*`` headers are believed (``FORWARDED_ALLOW_IPS``); none by default."""
    #: How long an idle keep-alive connection stays open. Longer than clients' own idle expiry (httpx 5 s,
    #: aiohttp 15 s, load balancers 60 s), so the client is the side that closes an idle connection; see
    #: docs/operations.md ("Keep-alive") for why uvicorn's 5 s default dropped publishers under load.
    keepalive_seconds: int = 75


class DatabaseSettings(msgspec.Struct, frozen=True):
    url: str | None
    """``None`` means an embedded PostgreSQL is started inside ``DATA_DIR``."""
    replica_urls: tuple[str, ...] = ()
    """Streaming replicas for list and feed reads (``server.replicas``); empty: every read on the primary."""
    replica_max_lag: float = 5.0
    """A replica further behind the primary than this (seconds) is skipped."""
    replica_poll: float = 0.5
    """How often each replica's replay position is polled (seconds)."""


class RedisSettings(msgspec.Struct, frozen=True):
    url: str | None
    """``None`` means in-process broker, rate limits and timelines (one process only)."""


class PasswordHashing(msgspec.Struct, frozen=True):
    """argon2id cost of new password hashes; a stored hash carries its own, so verifying needs none of these.

    The defaults are argon2-cffi's (RFC 9106's low-memory profile: 3 passes over 64 MiB, 4 lanes), and they
    are what a server runs with unless ``PASSWORD_HASH_COST`` says otherwise (``from_env``; the test suite sets
    the cheapest cost there for the servers it starts, and in its own settings, so a signed-in test user costs a
    millisecond of CPU instead of about 0.2 s; the code path is the same).
    """

    time_cost: int = 3
    memory_kib: int = 64 * 1024
    parallelism: int = 4


class SecuritySettings(msgspec.Struct, frozen=True):
    secret_key: str
    jwt_algorithm: str = "HS256"
    jwt_issuer: str = "social-flow"
    jwt_audience: str = "social-flow-api"
    access_ttl_seconds: int = 15 * 60
    refresh_ttl_seconds: int = 30 * 24 * 3600
    verify_email_ttl_seconds: int = 24 * 3600
    password_reset_ttl_seconds: int = 3600
    session_cache_seconds: int = 60
    """How long a node trusts its local "session is active" answer when no revocation reached it."""
    password_hashing: PasswordHashing = PasswordHashing()


class RealtimeSettings(msgspec.Struct, frozen=True):
    api_key: str | None
    """Key for ``POST /api/v1/realtime/publish``; ``None`` turns that API off (404)."""
    auth_timeout: float = 10.0
    """Seconds a new socket has to authenticate before it is closed with 4001."""
    expiry_grace: float = 30.0
    """Seconds a socket may outlive its access token (to send a fresh ``auth``) before 4001."""
    max_subscriptions: int = 100
    queue_count: int = 1000
    """A socket's send queue bound in frames; past it (or ``queue_chars``) the socket closes with 4008."""
    queue_chars: int = 4 * 1024 * 1024
    command_rate: float = 20.0
    """Commands per second per socket (burst twice that); abuse closes with 4029."""
    history: tuple[tuple[str, int, int], ...] = ()
    """Per channel kind overrides of history ``(kind, size, ttl_seconds)``."""
    relay_poll: float = 5.0
    """Seconds between outbox polls when no NOTIFY arrives (a fallback only)."""
    presence_ttl: float = 30.0
    """Seconds a node's presence entries outlive its last heartbeat."""


class Limit(msgspec.Struct, frozen=True):
    """At most ``count`` hits per ``seconds`` (a fixed window opened by the first hit)."""

    count: int
    seconds: int


class RateLimitSettings(msgspec.Struct, frozen=True):
    login_ip: Limit = Limit(100, 900)
    login_account: Limit = Limit(10, 900)
    """Failed logins per account (by the login typed), from any IP."""
    register_ip: Limit = Limit(100, 3600)
    twofa_ip: Limit = Limit(50, 300)
    twofa_account: Limit = Limit(10, 300)
    reset_ip: Limit = Limit(20, 3600)
    reset_account: Limit = Limit(5, 3600)
    """Password-reset and verification mails per address or account."""
    export_download_ip: Limit = Limit(30, 600)
    """Refused export downloads (bad, forged, expired or voided links) per client IP; a full window refuses all."""
    # Writes per user (``RATE_LIMIT_WRITE_POSTS=300/3600`` …): far above a person's pace, far below a script's.
    write_posts: Limit = Limit(300, 3600)
    write_comments: Limit = Limit(600, 3600)
    write_edits: Limit = Limit(300, 3600)
    write_likes: Limit = Limit(1000, 3600)
    write_follows: Limit = Limit(400, 3600)
    write_reports: Limit = Limit(60, 3600)
    write_uploads: Limit = Limit(120, 3600)
    write_push_tokens: Limit = Limit(30, 3600)
    write_payments: Limit = Limit(120, 3600)
    """Tips, purchases and subscriptions started (each one creates Stripe objects)."""
    write_moderation: Limit = Limit(600, 3600)
    """A live room owner's bans, unbans and chat deletions."""


def parse_limit(raw: str) -> Limit:
    """``"10/60"`` -> ten per sixty seconds."""
    count, _, seconds = raw.partition("/")
    limit = Limit(int(count), int(seconds))
    if limit.count < 1 or limit.seconds < 1:
        raise ValueError(f"rate limit {raw!r} must be N/SECONDS with both positive")
    return limit


def _rate_limits(env: dict[str, str]) -> RateLimitSettings:
    overrides = {
        field: parse_limit(env[f"RATE_LIMIT_{field.upper()}"])
        for field in RateLimitSettings.__struct_fields__
        if env.get(f"RATE_LIMIT_{field.upper()}")
    }
    return RateLimitSettings(**overrides)


DEFAULT_MAIL_FROM = "Social Flow <no-reply@localhost>"


class MailSettings(msgspec.Struct, frozen=True):
    smtp_url: str | None
    """``smtp://user:pass@host:port`` (``smtps://`` for implicit TLS); ``None`` writes .eml files."""
    from_address: str = DEFAULT_MAIL_FROM


class PushSettings(msgspec.Struct, frozen=True):
    """Push providers and the delivery queue; every URL is configurable so tests use local servers."""

    worker: str = "inprocess"
    """``inprocess``: the server runs the job worker; ``off``: run ``python -m server worker`` yourself."""
    collapse_seconds: float = 10.0
    max_attempts: int = 6
    backoff_base: float = 2.0
    backoff_max: float = 600.0
    tokens_per_user: int = 20
    ca_file: str | None = None
    fcm_credentials_file: str | None = None
    fcm_project_id: str | None = None
    fcm_api_url: str = "https://fcm.googleapis.com"
    apns_key_file: str | None = None
    apns_key_id: str | None = None
    apns_team_id: str | None = None
    apns_topic: str | None = None
    apns_url: str = "https://api.push.apple.com"
    apns_sandbox_url: str = "https://api.sandbox.push.apple.com"
    vapid_private_key_file: str | None = None
    vapid_subject: str = "mailto:admin@localhost"
    digest_after_hours: float = 24.0
    allow_hosts: tuple[str, ...] = ()
    """``host`` or ``host:port`` Web Push endpoints may use even if local (``PUSH_ALLOW_HOSTS``; tests only)."""


class LiveSettings(msgspec.Struct, frozen=True):
    """Live streaming: the media server's hook secret, where publishers and players go, room limits."""

    hook_secret: str | None = None
    """``LIVE_HOOK_SECRET``: the media server sends it (header ``X-Live-Hook-Secret``); unset = hooks answer 404."""
    rtmp_url: str = "rtmp://127.0.0.1:1935/live"
    """Where OBS publishes (the stream key is the stream name)."""
    relay_url: str = "rtmp://127.0.0.1:1935/hls"
    """The media server's internal application, as the media server itself reaches it: an accepted publish
    is pushed there under the stream id."""
    hls_url: str = "http://127.0.0.1:8080/hls"
    """Base of the media server's HLS output; a live stream plays at ``{hls_url}/{stream id}/{token}/index.m3u8``."""
    playback_ttl: int = 4 * 3600
    """Seconds a signed HLS playback URL stays valid (a player past it asks ``GET /live/{id}`` for a new one)."""
    control_url: str | None = None
    """``LIVE_CONTROL_URL``: nginx-rtmp's ``rtmp_control`` location (``http://media:8088/control``); a key
    rotated while live drops the publisher through it. Unset: the publisher stays on air until it stops."""
    recordings_dir: str | None = None
    """Where the media server records (``record_path``); recordings elsewhere are never read."""
    chat_limit: Limit = Limit(5, 10)
    """Chat messages per user per room (fixed window), on top of the socket's own command rate."""
    reaction_interval: float = 0.25
    viewers_interval: float = 1.0
    heartbeat_ttl: float = 30.0
    """Seconds an HLS playback heartbeat counts a viewer."""


class PaymentsSettings(msgspec.Struct, frozen=True):
    """Stripe. Without ``secret_key`` and ``webhook_secret`` every payment endpoint answers 503."""

    secret_key: str | None = None
    webhook_secret: str | None = None
    api_base: str = "https://api.stripe.com"
    fee_bps: int = 1000
    """The platform's fee in basis points of every payment (1000 = 10 %)."""
    currencies: tuple[str, ...] = ("usd", "eur", "gbp")
    min_amount: int = 50
    max_amount: int = 1_000_000
    """Largest single payment or tier price, in minor units."""
    grace_days: float = 3.0
    """How long a ``past_due`` subscription keeps its access."""
    webhook_tolerance: int = 300
    timeout: float = 10.0

    @property
    def enabled(self) -> bool:
        return bool(self.secret_key and self.webhook_secret)


class ObservabilitySettings(msgspec.Struct, frozen=True):
    metrics_token: str | None = None
    """Bearer token for ``/metrics``; ``None`` turns ``/metrics`` off (404)."""
    sample_seconds: float = 5.0
    """How often each process samples sockets, the outbox and the job queue into gauges."""
    otlp_endpoint: str | None = None
    """OTLP/HTTP collector base URL; ``None`` turns tracing off."""
    service_name: str = "social-flow"


class Settings(msgspec.Struct, frozen=True):
    data_dir: Path
    http: HTTPSettings
    database: DatabaseSettings
    redis: RedisSettings
    security: SecuritySettings
    realtime: RealtimeSettings
    mail: MailSettings
    rate_limits: RateLimitSettings = RateLimitSettings()
    push: PushSettings = PushSettings()
    payments: PaymentsSettings = PaymentsSettings()
    public_url: str = "http://127.0.0.1:8000"
    live: LiveSettings = LiveSettings()
    observability: ObservabilitySettings = ObservabilitySettings()
    social: SocialSettings = SocialSettings()
    video: VideoSettings = VideoSettings()
    ads: AdsSettings = AdsSettings()

    def replace(self, **changes: Any) -> Settings:
        """A copy with whole sections (or top-level fields) replaced: ``settings.replace(push=...)``."""
        return msgspec.structs.replace(self, **changes)


def _csv(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def load_secret_key(data_dir: Path) -> str:
    """Return ``SECRET_KEY`` or a key generated once and kept (mode 0600) in ``DATA_DIR``."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL so that two processes starting together agree on one key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def from_env(env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from environment variables (``os.environ`` by default); called by entry points only."""
    env = dict(os.environ if env is None else env)
    data_dir = Path(env.get("DATA_DIR") or "./.data").resolve()
    secret = env.get("SECRET_KEY") or load_secret_key(data_dir)
    host = env.get("HOST") or "127.0.0.1"
    port = int(env.get("PORT") or 8000)
    return Settings(
        data_dir=data_dir,
        http=HTTPSettings(
            host=host,
            port=port,
            workers=int(env.get("WORKERS") or 1),
            allowed_origins=_csv(env.get("ALLOWED_ORIGINS")) or ("*",),
            cors_origins=_csv(env.get("CORS_ORIGINS")) or _csv(env.get("ALLOWED_ORIGINS")) or ("*",),
            max_body_bytes=int(env.get("MAX_BODY_BYTES") or (1 << 20)),
            forwarded_allow_ips=_csv(env.get("FORWARDED_ALLOW_IPS")),
            keepalive_seconds=int(env.get("HTTP_KEEPALIVE_SECONDS") or 75),
        ),
        database=DatabaseSettings(
            url=env.get("DATABASE_URL") or None,
            replica_urls=_csv(env.get("DATABASE_REPLICA_URLS")),
            replica_max_lag=float(env.get("DATABASE_REPLICA_MAX_LAG") or 5.0),
            replica_poll=float(env.get("DATABASE_REPLICA_POLL_SECONDS") or 0.5),
        ),
        redis=RedisSettings(url=env.get("REDIS_URL") or None),
        security=SecuritySettings(secret_key=secret, password_hashing=_password_hashing(env)),
        realtime=_realtime(env),
        mail=MailSettings(
            smtp_url=env.get("SMTP_URL") or None,
            from_address=env.get("MAIL_FROM") or DEFAULT_MAIL_FROM,
        ),
        rate_limits=_rate_limits(env),
        push=_push_settings(env),
        payments=_payments_settings(env),
        public_url=env.get("PUBLIC_URL") or f"http://{host}:{port}",
        live=_live(env),
        observability=ObservabilitySettings(
            metrics_token=env.get("METRICS_TOKEN") or None,
            sample_seconds=float(env.get("METRICS_SAMPLE_SECONDS") or 5.0),
            otlp_endpoint=env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None,
            service_name=env.get("OTEL_SERVICE_NAME") or "social-flow",
        ),
        social=_social(env),
        video=_video(env),
        ads=_ads(env),
    )


def _password_hashing(env: dict[str, str]) -> PasswordHashing:
    """``PASSWORD_HASH_COST=TIME,MEMORY_KIB,PARALLELISM`` (e.g. ``3,65536,4``); unset: the defaults."""
    raw = env.get("PASSWORD_HASH_COST")
    if not raw:
        return PasswordHashing()
    try:
        time_cost, memory_kib, parallelism = (int(part) for part in raw.split(","))
    except ValueError:
        raise ValueError(f"PASSWORD_HASH_COST must be TIME,MEMORY_KIB,PARALLELISM, not {raw!r}") from None
    # argon2's own minimums: one pass, one lane, 8 KiB per lane.
    if time_cost < 1 or parallelism < 1 or memory_kib < 8 * parallelism:
        raise ValueError(f"PASSWORD_HASH_COST {raw!r} is below argon2's minimum (1 pass, 1 lane, 8 KiB a lane)")
    return PasswordHashing(time_cost=time_cost, memory_kib=memory_kib, parallelism=parallelism)


def _live(env: dict[str, str]) -> LiveSettings:
    d = LiveSettings()
    return LiveSettings(
        hook_secret=env.get("LIVE_HOOK_SECRET") or None,
        rtmp_url=env.get("LIVE_RTMP_URL") or d.rtmp_url,
        relay_url=(env.get("LIVE_RELAY_URL") or d.relay_url).rstrip("/"),
        hls_url=(env.get("LIVE_HLS_URL") or d.hls_url).rstrip("/"),
        recordings_dir=env.get("LIVE_RECORDINGS_DIR") or None,
        playback_ttl=int(env.get("LIVE_PLAYBACK_TTL") or d.playback_ttl),
        control_url=(env.get("LIVE_CONTROL_URL") or "").rstrip("/") or None,
        chat_limit=parse_limit(env["LIVE_CHAT_LIMIT"]) if env.get("LIVE_CHAT_LIMIT") else d.chat_limit,
    )


def _payments_settings(env: dict[str, str]) -> PaymentsSettings:
    d = PaymentsSettings()
    return PaymentsSettings(
        secret_key=env.get("STRIPE_SECRET_KEY") or None,
        webhook_secret=env.get("STRIPE_WEBHOOK_SECRET") or None,
        api_base=(env.get("STRIPE_API_BASE") or d.api_base).rstrip("/"),
        fee_bps=int(env.get("PLATFORM_FEE_BPS") or d.fee_bps),
        currencies=_csv((env.get("PAYMENTS_CURRENCIES") or "").lower()) or d.currencies,
        min_amount=int(env.get("PAYMENTS_MIN_AMOUNT") or d.min_amount),
        max_amount=int(env.get("PAYMENTS_MAX_AMOUNT") or d.max_amount),
        grace_days=float(env.get("SUBSCRIPTION_GRACE_DAYS") or d.grace_days),
    )


def _push_settings(env: dict[str, str]) -> PushSettings:
    d = PushSettings()
    return PushSettings(
        worker=env.get("NOTIFY_WORKER") or d.worker,
        collapse_seconds=float(env.get("PUSH_COLLAPSE_SECONDS") or d.collapse_seconds),
        max_attempts=int(env.get("PUSH_MAX_ATTEMPTS") or d.max_attempts),
        backoff_base=float(env.get("PUSH_BACKOFF_BASE") or d.backoff_base),
        backoff_max=float(env.get("PUSH_BACKOFF_MAX") or d.backoff_max),
        tokens_per_user=int(env.get("PUSH_TOKENS_PER_USER") or d.tokens_per_user),
        ca_file=env.get("PUSH_CA_FILE") or None,
        fcm_credentials_file=env.get("FCM_CREDENTIALS_FILE") or None,
        fcm_project_id=env.get("FCM_PROJECT_ID") or None,
        fcm_api_url=(env.get("FCM_API_URL") or d.fcm_api_url).rstrip("/"),
        apns_key_file=env.get("APNS_KEY_FILE") or None,
        apns_key_id=env.get("APNS_KEY_ID") or None,
        apns_team_id=env.get("APNS_TEAM_ID") or None,
        apns_topic=env.get("APNS_TOPIC") or None,
        apns_url=(env.get("APNS_URL") or d.apns_url).rstrip("/"),
        apns_sandbox_url=(env.get("APNS_SANDBOX_URL") or d.apns_sandbox_url).rstrip("/"),
        vapid_private_key_file=env.get("VAPID_PRIVATE_KEY_FILE") or None,
        vapid_subject=env.get("VAPID_SUBJECT") or d.vapid_subject,
        digest_after_hours=float(env.get("DIGEST_AFTER_HOURS") or d.digest_after_hours),
        allow_hosts=tuple(h.lower() for h in _csv(env.get("PUSH_ALLOW_HOSTS"))),
    )


def _history(value: str | None) -> tuple[tuple[str, int, int], ...]:
    """``kind=size/ttl`` pairs, comma separated: ``timeline:public=500/600,user=200/86400``."""
    out = []
    for part in _csv(value):
        kind, _, rest = part.partition("=")
        size, _, ttl = rest.partition("/")
        out.append((kind.strip(), int(size), int(ttl)))
    return tuple(out)


def _realtime(env: dict[str, str]) -> RealtimeSettings:
    def num(name: str, default: float) -> float:
        return float(env.get(name) or default)

    return RealtimeSettings(
        api_key=env.get("REALTIME_API_KEY") or None,
        auth_timeout=num("REALTIME_AUTH_TIMEOUT", 10.0),
        expiry_grace=num("REALTIME_EXPIRY_GRACE", 30.0),
        max_subscriptions=int(num("REALTIME_MAX_SUBSCRIPTIONS", 100)),
        queue_count=int(num("REALTIME_QUEUE_COUNT", 1000)),
        queue_chars=int(num("REALTIME_QUEUE_CHARS", 4 * 1024 * 1024)),
        command_rate=num("REALTIME_COMMAND_RATE", 20.0),
        history=_history(env.get("REALTIME_HISTORY")),
        relay_poll=num("REALTIME_RELAY_POLL", 5.0),
        presence_ttl=num("REALTIME_PRESENCE_TTL", 30.0),
    )
