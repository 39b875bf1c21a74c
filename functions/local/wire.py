"""HTTP/1.1 framing for the local server: the request body read whole, and refusals as JSON.

The dev server owes a browser and a test client what a platform front end gives the deployed
function: a complete, bounded body (Content-Length or chunked, RFC 9112 section 6:
https://www.rfc-editor.org/rfc/rfc9112#section-6), ambiguous framing refused (two
Content-Length values, or Content-Length with Transfer-Encoding, RFC 9112 section 6.3), and every
refusal in the core's error envelope (``{"error", "code"}``), never an HTML page.
"""

from __future__ import annotations

import email.utils
import re
import time

from shared import errors
from shared.http import Response, reason

MAX_CHUNK_LINE = 1024  # a chunk-size line: hex digits and optional extensions


class Refusal(Exception):
    """A request the server answers itself, before the app sees it; the connection is then closed."""

    def __init__(self, error: errors.ProxyError) -> None:
        super().__init__(error.code)
        self.error = error


def bad_length(message: str) -> Refusal:
    return Refusal(errors.invalid_content_length(message))


# What http.server's own checks (request line, version, header size) map to.
_BY_STATUS = {
    400: ("bad_request", "The request line or a header is malformed."),
    408: ("request_timeout", "The request did not arrive in time."),
    414: ("uri_too_long", "The request line is too long."),
    431: ("headers_too_large", "The request headers are too large."),
    501: ("not_implemented", "This method is not supported."),
    505: ("http_version_not_supported", "Use HTTP/1.0 or HTTP/1.1."),
}


def error_for_status(status: int, message: str | None = None) -> errors.ProxyError:
    code, default = _BY_STATUS.get(status, ("bad_request", "The request is malformed."))
    return errors.ProxyError(status, code, message or default)


def encode(status: int, headers: list[tuple[str, str]], body: bytes = b"", version: str = "HTTP/1.1") -> bytes:
    """Status line, headers and body as one buffer: one send, so Nagle never holds the tail."""
    lines = [f"{version} {status} {reason(status)}", *(f"{k}: {v}" for k, v in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


LAST_CHUNK = b"0\r\n\r\n"
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


def chunk(data: bytes) -> bytes:
    """One chunk of a chunked body (RFC 9112 section 7.1): its size in hex, the bytes, CRLF."""
    return b"%x\r\n%b\r\n" % (len(data), data)


def error_bytes(response: Response) -> bytes:
    """A refusal the core built (``ProxyApp.refusal``), with ``Connection: close`` (the rest of the
    input is not read)."""
    headers = [  # the core's Content-Length: a HEAD's announces the body it does not send
        *response.headers.items(),
        ("Date", email.utils.formatdate(usegmt=True)),
        ("Connection", "close"),
    ]
    return encode(response.status, headers, response.body)


class Deadline:
    """The request's buffered input, with one deadline for the whole body: before each read the
    socket timeout is set to the time left, so a client trickling a byte at a time cannot hold
    the thread past it (a per-read timeout alone would be reset by every byte)."""

    def __init__(self, rfile, sock, seconds: float) -> None:
        self.rfile, self.sock = rfile, sock
        self.ends = time.monotonic() + seconds

    def _arm(self) -> None:
        left = self.ends - time.monotonic()
        if left <= 0:
            raise TimeoutError
        self.sock.settimeout(left)

    def read(self, size: int) -> bytes:
        out = bytearray()
        while len(out) < size:
            self._arm()
            chunk = self.rfile.read1(size - len(out))
            if not chunk:
                break
            out += chunk
        return bytes(out)

    def readline(self, limit: int) -> bytes:
        """Up to and including b"\\n", at most ``limit`` bytes; each step is at most one socket read."""
        out = bytearray()
        while len(out) < limit:
            self._arm()
            buffered = self.rfile.peek(1)[: limit - len(out)]  # one socket read when the buffer is empty
            if not buffered:
                break
            end = buffered.find(b"\n")
            out += self.rfile.read(len(buffered) if end < 0 else end + 1)  # from the buffer only
            if end >= 0:
                break
        return bytes(out)


def declared_length(values: list[str]) -> int | None:
    """The one Content-Length, or None; several different (or any malformed) values are refused."""
    if not values:
        return None
    parts = {part.strip() for value in values for part in value.split(",")}
    if len(parts) != 1:
        raise bad_length("Send exactly one Content-Length header.")
    (value,) = parts
    if not (value.isascii() and value.isdigit()):
        raise bad_length("The Content-Length header is not a number.")
    return int(value)


def read_exact(rfile, length: int) -> bytes:
    """``length`` bytes or a 400: a body shorter than declared is the client's fault."""
    try:
        body = rfile.read(length)
    except TimeoutError:
        body = None
    if body is None or len(body) < length:
        raise Refusal(errors.incomplete_body())
    return body


# RFC 9112 section 7.1: chunk-size [ chunk-ext ] CRLF, and trailer fields as header fields, each
# line ending in CRLF (https://www.rfc-editor.org/rfc/rfc9112#section-7.1). As strict as the head
# (functions/local/head.py): a looser reading than a front end's is how bodies get smuggled.
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})(?:;[\t\x20-\x7e\x80-\xff]*)?\r\n")
_TRAILER = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[\t\x20-\x7e\x80-\xff]*\r\n")


def read_chunked(rfile, limit: int) -> bytes:
    """A chunked body decoded, capped at ``limit`` bytes (413 beyond), trailers checked and skipped."""
    body = bytearray()
    try:
        while True:
            match = _CHUNK_SIZE.fullmatch(rfile.readline(MAX_CHUNK_LINE + 1))
            if match is None:
                raise Refusal(errors.invalid_chunked_body())
            size = int(match.group(1), 16)
            if size == 0:
                break
            if len(body) + size > limit:
                raise Refusal(errors.body_too_large(limit))
            chunk = rfile.read(size)
            if len(chunk) < size or rfile.read(2) != b"\r\n":
                raise Refusal(errors.invalid_chunked_body())
            body += chunk
        for _ in range(100):  # trailer fields, ignored, up to the empty line
            trailer = rfile.readline(MAX_CHUNK_LINE + 1)
            if trailer == b"\r\n":
                return bytes(body)
            if _TRAILER.fullmatch(trailer) is None:
                break
    except TimeoutError:
        pass
    raise Refusal(errors.invalid_chunked_body())


def has_header(headers: list[tuple[str, str]], name: str) -> bool:
    return any(k.lower() == name for k, _ in headers)
