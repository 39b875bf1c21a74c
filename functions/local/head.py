"""The request line and header block, parsed strictly: anything that is not HTTP/1.1's exact
grammar is a 400 and the end of the connection, never a guess.

Why not http.server's parser: it hands the header block to the ``email`` parser, which stops at
the first line that is not ``name: value`` (``Content-Length : 46``, a line without a colon) and
files the rest as a "payload" with a defect nobody reads. The framing headers after that line are
lost, the body is then read as the next request, and a request is smuggled past whatever looked
at the first one. RFC 9112 leaves no room for that reading
(https://www.rfc-editor.org/rfc/rfc9112):

- section 2.2: lines end with CRLF. A bare LF "MAY" be accepted; we do not, because a front end
  that does not (or a bare CR, which the RFC forbids outright) would then see other lines than
  we do;
- section 3: ``method SP request-target SP HTTP-version``, single spaces; an invalid request line
  SHOULD get a 400, never an autocorrection. Section 3.2: an HTTP/1.1 request without exactly
  one Host field, or with an invalid Host value, MUST get a 400;
- section 5.1: no whitespace between the field name and the colon, which MUST be a 400;
- section 5.2: obs-fold (a line starting with whitespace) is rejected with a 400;
- RFC 9110 section 5.1 and 5.5 (https://www.rfc-editor.org/rfc/rfc9110#section-5.5): a name is a
  token; a value with CR, LF or NUL is invalid and dangerous (we refuse every control but HTAB).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from http.client import HTTPMessage

from functions.local import wire

MAX_LINE = 65536  # http.server's limits, kept: one line, and the number of fields
MAX_FIELDS = 100
MAX_HEAD = 64 * 1024  # the whole header block (a browser's is a few KiB)

_TOKEN = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_REQUEST_LINE = re.compile(rb"(" + _TOKEN + rb") ([\x21-\x7e]+) HTTP/([0-9])\.([0-9])\r\n")
# RFC 3986 section 3.2.2: IP-literal (an IPv6 address, checked by ipaddress; or IPvFuture), or a
# reg-name (an IPv4 address is one too), then an optional port (section 3.2.3).
_HOST = re.compile(r"(?:\[([^\]]*)\]|(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*)(?::[0-9]*)?")
_IP_FUTURE = re.compile(r"[vV][0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+")
_FIELD = re.compile(rb"(" + _TOKEN + rb"):[ \t]*([\t\x20-\x7e\x80-\xff]*?)[ \t]*\r\n")


@dataclass(frozen=True)
class RequestLine:
    method: str
    target: str
    version: str  # as sent, e.g. "HTTP/1.1"
    minor: int  # HTTP/1.x: 0 or more (a higher minor is taken as 1.1: RFC 9112 section 2.3)


def malformed(what: str) -> wire.Refusal:
    return wire.Refusal(wire.error_for_status(400, f"The request {what} is malformed."))


def request_line(raw: bytes) -> RequestLine:
    match = _REQUEST_LINE.fullmatch(raw)
    if match is None:
        raise malformed("line")
    method, target, major, minor = match.groups()
    if major != b"1":
        raise wire.Refusal(wire.error_for_status(505))
    return RequestLine(method.decode("ascii"), target.decode("ascii"), f"HTTP/1.{minor.decode()}", int(minor))


def read_fields(rfile) -> list[tuple[str, str]]:
    """The header block up to its empty line, each field checked; raises :class:`wire.Refusal`."""
    fields: list[tuple[str, str]] = []
    size = 0
    while True:
        line = rfile.readline(MAX_LINE + 1)
        size += len(line)
        if len(line) > MAX_LINE or size > MAX_HEAD:
            raise wire.Refusal(wire.error_for_status(431))
        if line == b"\r\n":
            return fields
        match = _FIELD.fullmatch(line)
        if match is None:
            raise malformed("header block")  # also: a bare LF, obs-fold, the end of input
        if len(fields) == MAX_FIELDS:
            raise wire.Refusal(wire.error_for_status(431))
        name, value = match.groups()
        fields.append((name.decode("ascii"), value.decode("latin-1")))


def message(fields: list[tuple[str, str]]) -> HTTPMessage:
    """The fields as http.server's handlers expect them (``self.headers``)."""
    headers = HTTPMessage()
    for name, value in fields:
        headers.set_raw(name, value)  # as sent: no re-parsing, no folding
    return headers


def check_host(headers: HTTPMessage, line: RequestLine) -> None:
    """Exactly one Host on HTTP/1.1, at most one on HTTP/1.0, and a valid one: ``uri-host [":" port]``
    (RFC 9112 section 3.2; RFC 3986 section 3.2.2 for the host, which may be empty)."""
    hosts = headers.get_all("Host") or []
    if len(hosts) > 1 or (not hosts and line.minor >= 1) or (hosts and not _valid_host(hosts[0])):
        raise malformed("Host header")


def _valid_host(value: str) -> bool:
    match = _HOST.fullmatch(value)
    if match is None:
        return False
    literal = match.group(1)
    if literal is None or _IP_FUTURE.fullmatch(literal):
        return True
    if "%" in literal:  # no zone id: RFC 3986's IPv6address has none (RFC 6874's is for URIs, not Host)
        return False
    try:
        ipaddress.IPv6Address(literal)
    except ValueError:
        return False
    return True


def keeps_alive(line: RequestLine, headers: HTTPMessage) -> bool:
    """Persistence (RFC 9112 section 9.3): HTTP/1.1 unless ``close``; HTTP/1.0 only with ``keep-alive``."""
    options = {o.strip().lower() for v in headers.get_all("Connection") or [] for o in v.split(",")}
    if "close" in options:
        return False
    return line.minor >= 1 or "keep-alive" in options
