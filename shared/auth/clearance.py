"""A human check for anonymous use: Cloudflare Turnstile once, then a clearance token.

With ``TURNSTILE_SECRET`` set, an anonymous caller first solves the Turnstile widget and posts its
token to ``POST /api/clearance``; the proxy asks Cloudflare's siteverify API whether it is genuine
(the secret, the token, and the caller's address as ``remoteip``:
https://developers.cloudflare.com/turnstile/get-started/server-side-validation/). A Turnstile token
is single-use and lasts 300 s, so the proxy answers a clearance of its own instead, which the
caller sends as ``X-Clearance`` on every model call for ``CLEARANCE_TTL_SECONDS``.

The clearance is ``c1.<expiry>.<nonce>.<mac>``: the MAC is HMAC-SHA256 with ``CLEARANCE_SECRET``
over the version, expiry, nonce and the client id it was issued to (the address, or the IPv6 /64,
:func:`shared.limits.identity.client_id`), which the token does not carry: from another address
it does not verify, and an edited expiry breaks the MAC. Nothing is stored, so every instance
that shares the secret accepts it, and a new secret revokes them all.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import secrets
import time
from urllib.parse import urlencode

from shared import errors
from shared.auth import remote
from shared.deadline import Deadline
from shared.limits.identity import ip_of
from shared.settings import Settings

log = logging.getLogger("hfproxy")
HEADER = "x-clearance"
VERSION = "c1"
MAX_TURNSTILE_CHARS = 2048  # Cloudflare's documented maximum token length
_CLEARANCE = re.compile(r"c1\.([0-9]{1,12})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})")
# siteverify's error codes (same page): the operator's secret is wrong, or Cloudflare failed.
_SECRET_CODES = {"missing-input-secret", "invalid-input-secret"}
_CODE = re.compile(r"[a-z0-9-]{1,40}")


def issue(settings: Settings, client: str, now: float | None = None) -> tuple[str, int]:
    """A clearance for ``client`` and when it expires (epoch seconds)."""
    expires = int(time.time() if now is None else now) + settings.clearance_ttl
    nonce = _b64(secrets.token_bytes(16))
    return f"{VERSION}.{expires}.{nonce}.{_mac(settings, expires, nonce, client)}", expires


def check(token: str | None, settings: Settings, client: str, now: float | None = None) -> None:
    """Nothing when ``token`` clears ``client`` now; 403 ``clearance_required`` / ``clearance_invalid``."""
    if not token:
        raise errors.clearance_required()
    now = time.time() if now is None else now
    match = _CLEARANCE.fullmatch(token.strip())
    if match is None:
        raise errors.clearance_invalid("it is not a clearance this proxy issues")
    expires, nonce, mac = int(match[1]), match[2], match[3]
    if not hmac.compare_digest(mac, _mac(settings, expires, nonce, client)):
        raise errors.clearance_invalid("it was issued to another address, or altered")
    if now >= expires:
        raise errors.clearance_invalid("it has expired")
    if expires > now + settings.clearance_ttl + 60:  # issued before CLEARANCE_TTL_SECONDS was lowered
        raise errors.clearance_invalid("it lasts longer than this proxy now allows")


def confirm_human(turnstile_token: str, settings: Settings, address: str | None, deadline: Deadline) -> None:
    """Nothing when siteverify says the Turnstile token is genuine; otherwise 403, 500 or 503."""
    form = {"secret": settings.turnstile_secret or "", "response": turnstile_token}
    ip = ip_of(address)
    if ip is not None:
        form["remoteip"] = str(ip)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    try:
        answer = remote.call(
            "POST", settings.turnstile_verify_url, settings, deadline, headers, urlencode(form).encode()
        )
    except remote.Unavailable as exc:
        log.warning("turnstile siteverify unavailable (%s)", exc)
        raise errors.turnstile_unavailable() from None
    try:
        verdict = json.loads(answer.body)
    except ValueError:
        verdict = None
    if not isinstance(verdict, dict):
        log.warning("turnstile siteverify answered something that is not a JSON object")
        raise errors.turnstile_unavailable()
    if verdict.get("success") is True:
        return
    listed = verdict.get("error-codes")
    codes = [c for c in listed if isinstance(c, str) and _CODE.fullmatch(c)][:3] if isinstance(listed, list) else []
    log.warning("turnstile check failed: %s", ", ".join(codes) or "no error code")
    if _SECRET_CODES & set(codes):
        raise errors.misconfigured(
            "Cloudflare refused TURNSTILE_SECRET: the operator must set the widget's secret key."
        )
    if "internal-error" in codes:
        raise errors.turnstile_unavailable()
    raise errors.turnstile_failed(", ".join(codes) or "no reason given")


def _mac(settings: Settings, expires: int, nonce: str, client: str) -> str:
    secret = settings.clearance_secret
    if not secret:
        raise errors.misconfigured("Setting CLEARANCE_SECRET must be set with TURNSTILE_SECRET.")
    message = f"{VERSION}.{expires}.{nonce}.{client}".encode()
    return _b64(hmac.new(secret.encode(), message, hashlib.sha256).digest())


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
