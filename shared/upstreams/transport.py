"""The one HTTP path to every upstream: urllib3 pools, one response type, one fault map, one deadline.

Every call, plain or streamed, is :func:`send` -> :class:`Exchange` (status and headers in, body
not read yet) -> :meth:`Exchange.chunks` or :meth:`Exchange.read` -> :meth:`Exchange.close`.
One deadline mechanism: the watchdog (:mod:`shared.upstreams.cutoff`) cuts the socket when the
request's deadline passes, from the moment the request is sent (header phase included) until the
exchange is closed; socket timeouts only bound connecting and the silence between two reads.

urllib3 is the HTTP layer requests is built on, used through its public API (``HTTPConnectionPool``
and ``urlopen``, ``HTTPResponse.read1``/``shutdown``). Not ``requests.Session``:
measured side by side, its per-call work (re-merging settings, cookies, hooks, a ``Response``)
cost more than the whole proxy around it on a fast upstream, and importing requests was ~14 ms of
every cold start (docs/transport.md, docs/benchmarks.md). One pool per upstream host per warm process, so
a warm function reuses its TCP/TLS connection; TLS is verified against certifi's bundle.
No redirects, no retries, no proxy variables or ~/.netrc. Only headers the caller of
:func:`send` builds go upstream: the browser's Authorization, Cookie, Host and X-Forwarded-* are
never copied (a forwarded X-Forwarded-Host is suspected of router 404s, gpt-load #430).
Network faults become :class:`ProxyError` here (:func:`fault`), so no caller sees urllib3.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from shared import __version__, errors
from shared.deadline import Deadline
from shared.upstreams.cutoff import deadline_scope, guarded_pool_classes, watchdog

USER_AGENT = f"hfproxy/{__version__}"
BASE_HEADERS = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"}
POOL_SIZE = 64  # upstream connections kept per host (bench/load.py runs 50 concurrent requests)
READ_SIZE = 65536
_pools: dict[str, Any] = {}  # "scheme://host[:port]" -> its urllib3 connection pool
# Anything outside RFC 3986's unreserved, reserved and "%" characters must be percent-encoded.
_UNSAFE = re.compile(r"[^A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]")


def pool_for(url: str) -> tuple[Any, str]:
    """The pool for ``url``'s scheme, host and port, and the request target to ask it for.

    One ``HTTP(S)ConnectionPool`` per origin, kept for the process (origins come from the settings,
    so the map stays as small as the configuration). Built directly rather than through a
    ``PoolManager``: its URL parsing and pool-key lookup cost ~30 µs a call, a tenth of a warm
    invocation on a fast upstream (``make bench``, docs/benchmarks.md).
    """
    slash = url.find("/", url.index("://") + 3)
    origin, target = (url, "/") if slash < 0 else (url[:slash], url[slash:])
    if _UNSAFE.search(target):  # percent-encode what a request line may not carry, as requests did
        import urllib3

        target = urllib3.util.parse_url(url).request_uri
    pool = _pools.get(origin)
    if pool is None:
        pool = _pools[origin] = _new_pool(origin)
    return pool, target


def _new_pool(origin: str) -> Any:
    import urllib3

    parsed = urllib3.util.parse_url(origin)
    classes = guarded_pool_classes()  # the watchdog can cut a trickled header phase (cutoff.py)
    if parsed.scheme == "https":
        import certifi

        return classes["https"](
            parsed.host, parsed.port, maxsize=POOL_SIZE, cert_reqs="CERT_REQUIRED", ca_certs=certifi.where()
        )
    if parsed.scheme != "http":
        raise errors.upstream_unreachable()
    # urllib3 keeps 1 connection per host by default, requests 10: a threaded server with more
    # requests in flight discarded the rest after each use, so a new TLS handshake each.
    return classes["http"](parsed.host, parsed.port, maxsize=POOL_SIZE)


def reset_pools() -> None:
    """Drop pooled connections (tests count the connections a fresh process opens)."""
    for pool in _pools.values():
        pool.close()
    _pools.clear()


@dataclass
class UpstreamResponse:
    """A whole answer: what :meth:`Exchange.read` returns."""

    status: int
    headers: dict[str, str]  # lower-case names; repeats joined by ", "
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            raise errors.upstream_bad_response() from None


def fault(exc: BaseException, deadline: Deadline) -> errors.ProxyError:
    """The one map from a network failure to our errors: timeouts and the deadline's cut -> 504,
    anything else (refused, DNS, TLS, reset, truncated body, bad gzip) -> 502 unreachable."""
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError, ReadTimeoutError

    if isinstance(exc, NewConnectionError):  # refused or DNS: a subclass of ConnectTimeoutError
        return errors.upstream_unreachable()
    if isinstance(exc, (ConnectTimeoutError, ReadTimeoutError)) or deadline.expired():
        return errors.upstream_timeout()
    return errors.upstream_unreachable()


class Exchange:
    """One open upstream response. Read it with :meth:`chunks` or :meth:`read`; always :meth:`close`
    (``read`` does). ``on_close(elapsed_ms)`` runs once, with the time from send to close."""

    def __init__(
        self, raw: Any, started: float, deadline: Deadline, on_close: Callable[[float], None] | None = None
    ) -> None:
        self._raw = raw
        self._started = started
        self._on_close = on_close
        self._drained = False
        self.deadline = deadline
        self.status: int = raw.status
        self.headers: dict[str, str] = {name.lower(): value for name, value in raw.headers.itermerged()}
        self.closed = False
        # Cut at the deadline whatever is being read, chunked, sized or ending at close; the public
        # HTTPResponse.shutdown() (urllib3 2.3+) holds the socket even when Connection: close moved
        # it off the connection (http.client getresponse, ``if response.will_close``:
        # https://github.com/python/cpython/blob/3.12/Lib/http/client.py). Disarmed by close().
        self._cutoff = watchdog.arm(deadline.expires_at, raw.shutdown)

    @property
    def media_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def chunks(self) -> Iterator[bytes]:
        """Bytes as they arrive (``read1``: whatever one network read gives, chunked or not).

        Raises ``upstream_timeout`` past the deadline or after a silence longer than the read
        timeout, and ``upstream_unreachable`` when the connection breaks before the body ends.
        """
        from urllib3.exceptions import HTTPError

        while True:
            if self.deadline.expired():
                raise errors.upstream_timeout()
            try:
                chunk = self._raw.read1(READ_SIZE)
            except (HTTPError, OSError, ValueError) as exc:  # ValueError: read from a closed file
                if self.closed:
                    return
                raise fault(exc, self.deadline) from None
            if not chunk:
                if self.deadline.expired():  # the watchdog cut the socket: not the upstream's end
                    raise errors.upstream_timeout()
                self._drained = True
                return
            yield chunk

    def read(self, limit: int) -> UpstreamResponse:
        """The whole body (at most ``limit`` bytes: more is 502 ``upstream_too_large``), then close."""
        parts, size = [], 0
        try:
            for chunk in self.chunks():
                size += len(chunk)
                if size > limit:
                    raise errors.ProxyError(
                        502, "upstream_too_large", "The upstream answer was larger than the proxy accepts."
                    )
                parts.append(chunk)
        finally:
            self.close()
        return UpstreamResponse(self.status, self.headers, b"".join(parts))

    def close(self) -> None:
        """Disarm the cut-off; keep the connection only when the body was read to its end (a
        half-read one cannot serve another request)."""
        if not self.closed:
            self.closed = True
            watchdog.disarm(self._cutoff)
            if not self._drained:
                self._raw.close()
            self._raw.release_conn()
            if self._on_close is not None:
                self._on_close(round((time.perf_counter() - self._started) * 1000, 1))


def send(
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    body: bytes | None,
    deadline: Deadline,
    connect_timeout: float,
    silence: float,
    on_close: Callable[[float], None] | None = None,
) -> Exchange:
    """Send one request; return once the status line and headers are in (the body is not read).

    ``silence`` is the longest wait for the next bytes (it must exceed the upstream's heartbeat
    interval); the deadline bounds everything, from sending to :meth:`Exchange.close`.
    """
    import urllib3

    remaining = deadline.remaining()
    if remaining <= 0.05:
        raise errors.upstream_timeout()
    started = time.perf_counter()
    try:
        pool, target = pool_for(url)
        with deadline_scope(deadline.expires_at):
            raw = pool.urlopen(
                method,
                target,
                body=body,
                headers={**BASE_HEADERS, **headers},
                retries=False,
                redirect=False,
                timeout=urllib3.Timeout(connect=min(connect_timeout, remaining), read=min(silence, remaining)),
                preload_content=False,
                decode_content=True,
            )
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        if on_close is not None:
            on_close(round((time.perf_counter() - started) * 1000, 1))
        raise fault(exc, deadline) from None
    return Exchange(raw, started, deadline, on_close)


def retry_after_seconds(headers: dict[str, str], default: int) -> int:
    raw = headers.get("retry-after", "").strip()
    if raw.isdigit():
        return max(1, min(int(raw), 3600))
    return default
