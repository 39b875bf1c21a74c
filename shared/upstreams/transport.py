"""The one HTTP path to every upstream: a pooled session, explicit timeouts, the deadline.

One ``requests.Session`` per warm process, so a warm function reuses its TCP/TLS connection.
Only headers we build go upstream: the caller's Authorization, Cookie, Host and X-Forwarded-*
are never copied (a forwarded X-Forwarded-Host is suspected of router 404s, gpt-load #430).
Network faults become :class:`ProxyError` here, so no route sees a ``requests`` exception.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from shared import __version__, errors
from shared.deadline import Deadline
from shared.settings import Settings

USER_AGENT = f"hfproxy/{__version__}"
_session = None


def session():
    """The process-wide session, created on first use (``requests`` is not imported before)."""
    global _session
    if _session is None:
        import requests

        _session = requests.Session()
        _session.trust_env = False  # no ~/.netrc auth or proxy variables leaking into upstream calls
        _session.headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"}
    return _session


def reset_session() -> None:
    global _session
    if _session is not None:
        _session.close()
    _session = None


@dataclass
class UpstreamResponse:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes
    elapsed_ms: float

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            raise errors.upstream_bad_response() from None


def timeouts(settings: Settings, deadline: Deadline) -> tuple[float, float]:
    """(connect, read) timeouts that never outlive the request's deadline."""
    remaining = deadline.remaining()
    if remaining <= 0.05:
        raise errors.upstream_timeout()
    return min(settings.connect_timeout, remaining), min(settings.read_timeout, remaining)


def request(
    method: str,
    url: str,
    *,
    token: str,
    settings: Settings,
    deadline: Deadline,
    json_body: Any = None,
    accept: str = "application/json",
) -> UpstreamResponse:
    """Send one request and read the whole answer before the deadline, or raise a ProxyError."""
    import requests

    headers = {"Authorization": f"Bearer {token}", "Accept": accept}
    started = time.perf_counter()
    try:
        resp = session().request(
            method,
            url,
            json=json_body,
            headers=headers,
            timeout=timeouts(settings, deadline),
            stream=True,
            allow_redirects=False,
        )
        with resp:
            body = _read_capped(resp, settings.max_upstream_bytes, deadline)
    except requests.exceptions.ConnectTimeout:
        raise errors.upstream_timeout() from None
    except requests.exceptions.ReadTimeout:
        raise errors.upstream_timeout() from None
    except requests.exceptions.RequestException:  # refused, DNS, reset, truncated body
        raise errors.upstream_unreachable() from None
    elapsed_ms = (time.perf_counter() - started) * 1000
    lowered = {k.lower(): v for k, v in resp.headers.items()}
    return UpstreamResponse(resp.status_code, lowered, body, elapsed_ms)


def _read_capped(resp, limit: int, deadline: Deadline) -> bytes:
    chunks, size = [], 0
    for chunk in resp.iter_content(65536):
        size += len(chunk)
        if size > limit:
            raise errors.ProxyError(502, "upstream_too_large", "The upstream answer was larger than the proxy accepts.")
        if deadline.expired():
            raise errors.upstream_timeout()
        chunks.append(chunk)
    return b"".join(chunks)


def retry_after_seconds(headers: dict[str, str], default: int) -> int:
    raw = headers.get("retry-after", "").strip()
    if raw.isdigit():
        return max(1, min(int(raw), 3600))
    return default


def safe_upstream_message(body: bytes, token: str, limit: int = 300) -> str | None:
    """The upstream's own error sentence, when it is a plain string: redacted, trimmed, printable."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    message = data.get("error") if isinstance(data, dict) else None
    if isinstance(message, list):
        message = "; ".join(str(m) for m in message if isinstance(m, str))
    if not isinstance(message, str) or not message:
        return None
    message = redact(message, token)
    message = "".join(ch if ch.isprintable() else " " for ch in message)
    return message[:limit].strip() or None


def redact(text: str, token: str) -> str:
    if token and token in text:
        text = text.replace(token, "[redacted]")
    return text


class UpstreamStream:
    """An answer being read: status and headers now, the body line by line within the deadline."""

    def __init__(self, resp, settings: Settings, deadline: Deadline, read_timeout: float) -> None:
        self.status = resp.status_code
        self.headers = {k.lower(): v for k, v in resp.headers.items()}
        self._resp, self._settings, self._deadline = resp, settings, deadline
        self._read_timeout = read_timeout

    def _chunks(self):
        """Raw chunks as they arrive. Each socket read waits at most until the deadline: a
        per-read timeout alone would let a heartbeat every 15 s keep the stream open forever."""
        import urllib3

        raw, size = self._resp.raw, 0
        while True:
            remaining = self._deadline.remaining()
            if remaining <= 0.05:
                raise errors.upstream_timeout()
            sock = getattr(getattr(raw, "connection", None), "sock", None)
            if sock is not None:
                sock.settimeout(min(self._read_timeout, remaining))
            try:
                chunk = raw.read1(65536, decode_content=True)
            except (urllib3.exceptions.ReadTimeoutError, TimeoutError):
                raise errors.upstream_timeout() from None
            except (urllib3.exceptions.HTTPError, OSError):  # reset, truncated chunk, bad gzip
                if self._deadline.expired():
                    raise errors.upstream_timeout() from None
                raise errors.upstream_unreachable() from None
            if not chunk:
                return
            size += len(chunk)
            if size > self._settings.max_upstream_bytes:
                raise errors.ProxyError(
                    502, "upstream_too_large", "The upstream answer was larger than the proxy accepts."
                )
            yield chunk

    def lines(self):
        """Decoded lines without their end-of-line (``\\n``, ``\\r\\n`` or ``\\r``, as SSE allows)."""
        pending = b""
        for chunk in self._chunks():
            pending += chunk
            *complete, pending = pending.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
            for line in complete:
                yield line.decode("utf-8", "replace")
        if pending:
            yield pending.decode("utf-8", "replace")

    def read(self) -> bytes:
        return b"".join(self._chunks())


@contextmanager
def stream(
    method: str,
    url: str,
    *,
    token: str,
    settings: Settings,
    deadline: Deadline,
    read_timeout: float | None = None,
    json_body: Any = None,
    accept: str = "text/event-stream",
) -> Iterator[UpstreamStream]:
    """Like :func:`request`, for answers read while they arrive (server-sent events).

    ``read_timeout`` is the longest silence tolerated between two reads (it must exceed the
    upstream's heartbeat interval); the deadline still bounds the whole exchange.
    """
    import requests

    headers = {"Authorization": f"Bearer {token}", "Accept": accept}
    silence = read_timeout or settings.read_timeout
    try:
        connect, _ = timeouts(settings, deadline)
        resp = session().request(
            method,
            url,
            json=json_body,
            headers=headers,
            timeout=(connect, min(silence, deadline.remaining())),
            stream=True,
            allow_redirects=False,
        )
    except requests.exceptions.Timeout:
        raise errors.upstream_timeout() from None
    except requests.exceptions.RequestException:
        raise errors.upstream_unreachable() from None
    with resp:
        yield UpstreamStream(resp, settings, deadline, silence)
