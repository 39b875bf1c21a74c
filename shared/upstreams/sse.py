"""Server-sent events, both ways: read an upstream's stream as it arrives, write events to ours.

Generic on purpose (no chat, TGI or Gradio knowledge here), so every streaming client shares it:

- :func:`open_stream` sends one request over transport's pooled session and returns an
  :class:`UpstreamStream` as soon as the status line and headers are in; its timeouts are bounded
  by the request's deadline, network faults become ``ProxyError`` as in ``transport.request``.
- :meth:`UpstreamStream.events` parses the body incrementally into :class:`Event` objects;
  :func:`iter_events` does the same for any iterable of byte chunks.
- :func:`relay` re-sends an upstream stream to our client event by event, ending cleanly on a
  final event, turning failures into a last ``event: error``, and dropping the upstream when our
  client goes away.
- :func:`encode` / :func:`encode_error` / :data:`DONE_EVENT` write events for the browser.

Parsing follows the WHATWG event-stream rules (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation):
lines end in LF, CRLF or CR; a line starting with ``:`` is a comment; ``field:value`` loses ONE
leading space from the value, so ``data:{`` (TGI's style) and ``data: {`` (OpenAI's) both work;
several ``data`` lines join with ``\\n``; a blank line dispatches the event.
"""

from __future__ import annotations

import codecs
import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from shared import errors, redaction
from shared.deadline import Deadline
from shared.settings import Settings
from shared.telemetry import RequestRecord
from shared.upstreams import transport
from shared.upstreams.cutoff import watchdog

EVENT_STREAM = "text/event-stream"
DONE = "[DONE]"  # the OpenAI-style end marker the HF router sends as the last data line
DONE_EVENT = b"data: [DONE]\n\n"
_READ_SIZE = 65536
_MAX_LINE = 1024 * 1024  # a single line longer than this is not an event we relay


@dataclass
class Event:
    data: str
    event: str = "message"
    id: str | None = None

    def json(self) -> Any:
        """The data as JSON, or None when it is not JSON (e.g. ``[DONE]``)."""
        try:
            return json.loads(self.data)
        except ValueError:
            return None


@dataclass
class _Pending:
    data: list[str] = field(default_factory=list)
    event: str = ""
    id: str | None = None


def iter_lines(chunks: Iterable[bytes]) -> Iterator[str]:
    """Decode UTF-8 and split on LF, CRLF or CR, yielding each line as soon as it is complete.

    A CR at the end of a chunk may be the first half of a CRLF split across two reads: it is
    held until the next chunk shows whether an LF follows.
    """
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    buffer = ""
    for chunk in chunks:
        buffer += decoder.decode(chunk)
        while True:
            cut = _line_end(buffer)
            if cut is None:
                break
            end, skip = cut
            yield buffer[:end]
            buffer = buffer[end + skip :]
        if len(buffer) > _MAX_LINE:
            raise errors.ProxyError(502, "upstream_bad_response", "The upstream stream sent a line that is too long.")
    buffer += decoder.decode(b"", final=True)
    if buffer:
        yield buffer.rstrip("\r")


def _line_end(buffer: str) -> tuple[int, int] | None:
    lf, cr = buffer.find("\n"), buffer.find("\r")
    if cr == -1 or (lf != -1 and lf < cr):
        return None if lf == -1 else (lf, 1)
    if cr == len(buffer) - 1:  # maybe CRLF split across chunks: wait for more
        return None
    return (cr, 2) if buffer[cr + 1] == "\n" else (cr, 1)


def iter_events(chunks: Iterable[bytes]) -> Iterator[Event]:
    """Events from raw byte chunks, each yielded as soon as its blank line arrives."""
    pending = _Pending()
    for line in iter_lines(chunks):
        if not line:
            if pending.data:
                yield Event("\n".join(pending.data), pending.event or "message", pending.id)
            pending = _Pending()
            continue
        if line.startswith(":"):
            continue  # comment / keep-alive
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            pending.data.append(value)
        elif name == "event":
            pending.event = value
        elif name == "id" and "\0" not in value:
            pending.id = value
    if pending.data:  # the stream ended without the final blank line: still an event
        yield Event("\n".join(pending.data), pending.event or "message", pending.id)


def encode(data: Any, event: str | None = None) -> bytes:
    """One event for our client. ``data`` that is not a str is sent as compact JSON."""
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    lines = [f"event: {event}"] if event else []
    lines += [f"data: {part}" for part in text.split("\n")]
    return ("\n".join(lines) + "\n\n").encode()


def encode_error(error: errors.ProxyError) -> bytes:
    """The final event of a stream that failed after its 200 was sent: our usual error envelope."""
    return encode(error.body(), event="error")


class UpstreamStream:
    """An open upstream response. Iterate :meth:`events` (or :meth:`chunks`); always :meth:`close`."""

    def __init__(self, resp, started: float, deadline: Deadline, read_timeout: float | None = None) -> None:
        self._resp = resp
        self.read_timeout = read_timeout  # the longest silence between two reads (None: as opened)
        self.status: int = resp.status_code
        self.headers: dict[str, str] = {k.lower(): v for k, v in resp.headers.items()}
        self.elapsed_ms = (time.perf_counter() - started) * 1000
        self.deadline = deadline
        self.closed = False
        # Cut at the deadline whatever is being read (events, or a plain body read whole), and
        # whether the body is chunked, sized or ends at close; disarmed by close().
        self._cutoff = watchdog.arm(deadline.expires_at, transport.cut_of(resp.raw))

    @property
    def is_event_stream(self) -> bool:
        return self.headers.get("content-type", "").split(";")[0].strip().lower() == EVENT_STREAM

    def read_body(self, limit: int) -> transport.UpstreamResponse:
        """Read a non-streamed answer (an error, or a server that ignored ``stream``) whole."""
        import requests

        try:
            body = transport._read_capped(self._resp, limit, self.deadline)
        except requests.exceptions.ReadTimeout:
            raise errors.upstream_timeout() from None
        except requests.exceptions.RequestException:
            raise errors.upstream_timeout() if self.deadline.expired() else errors.upstream_unreachable() from None
        finally:
            self.close()
        return transport.UpstreamResponse(self.status, self.headers, body, self.elapsed_ms)

    def chunks(self) -> Iterator[bytes]:
        """Bytes as they arrive (``read1``: whatever one network read gives, chunked or not).

        Raises ``upstream_timeout`` past the deadline and ``upstream_unreachable`` when the
        connection breaks before the stream ends.
        """
        from urllib3.exceptions import HTTPError, ReadTimeoutError

        raw = self._resp.raw
        while True:
            if self.deadline.expired():
                raise errors.upstream_timeout()
            self._bound_next_read()
            try:
                chunk = raw.read1(_READ_SIZE)
            except ReadTimeoutError:
                raise errors.upstream_timeout() from None
            except (HTTPError, OSError, ValueError):  # reset, truncated chunk, closed underneath us
                if self.closed:
                    return
                raise errors.upstream_timeout() if self.deadline.expired() else errors.upstream_unreachable() from None
            if not chunk:
                if self.deadline.expired():  # the watchdog cut the socket: not the upstream's end
                    raise errors.upstream_timeout()
                return
            yield chunk

    def _bound_next_read(self) -> None:
        """Let the next socket read wait no longer than the deadline. A read timeout fixed when the
        stream opened is per read: an upstream that sends a heartbeat every 15 s (Gradio) would
        otherwise keep the stream, and the request, open past its deadline."""
        sock = getattr(getattr(self._resp.raw, "connection", None), "sock", None)
        if sock is None:
            return
        if self.read_timeout is None:
            self.read_timeout = sock.gettimeout()
        limit = self.deadline.remaining()
        sock.settimeout(max(0.01, min(limit, self.read_timeout) if self.read_timeout else limit))

    def events(self) -> Iterator[Event]:
        return iter_events(self.chunks())

    def close(self) -> None:
        """Drop the upstream connection (not returned to the pool: the stream may be unfinished)."""
        if not self.closed:
            self.closed = True
            watchdog.disarm(self._cutoff)
            self._resp.close()


def open_stream(
    method: str,
    url: str,
    *,
    token: str,
    settings: Settings,
    deadline: Deadline,
    json_body: Any = None,
    read_timeout: float | None = None,
) -> UpstreamStream:
    """Send the request and return once the upstream's headers are in; the body is not read yet.

    ``read_timeout`` (default ``UPSTREAM_READ_TIMEOUT``) is the longest silence allowed between
    two reads; it must exceed the upstream's heartbeat interval. The deadline bounds every read.
    """
    import requests

    headers = {"Authorization": f"Bearer {token}", "Accept": f"{EVENT_STREAM}, application/json"}
    headers["Accept-Encoding"] = "identity"  # a compressed stream would be held back by the decoder
    connect, _ = transport.timeouts(settings, deadline)  # raises upstream_timeout when no time is left
    silence = read_timeout or settings.read_timeout
    started = time.perf_counter()
    try:
        with transport.deadline_scope(deadline):
            resp = transport.session().request(
                method,
                url,
                json=json_body,
                headers=headers,
                timeout=(connect, min(silence, deadline.remaining())),
                stream=True,
                allow_redirects=False,
            )
    except (requests.exceptions.ConnectTimeout, requests.exceptions.ReadTimeout):
        raise errors.upstream_timeout() from None
    except requests.exceptions.RequestException:  # also a header phase the watchdog cut off
        raise errors.upstream_timeout() if deadline.expired() else errors.upstream_unreachable() from None
    return UpstreamStream(resp, started, deadline, silence)


def relay(
    stream: UpstreamStream,
    *,
    token: str,
    is_final: Callable[[Event], bool],
    error_of: Callable[[Event], errors.ProxyError | None],
    record: RequestRecord | None = None,
    final_required: bool = True,
    convert: Callable[[Event], Iterable[Any]] | None = None,
) -> Iterator[bytes]:
    """Re-send the upstream's events to our client one by one, as they arrive.

    Ends after the event ``is_final`` accepts (the router's ``[DONE]``, TGI's last token). An
    in-band error (``error_of``), a network fault, the deadline, or an upstream that stops before
    its final event (when ``final_required``) become one last ``event: error`` with our envelope.
    When our client goes away, the server closes this generator: the upstream connection is
    dropped at once, so the model stops generating for nobody. Events are re-encoded (one
    ``data:`` per line, token redacted) rather than copied, so nothing else of the upstream leaks.
    ``convert`` turns each upstream event into the data of zero or more events of another shape
    (the /api/generate fallback answers chat chunks as text-generation tokens).
    """
    outcome = "done"
    try:
        try:
            for event in stream.events():
                failure = error_of(event)
                if failure is not None:
                    raise failure
                if convert is None:
                    yield encode(redaction.redact_event_data(event.data, token), _event_name(event, token))
                for data in convert(event) if convert is not None else ():
                    yield encode(redaction.redact_event_data(json.dumps(data, ensure_ascii=False), token))
                if is_final(event):
                    return
            if final_required:
                raise errors.upstream_stream_interrupted()
        except errors.ProxyError as exc:
            outcome = "error"
            if record is not None:
                record.code = exc.code
            yield encode_error(exc)
    except GeneratorExit:
        outcome = "client_gone"
        raise
    finally:
        if record is not None:
            record.stream_end = outcome
        stream.close()


def redact(text: str, token: str) -> str:
    return redaction.redact_text(text, token)


def _event_name(event: Event, token: str) -> str | None:
    return None if event.event == "message" else redaction.redact_text(event.event, token)
