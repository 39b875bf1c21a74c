"""Who a client is: the address the platform itself saw, never a header the client can set.

Each adapter puts the address its platform vouches for under :data:`CLIENT_IP_KEY` (the local
server: the socket's peer; Vercel: the header Vercel overwrites). Without it the WSGI
``REMOTE_ADDR`` is used: serverless-wsgi fills it from the Lambda event's
``requestContext`` source IP for HTTP API, REST API and Function URL events
(https://github.com/logandk/serverless-wsgi, ``handle_payload_v1``/``v2``). A client's own
``X-Forwarded-For`` is never read. Behind the signed Netlify rewrite, the backend sees Netlify's
address, so Netlify's ``X-Nf-Client-Connection-Ip`` is used, and only when the request's
signature verified (Netlify keeps that header on proxied requests:
https://answers.netlify.com/t/upcoming-change-stripping-exposed-netlify-headers-from-function-and-proxy-requests/52665).
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Mapping
from functools import lru_cache

from shared.adapter import CLIENT_IP_KEY

NETLIFY_CLIENT_IP = "x-nf-client-connection-ip"
UNKNOWN = "unknown"  # no usable address: all such requests share one bucket (fail closed)


def client_address(environ: Mapping, headers: Mapping[str, str], signed: bool) -> str | None:
    if signed and headers.get(NETLIFY_CLIENT_IP):
        return headers[NETLIFY_CLIENT_IP]
    return environ.get(CLIENT_IP_KEY) or environ.get("REMOTE_ADDR") or None


def ip_of(address: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address as an IP, or None when there is none usable."""
    if not address:
        return None
    try:
        # ip_interface: tolerates "192.168.0.1/32", as in the sample HTTP API event AWS documents
        # (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html).
        return ipaddress.ip_interface(address.strip().strip("[]").split("%", 1)[0]).ip
    except ValueError:
        return None


@lru_cache(maxsize=4096)  # a warm instance sees the same clients again; parsing each time is not free
def client_id(address: str | None) -> str:
    """IPv4 as is; IPv6 per /64 (one subscriber's prefix: RFC 6177), IPv4-mapped as IPv4."""
    ip = ip_of(address)
    if ip is None:
        return UNKNOWN
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def pseudonym(client: str) -> str:
    """What the store keys on: not the address itself (a health app's store need not hold IPs).

    A plain hash of an IPv4 address can be reversed by trying them all; this only keeps
    addresses out of casual view (store consoles, dumps), it is not anonymisation.
    """
    return hashlib.sha256(client.encode()).hexdigest()[:24]
