"""Minimal typed request/response over raw WSGI: no framework on the cold-start path.

The body is read at most once, capped before it is read (Content-Length) and while it is read
(chunked or lying clients), and parsed strictly: no NaN/Infinity, no duplicate keys.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from shared import adapter, errors

JSON_TYPE = "application/json"
# Sent when a client asked for a stream that this platform cannot deliver (answer is buffered).
STREAMING_UNAVAILABLE = {"X-HFProxy-Streaming": "unavailable"}
# Streaming headers: no proxy buffering (nginx-style proxies honour X-Accel-Buffering), no caching.
EVENT_STREAM_HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache, no-store",
    "X-Accel-Buffering": "no",
}


def json_bytes(payload: Any) -> bytes:
    """Our JSON, compact and always UTF-8: a lone surrogate in any string (a Space's cut-off
    emoji) becomes U+FFFD."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    try:
        return text.encode()
    except UnicodeEncodeError:
        from shared.redaction import well_formed

        return well_formed(text).encode()


def reason(status: int) -> str:
    """The status line's reason phrase: RFC 9110's name for 413 (Python 3.12's is the older
    "Request Entity Too Large": https://www.rfc-editor.org/rfc/rfc9110#status.413), else ``http.HTTPStatus``'s."""
    if status == 413:
        return "Content Too Large"
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # When set, sent chunk by chunk instead of ``body`` (no Content-Length). Its ``close()``, if
    # any, is called when the stream ends or the client goes away.
    stream: Iterable[bytes] | None = None

    @classmethod
    def answer(cls, answer: bytes | Iterable[bytes], request: Request) -> Response:
        """A model upstream's answer (shared.upstreams.plan.Answer): its JSON, or its events."""
        if isinstance(answer, bytes):
            return cls.raw_json(200, answer)
        return cls.event_stream_or_buffered(answer, request)

    @classmethod
    def event_stream(cls, events: Iterable[bytes], headers: dict[str, str] | None = None) -> Response:
        return cls(200, b"", {**EVENT_STREAM_HEADERS, **(headers or {})}, stream=events)

    @classmethod
    def event_stream_or_buffered(
        cls, events: Iterable[bytes], request: Request, headers: dict[str, str] | None = None
    ) -> Response:
        """Stream the events where the adapter can; elsewhere send them all in one buffered body.

        The buffered body is the same ``text/event-stream`` (every event, the final one included),
        marked ``X-HFProxy-Streaming: unavailable``: SDK stream parsers read it unchanged.
        """
        if request.can_stream:
            return cls.event_stream(events, headers)
        try:
            body = b"".join(events)
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                close()
        return cls(200, body, {**EVENT_STREAM_HEADERS, **(headers or {}), **STREAMING_UNAVAILABLE})

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
        return cls.raw_json(status, json_bytes(payload), headers)

    @classmethod
    def raw_json(cls, status: int, body: bytes, headers: dict[str, str] | None = None) -> Response:
        return cls(status, body, {"Content-Type": "application/json", **(headers or {})})

    @classmethod
    def from_error(cls, error: errors.ProxyError, shape: str = "envelope") -> Response:
        return cls.json(error.status, error.body_for(shape), error.headers)


class Request:
    """What a route needs from the WSGI environ. Header names are lower-case."""

    def __init__(self, environ: dict) -> None:
        self.environ = environ
        self.method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO") or "/"
        self.path = path.rstrip("/") or "/"
        self.headers = {
            key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key.startswith("HTTP_")
        }
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                self.headers[key.replace("_", "-").lower()] = environ[key]
        self._body: bytes | None = None

    @property
    def query(self) -> dict[str, str]:
        """The query string's parameters (the last value of a repeated one)."""
        from urllib.parse import parse_qsl

        return dict(parse_qsl(self.environ.get("QUERY_STRING", ""), keep_blank_values=True))

    @property
    def origin(self) -> str | None:
        return self.headers.get("origin")

    @property
    def can_stream(self) -> bool:
        """Whether the adapter can send the body as it is produced (``hfproxy.can_stream``, :mod:`shared.adapter`)."""
        return adapter.can_stream(self.environ)

    @property
    def bytes_read(self) -> int:
        """How many body bytes were read (0 when no route read the body)."""
        return len(self._body or b"")

    def read_body(self, limit: int) -> bytes:
        if self._body is not None:
            return self._body
        declared = self.headers.get("content-length", "").strip()
        if declared:
            if not (declared.isascii() and declared.isdigit()):  # "²".isdigit() is True, int("²") fails
                raise errors.ProxyError(400, "invalid_content_length", "The Content-Length header is not a number.")
            if int(declared) > limit:
                raise errors.body_too_large(limit)
        stream = self.environ.get("wsgi.input")
        # Without Content-Length, read only when the server marks the input terminated (chunked
        # bodies); otherwise reading could block until the client hangs up (PEP 3333, "Input and
        # Error Streams"; werkzeug does the same: https://github.com/pallets/werkzeug/issues/1214).
        if declared:
            to_read = int(declared)
        else:
            to_read = limit + 1 if self.environ.get("wsgi.input_terminated") else 0
        body = stream.read(to_read) if stream is not None and to_read else b""
        if len(body) > limit:
            raise errors.body_too_large(limit)
        self._body = body
        return body

    def json(self, limit: int) -> Any:
        media_type = self.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != JSON_TYPE and not (media_type.startswith("application/") and media_type.endswith("+json")):
            raise errors.unsupported_media_type()
        return parse_json(self.read_body(limit))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise ValueError("duplicate key")
        out[key] = value
    return out


def parse_json(body: bytes) -> Any:
    if not body.strip():
        raise errors.invalid_json("the body is empty")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise errors.invalid_json("it is not UTF-8") from None
    try:
        data = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_no_duplicates)
    except RecursionError:
        raise errors.invalid_json("it is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, int digit limit, duplicate keys, NaN
        reason = (
            "it has a duplicate key"
            if "duplicate key" in str(exc)
            else ("NaN and Infinity are not allowed" if "not allowed" in str(exc) else "check its syntax")
        )
        raise errors.invalid_json(reason) from None
    if "\\u" in text:
        # A "\ud83d" escape with no partner (JavaScript's slice() cut an emoji in half) decodes to a
        # lone surrogate, which no UTF-8 answer or upstream body can hold: it becomes U+FFFD, as
        # the browser's own TextEncoder would do (https://encoding.spec.whatwg.org/#utf-8-encoder).
        from shared.redaction import has_surrogate_escape, well_formed_json

        if has_surrogate_escape(text):
            data = well_formed_json(data)
    return data
