"""Server-sent events, both ways: read an upstream's stream as it arrives, write events to ours.

Generic on purpose (no chat, TGI or Gradio knowledge here), so every streaming client shares it.
Sending, reading and the deadline are the transport's (:class:`shared.upstreams.transport.Exchange`);
this module only gives the bytes meaning:

- :func:`iter_events` parses chunks incrementally into :class:`Event` objects (:func:`events`
  for an open exchange);
- :func:`relay` re-sends an upstream stream to our client event by event, ending cleanly on a
  final event, turning failures into a last ``event: error``, and dropping the upstream when our
  client goes away; a token split across events is redacted too (:mod:`shared.upstreams.stream_redaction`).
- :func:`encode` / :func:`encode_error` / :data:`DONE_EVENT` write events for the browser.

Parsing follows the WHATWG event-stream rules (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation):
lines end in LF, CRLF or CR; a line starting with ``:`` is a comment; ``field:value`` loses ONE
leading space from the value, so ``data:{`` (TGI's style) and ``data: {`` (OpenAI's) both work;
several ``data`` lines join with ``\\n``; a blank line dispatches the event.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from shared import errors, redaction
from shared.upstreams.call import EVENT_STREAM, UpstreamCall
from shared.upstreams.stream_redaction import StreamRedactor
from shared.upstreams.transport import Exchange

DONE = "[DONE]"  # the OpenAI-style end marker the HF router sends as the last data line
DONE_EVENT = b"data: [DONE]\n\n"
_MAX_LINE = 1024 * 1024  # a single line longer than this is not an event we relay


_UNREAD: Any = object()


@dataclass
class Event:
    data: str
    event: str = "message"
    id: str | None = None
    _json: Any = field(default=_UNREAD, repr=False, compare=False)

    def json(self) -> Any:
        """The data as JSON, or None when it is not JSON (e.g. ``[DONE]``). Parsed once: the error
        check, the usage count, the final-event test and the redaction all read the same value."""
        if self._json is _UNREAD:
            try:
                self._json = json.loads(self.data)
            except (ValueError, RecursionError):
                self._json = None
        return self._json


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
    out = "\n".join(lines) + "\n\n"
    try:
        return out.encode()
    except UnicodeEncodeError:  # a lone surrogate (half an emoji) becomes U+FFFD, as in shared.http.json_bytes
        return redaction.well_formed(out).encode()


def encode_error(error: errors.ProxyError, shape: str = "envelope") -> bytes:
    """The final event of a stream that failed after its 200 was sent, in the route's error shape
    (:meth:`shared.envelope.ProxyError.stream_event_body`)."""
    return encode(error.stream_event_body(shape), event="error")


def is_event_stream(exchange: Exchange) -> bool:
    return exchange.media_type == EVENT_STREAM


def events(exchange: Exchange) -> Iterator[Event]:
    """The events of an open exchange, each as soon as it is complete."""
    return iter_events(exchange.chunks())


def relay(
    stream: Exchange,
    call: UpstreamCall,
    *,
    is_final: Callable[[Event], bool],
    error_of: Callable[[Event], errors.ProxyError | None],
    final_required: bool = True,
    convert: Callable[[Event], Iterable[Any]] | None = None,
    drop: Callable[[Event], bool] | None = None,
    error_event: Callable[[errors.ProxyError], bytes] | None = None,
) -> Iterator[bytes]:
    """Re-send the upstream's events to our client one by one, as they arrive.

    Ends after the event ``is_final`` accepts (the router's ``[DONE]``, TGI's last token). An
    in-band error (``error_of``), a network fault, the deadline, or an upstream that stops before
    its final event (when ``final_required``) become one last ``event: error`` with our envelope.
    When our client goes away, the server closes this generator: the upstream connection is
    dropped at once, so the model stops generating for nobody. Events are re-encoded (one
    ``data:`` per line, token redacted) rather than copied, so nothing else of the upstream leaks.
    ``convert`` turns each upstream event into the data of zero or more events of another shape
    (the /api/generate fallback answers chat chunks as text-generation tokens); ``drop`` leaves
    out events our client did not ask for (a usage chunk the proxy asked for itself). The tokens
    an event says were generated are kept on the call (spend settlement). ``error_event`` writes
    the last event of a failed stream (default: :func:`encode_error` in the path's error shape;
    the Responses API numbers its events: :mod:`shared.upstreams.responses_stream`).
    """
    outcome, code, token = "done", None, call.token
    redactor = StreamRedactor(token)  # a token split across events is redacted too
    try:
        try:
            for event in events(stream):
                failure = error_of(event)
                if failure is not None:
                    raise failure
                if '"usage"' in event.data or '"generated_tokens"' in event.data:
                    call.count_usage(event.json())
                if drop is not None and drop(event):
                    pass
                elif convert is None:
                    call.relayed += 1
                    yield encode(redactor.data(event.data, event.json()), _event_name(event, token))
                for data in convert(event) if convert is not None else ():
                    call.relayed += 1
                    yield encode(redactor.data(json.dumps(data, ensure_ascii=False)))
                if is_final(event):
                    return
            if final_required:
                raise errors.upstream_stream_interrupted()
        except errors.ProxyError as exc:
            outcome, code = "error", exc.code
            yield error_event(exc) if error_event is not None else encode_error(exc, call.error_shape)
    except GeneratorExit:
        outcome = "client_gone"
        raise
    finally:
        call.stream_ended(outcome, code)
        stream.close()


def _event_name(event: Event, token: str) -> str | None:
    return None if event.event == "message" else redaction.redact_text(event.event, token)
