"""The one HTTP path to every upstream: one pooled ``requests.Session``, explicit timeouts, the deadline.

One session per warm process, so a warm function reuses its TCP/TLS connection; plain calls and
streams share its pool. Plain calls go straight to the adapter's urllib3 pool (``_pool_for``):
``Session.request`` re-merges cookies, hooks, environment and settings on every call, which cost
more than the whole proxy around it on a fast upstream (``make bench``, docs/benchmarks.md).
No redirects, no retries, no proxy variables or ~/.netrc (``trust_env`` off).
Only headers we build go upstream: the caller's Authorization, Cookie, Host and X-Forwarded-*
are never copied (a forwarded X-Forwarded-Host is suspected of router 404s, gpt-load #430).
Network faults become :class:`ProxyError` here, so no route sees a requests/urllib3 exception.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from shared import __version__, errors, redaction
from shared.deadline import Deadline
from shared.settings import Settings
from shared.upstreams.cutoff import watchdog

USER_AGENT = f"hfproxy/{__version__}"
BASE_HEADERS = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"}
POOL_SIZE = 64  # upstream connections kept per host (bench/load.py runs 50 concurrent requests)
_session = None


def session():
    """The process-wide session, created on first use (requests is not imported before)."""
    global _session
    if _session is None:
        import requests

        _session = requests.Session()
        # requests keeps 10 connections per host; a threaded server with more requests in flight
        # discarded the rest after each use ("Connection pool is full"): a new TLS handshake each.
        adapter = requests.adapters.HTTPAdapter(pool_maxsize=POOL_SIZE)
        # Pools whose connections let the watchdog cut a trickled header phase (_guarded_pools).
        adapter.poolmanager.pool_classes_by_scheme = _guarded_pools()
        _session.mount("https://", adapter)
        _session.mount("http://", adapter)
        _session.trust_env = False  # no ~/.netrc auth or proxy variables leaking into upstream calls
        _session.headers = dict(BASE_HEADERS)
    return _session


def reset_session() -> None:
    """Drop pooled connections (tests count the connections a fresh process opens)."""
    global _session
    if _session is not None:
        _session.close()
    _session = None
    _pools.clear()


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
    import urllib3

    headers = {**BASE_HEADERS, "Authorization": f"Bearer {token}", "Accept": accept}
    body = None
    if json_body is not None:
        body = json.dumps(json_body, allow_nan=False).encode()
        headers["Content-Type"] = "application/json"
    started = time.perf_counter()
    try:
        pool, path = _pool_for(url)
        connect, read = timeouts(settings, deadline)
        with deadline_scope(deadline):
            raw = pool.urlopen(
                method,
                path,
                body=body,
                headers=headers,
                retries=False,
                redirect=False,
                timeout=urllib3.Timeout(connect=connect, read=read),
                preload_content=False,
                decode_content=True,
            )
        data = None
        try:
            with watchdog.guard(deadline.expires_at, cut_of(raw)):
                data = _read_capped(raw, settings.max_upstream_bytes, deadline)
        finally:
            if data is None:  # not read to the end: the connection cannot serve another request
                raw.close()
            raw.release_conn()
    except urllib3.exceptions.NewConnectionError:  # refused or DNS: a subclass of ConnectTimeoutError
        raise errors.upstream_unreachable() from None
    except (urllib3.exceptions.ConnectTimeoutError, urllib3.exceptions.ReadTimeoutError):
        raise errors.upstream_timeout() from None
    except (urllib3.exceptions.HTTPError, OSError):
        # refused, DNS, TLS, reset, truncated body, bad gzip, or cut off at the deadline
        raise (errors.upstream_timeout() if deadline.expired() else errors.upstream_unreachable()) from None
    elapsed_ms = (time.perf_counter() - started) * 1000
    lowered = {name.lower(): value for name, value in raw.headers.itermerged()}  # repeats joined by ", "
    return UpstreamResponse(raw.status, lowered, data, elapsed_ms)


_pools: dict[str, Any] = {}  # "scheme://host[:port]" -> the session adapter's urllib3 pool


def _pool_for(url: str) -> tuple[Any, str]:
    """The session adapter's own urllib3 pool for ``url``'s host, and the path to ask it for.

    The pool is the one ``HTTPAdapter.send`` would pick and set up (TLS verified against certifi's
    bundle), so plain calls and streams share one pool per host. Plain calls then skip
    ``adapter.send``'s per-call work (URL re-parsing, proxy lookup, cookie jar, Response object):
    on a fast upstream that was a fifth of a warm Lambda invocation (``make bench``,
    docs/benchmarks.md). Hosts come from settings, so the map stays as small as the configuration.
    """
    from requests.utils import requote_uri

    slash = url.find("/", url.index("://") + 3)
    origin, path = (url, "/") if slash < 0 else (url[:slash], requote_uri(url[slash:]))
    pool = _pools.get(origin)
    if pool is None or pool.pool is None:  # first call, or the PoolManager evicted and closed it
        import requests

        probe = requests.PreparedRequest()
        probe.prepare(method="GET", url=url)
        adapter = session().get_adapter(url)
        pool = adapter.get_connection_with_tls_context(probe, verify=True)
        adapter.cert_verify(pool, url, verify=True, cert=None)
        _pools[origin] = pool
    return pool, path


def cut_of(raw):
    """What ends a blocked read of this urllib3 response: its public ``shutdown()`` (urllib3 2.3+),
    which holds the socket even when ``Connection: close`` moved it from the connection onto the
    response (http.client's getresponse does that: https://github.com/python/cpython/blob/3.12/Lib/http/client.py,
    ``if response.will_close``). None when urllib3 read the body whole and let the socket go."""
    if getattr(raw, "_sock_shutdown", None) is None or raw.connection is None:
        return None
    return raw.shutdown


_deadline: ContextVar[float | None] = ContextVar("hfproxy_upstream_deadline", default=None)


@contextmanager
def deadline_scope(deadline: Deadline) -> Iterator[None]:
    """Upstream connections opened or reused within the block are cut at the deadline while they
    wait for the status line and headers (an upstream may trickle them a byte at a time)."""
    token = _deadline.set(deadline.expires_at)
    try:
        yield
    finally:
        _deadline.reset(token)


def _guarded_pools() -> dict[str, type]:
    """urllib3 pool classes whose connections arm the watchdog around ``getresponse()``: the one
    place where the socket exists but no response does yet. ``PoolManager.pool_classes_by_scheme``
    and ``ConnectionCls`` are urllib3's extension points for this
    (https://github.com/urllib3/urllib3/blob/2.8.0/src/urllib3/poolmanager.py)."""
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class HeaderGuard:
        sock: Any

        def getresponse(self, *args: Any, **kwargs: Any) -> Any:
            expires_at = _deadline.get()
            if expires_at is None or self.sock is None:
                return super().getresponse(*args, **kwargs)  # type: ignore[misc]
            with watchdog.guard(expires_at, self.sock):
                return super().getresponse(*args, **kwargs)  # type: ignore[misc]

    class GuardedHTTPConnection(HeaderGuard, HTTPConnection):
        pass

    class GuardedHTTPSConnection(HeaderGuard, HTTPSConnection):
        pass

    class GuardedHTTPPool(HTTPConnectionPool):
        ConnectionCls = GuardedHTTPConnection

    class GuardedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = GuardedHTTPSConnection

    return {"http": GuardedHTTPPool, "https": GuardedHTTPSPool}


def _read_capped(resp, limit: int, deadline: Deadline) -> bytes:
    chunks, size = [], 0
    # urllib3's response here; a requests Response from sse.py's streaming session
    reader = resp.iter_content(65536) if hasattr(resp, "iter_content") else resp.stream(65536, decode_content=True)
    for chunk in reader:
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


def safe_upstream_message(body: bytes | dict, token: str, limit: int = 300) -> str | None:
    return redaction.safe_upstream_message(body, token, limit)  # the policy lives in shared/redaction.py


def redact(text: str, token: str) -> str:
    return redaction.redact_text(text, token)


def without_token(body: bytes, data, token: str) -> bytes:
    return redaction.redact_json_body(body, data, token)
