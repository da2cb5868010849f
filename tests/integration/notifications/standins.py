"""Local stand-ins for FCM (and its OAuth2 token endpoint), APNs (HTTP/2 over TLS) and a Web Push service.

They speak the real wire formats, record every request, and answer from a per-token script
(``script(token, (status, body, headers), ...)``), else success.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import ssl
import tempfile
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h2.config
import h2.connection
import h2.events
import jwt
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

Reply = tuple[int, Any, dict[str, str]]


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def _pem(key: Any) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@dataclass
class Keys:
    """Everything secret the providers need, made fresh for the session, and files pointing at it."""

    dir: Path
    cert_file: Path = field(init=False)
    key_file: Path = field(init=False)
    fcm_key: rsa.RSAPrivateKey = field(init=False)
    apns_key: ec.EllipticCurvePrivateKey = field(init=False)
    vapid_key: ec.EllipticCurvePrivateKey = field(init=False)

    def __post_init__(self) -> None:
        tls_key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(tls_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            )
            .sign(tls_key, hashes.SHA256())
        )
        self.cert_file = self.dir / "standin.crt"
        self.key_file = self.dir / "standin.key"
        self.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self.key_file.write_bytes(_pem(tls_key))
        self.fcm_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.apns_key = ec.generate_private_key(ec.SECP256R1())
        self.vapid_key = ec.generate_private_key(ec.SECP256R1())
        (self.dir / "apns.p8").write_bytes(_pem(self.apns_key))
        (self.dir / "vapid.pem").write_bytes(_pem(self.vapid_key))

    def server_ssl(self, alpn: list[str]) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert_file, self.key_file)
        ctx.set_alpn_protocols(alpn)
        return ctx


class Scripted:
    """Recorded requests and scripted replies, per key (a device token or a subscription id)."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.replies: dict[str, deque[Reply]] = defaultdict(deque)

    def script(self, key: str, *replies: Reply) -> None:
        self.replies[key].extend(replies)

    def reply(self, key: str, default: Reply) -> Reply:
        return self.replies[key].popleft() if self.replies[key] else default

    def reset(self) -> None:
        self.requests.clear()
        self.replies.clear()


class HTTPStandins(Scripted):
    """FCM's token endpoint and ``messages:send``, and a Web Push service, on one HTTPS (HTTP/1.1) server."""

    PROJECT = "sf-test-project"

    def __init__(self, keys: Keys) -> None:
        super().__init__()
        self.keys = keys
        self.token_requests: list[dict[str, str]] = []
        self.issued: set[str] = set()
        self.port = 0

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def service_account(self) -> dict[str, str]:
        return {
            "type": "service_account",
            "project_id": self.PROJECT,
            "private_key_id": "kid-1",
            "private_key": _pem(self.keys.fcm_key).decode(),
            "client_email": "push@sf-test-project.iam.gserviceaccount.com",
            "token_uri": f"{self.base}/token",
        }

    def reset(self) -> None:
        super().reset()
        self.token_requests.clear()
        self.issued.clear()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        status, payload, extra = self.handle(scope["path"], headers, body)
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        out = [(b"content-type", b"application/json"), *((k.encode(), v.encode()) for k, v in extra.items())]
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body", "body": data})

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> Reply:
        if path == "/token":
            from urllib.parse import parse_qs

            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            self.token_requests.append(form)
            claims = jwt.decode(  # the grant's assertion must be signed by the service account's key
                form["assertion"], self.keys.fcm_key.public_key(), algorithms=["RS256"], audience=f"{self.base}/token"
            )
            assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
            assert claims["scope"] == "https://www.googleapis.com/auth/firebase.messaging"
            token = f"ya29.standin-{len(self.token_requests)}"
            self.issued.add(token)
            return 200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}, {}
        self.requests.append(Recorded(path, headers, body))
        if path == f"/v1/projects/{self.PROJECT}/messages:send":
            if headers.get("authorization", "").removeprefix("Bearer ") not in self.issued:
                return 401, {"error": {"code": 401, "status": "UNAUTHENTICATED"}}, {}
            token = json.loads(body)["message"]["token"]
            return self.reply(token, (200, {"name": f"projects/{self.PROJECT}/messages/1"}, {}))
        if path.startswith("/wp/"):
            return self.reply(path.removeprefix("/wp/"), (201, b"", {}))
        return 404, {"error": "unknown path"}, {}

    async def start(self) -> None:
        config = uvicorn.Config(
            self,
            host="127.0.0.1",
            port=0,
            lifespan="off",
            log_level="warning",
            ssl_certfile=str(self.keys.cert_file),
            ssl_keyfile=str(self.keys.key_file),
        )
        self.server = uvicorn.Server(config)
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            await asyncio.sleep(0.01)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self.server.should_exit = True
        await self.task


class APNsStandin(Scripted):
    """An HTTP/2-over-TLS server (ALPN h2) answering ``POST /3/device/{token}`` like APNs."""

    def __init__(self, keys: Keys) -> None:
        super().__init__()
        self.keys = keys
        self.port = 0

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.keys.server_ssl(["h2"]))
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self.server.close()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert writer.get_extra_info("ssl_object").selected_alpn_protocol() == "h2"
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
        conn.initiate_connection()
        writer.write(conn.data_to_send())
        streams: dict[int, Recorded] = {}
        try:
            while data := await reader.read(65535):
                for event in conn.receive_data(data):
                    if isinstance(event, h2.events.RequestReceived):
                        headers = {str(k): str(v) for k, v in event.headers}
                        streams[event.stream_id] = Recorded(headers[":path"], headers, b"")
                    elif isinstance(event, h2.events.DataReceived):
                        streams[event.stream_id].body += event.data
                        conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                    elif isinstance(event, h2.events.StreamEnded):
                        self._answer(conn, event.stream_id, streams.pop(event.stream_id))
                writer.write(conn.data_to_send())
                await writer.drain()
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    def _answer(self, conn: h2.connection.H2Connection, stream_id: int, request: Recorded) -> None:
        self.requests.append(request)
        token = request.path.rsplit("/", 1)[-1]
        status, payload, extra = self.reply(token, (200, b"", {}))
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = [(":status", str(status)), ("apns-id", "00000000-0000-0000-0000-000000000001"), *extra.items()]
        conn.send_headers(stream_id, headers, end_stream=not body)
        if body:
            conn.send_data(stream_id, body, end_stream=True)


def tmpdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="sf-push-"))
