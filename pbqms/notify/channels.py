"""The wire formats of the group-chat robots — 群机器人消息格式 — and the one function that calls out.

`post_json` is the only place in PBQMS that opens an outside connection, and only for a webhook an
administrator configured and enabled. Tests replace it (monkeypatch `channels.post_json`), and
`resolve` (the DNS look-up) too.

Where a robot may point — 允许的地址 (`vet`, called when a webhook is saved and again at every send):
only the platforms' own hosts over https on the standard port (PLATFORM_HOSTS: WeCom
qyapi.weixin.qq.com, DingTalk oapi.dingtalk.com, Feishu open.feishu.cn / open.larksuite.com), and
every address the host resolves to must be a public one (no loopback, private, link-local,
unique-local or other special ranges). Hosts listed in settings.PBQMS_ROBOT_HOSTS (an intranet
relay) are accepted for any platform, over http or https, on any port and on internal addresses.
The connection is then made to the very address that was checked (no second look-up a DNS answer
could change in between) and redirects are not followed.

- WeCom (企业微信): POST {"msgtype": "text", "text": {"content": ...}}; no signing.
- DingTalk (钉钉): the same body; with a secret, `timestamp` (ms) and `sign` =
  base64(HMAC-SHA256(key=secret, msg="{timestamp}\\n{secret}")) are added to the query string.
- Feishu (飞书): POST {"msg_type": "text", "content": {"text": ...}}; with a secret, the body also
  carries `timestamp` (s) and `sign` = base64(HMAC-SHA256(key="{timestamp}\\n{secret}", msg="")).
All three answer HTTP 200 with an error code in the JSON body (errcode / code / StatusCode ≠ 0 fails).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import ipaddress
import json
import socket
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, urlsplit

from django.conf import settings

from .models import ChatKind

TIMEOUT = 5  # seconds, per request
# The largest text each platform takes (WeCom: 2048 bytes of UTF-8); longer texts are cut.
MAX_BYTES = {ChatKind.WECOM: 2000, ChatKind.DINGTALK: 18000, ChatKind.FEISHU: 30000}


PLATFORM_HOSTS: dict[str, tuple[str, ...]] = {
    ChatKind.WECOM: ("qyapi.weixin.qq.com",),
    ChatKind.DINGTALK: ("oapi.dingtalk.com",),
    ChatKind.FEISHU: ("open.feishu.cn", "open.larksuite.com"),
}


class ChatError(Exception):
    """The robot refused the message, or could not be reached."""


class AddressRefused(ChatError):
    """The webhook address is not one PBQMS calls. `reason`: scheme, host, port, private, unresolved."""

    def __init__(self, reason: str, host: str) -> None:
        self.reason, self.host = reason, host
        super().__init__(f"address refused ({reason}): {host}")


@dataclass(frozen=True)
class Target:
    """A checked webhook address: where to connect (`addresses`, every one of them allowed)."""

    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]
    configured: bool


def configured_hosts() -> frozenset[str]:
    """settings.PBQMS_ROBOT_HOSTS (a list, or one comma-separated text), in lower case."""
    raw: str | Iterable[str] = getattr(settings, "PBQMS_ROBOT_HOSTS", ()) or ()
    items = raw.split(",") if isinstance(raw, str) else raw
    return frozenset(h.strip().lower().rstrip(".") for h in items if h and h.strip())


def platform_hosts(kind: str | None = None) -> tuple[str, ...]:
    """The platform hosts a robot of `kind` may call (every platform's when `kind` is None)."""
    if kind is not None:
        return PLATFORM_HOSTS.get(kind, ())
    return tuple(h for hosts in PLATFORM_HOSTS.values() for h in hosts)


def resolve(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to (a DNS look-up; tests replace this function)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_public(address: str) -> bool:
    """An internet address: not loopback (127/8, ::1), private (10/8, 172.16/12, 192.168/16,
    fc00::/7), link-local (169.254/16, fe80::/10), shared, reserved or otherwise special."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return bool(ip.is_global) and not ip.is_multicast


def vet(url: str, kind: str | None = None) -> Target:
    """Check a webhook address (see the module's docstring); raise AddressRefused when it may not be called."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise AddressRefused("port", url[:100]) from None
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme not in ("http", "https") or not host:
        raise AddressRefused("scheme", host)
    if parts.username is not None or parts.password is not None:
        raise AddressRefused("host", host)
    configured = host in configured_hosts()
    if not configured:
        if host not in platform_hosts(kind):
            raise AddressRefused("host", host)
        if parts.scheme != "https":
            raise AddressRefused("scheme", host)
        if port not in (None, 443):
            raise AddressRefused("port", host)
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = tuple(resolve(host, port))
    except (OSError, UnicodeError):
        raise AddressRefused("unresolved", host) from None
    if not addresses:
        raise AddressRefused("unresolved", host)
    if not configured and not all(is_public(a) for a in addresses):
        raise AddressRefused("private", host)
    return Target(parts.scheme, host, port, addresses, configured)


class _Pinned:
    """Connect to the checked addresses, in turn, whatever a later DNS look-up would answer."""

    def __init__(self, addresses: tuple[str, ...]) -> None:
        self.addresses = addresses

    def __call__(self, address: tuple[str, int], timeout: Any = None, source_address: Any = None) -> socket.socket:
        error: OSError | None = None
        for ip in self.addresses:
            try:
                return socket.create_connection((ip, address[1]), timeout, source_address)
            except OSError as e:
                error = e
        raise error or OSError("no address to connect to")


def _connection(target: Target, timeout: float) -> http.client.HTTPConnection:
    conn: http.client.HTTPConnection
    if target.scheme == "https":
        conn = http.client.HTTPSConnection(target.host, target.port, timeout=timeout,
                                           context=ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
    conn._create_connection = _Pinned(target.addresses)  # type: ignore[attr-defined]
    return conn


@dataclass
class ChatRequest:
    url: str
    payload: dict[str, Any]


def cut(text: str, max_bytes: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    return data[:max_bytes - 3].decode("utf-8", errors="ignore") + "…"


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def feishu_sign(secret: str, timestamp_s: int) -> str:
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def build_request(kind: str, url: str, text: str, secret: str = "", now: float | None = None) -> ChatRequest:
    """The URL and JSON body one platform expects for a text message."""
    now = time.time() if now is None else now
    text = cut(text, MAX_BYTES.get(ChatKind(kind), 2000))
    if kind == ChatKind.FEISHU:
        payload: dict[str, Any] = {"msg_type": "text", "content": {"text": text}}
        if secret:
            ts = int(now)
            payload = {"timestamp": str(ts), "sign": feishu_sign(secret, ts), **payload}
        return ChatRequest(url, payload)
    payload = {"msgtype": "text", "text": {"content": text}}
    if kind == ChatKind.DINGTALK and secret:
        ts = int(now * 1000)
        url = f"{url}{'&' if '?' in url else '?'}timestamp={ts}&sign={quote_plus(dingtalk_sign(secret, ts))}"
    return ChatRequest(url, payload)


def check_answer(raw: bytes) -> None:
    """Raise ChatError when the platform's JSON answer carries a non-zero error code."""
    try:
        answer = json.loads(raw.decode("utf-8") or "{}")
    except (UnicodeDecodeError, ValueError):
        return  # a gateway answering 200 without JSON: take it as delivered
    if not isinstance(answer, dict):
        return
    for field in ("errcode", "code", "StatusCode"):
        value = answer.get(field)
        if value not in (None, 0, "0"):
            message = answer.get("errmsg") or answer.get("msg") or answer.get("StatusMessage") or ""
            raise ChatError(f"{field} {value}: {message}"[:500])


def post_json(url: str, payload: dict[str, Any], timeout: float = TIMEOUT) -> None:
    """POST `payload` as JSON to `url` (checked by `vet` first, and connected to the checked
    address); raise on a refused address, a network error, an HTTP error, a redirect or a refusal."""
    target = vet(url)
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    conn = _connection(target, timeout)
    try:
        conn.request("POST", path, body=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
                     headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "PBQMS"})
        response = conn.getresponse()
        raw = response.read(65536)
        if not 200 <= response.status < 300:
            raise ChatError(f"HTTP {response.status} {response.reason}"[:500])
        check_answer(raw)
    finally:
        conn.close()


def send(kind: str, url: str, text: str, secret: str = "") -> None:
    """Send one text message to one robot (through the module's current `post_json`), after
    checking that its address is one PBQMS calls (raises AddressRefused otherwise)."""
    vet(url, kind)
    request = build_request(kind, url, text, secret)
    post_json(request.url, request.payload, TIMEOUT)
