"""The wire formats of the group-chat robots — 群机器人消息格式 — and the one function that calls out.

`post_json` is the only place in PBQMS that opens an outside connection, and only for a webhook an
administrator configured and enabled. Tests replace it (monkeypatch `channels.post_json`).

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
import json
import time
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, urlsplit

from .models import ChatKind

TIMEOUT = 5  # seconds, per request
# The largest text each platform takes (WeCom: 2048 bytes of UTF-8); longer texts are cut.
MAX_BYTES = {ChatKind.WECOM: 2000, ChatKind.DINGTALK: 18000, ChatKind.FEISHU: 30000}


class ChatError(Exception):
    """The robot refused the message, or could not be reached."""


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
    """POST `payload` as JSON to `url`; raise on a network error, an HTTP error or a refusal."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise ChatError("only http and https webhooks are called")
    request = urllib.request.Request(
        url, data=json.dumps(payload, ensure_ascii=False).encode("utf-8"), method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "PBQMS"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (scheme checked above)
        check_answer(response.read(65536))


def send(kind: str, url: str, text: str, secret: str = "") -> None:
    """Send one text message to one robot (through the module's current `post_json`)."""
    request = build_request(kind, url, text, secret)
    post_json(request.url, request.payload, TIMEOUT)
