"""What a request itself got wrong, or may not do (4xx), and the limits that refused it."""

from __future__ import annotations

from shared.envelope import ProxyError, retry_in


def invalid_json(reason: str) -> ProxyError:
    return ProxyError(400, "invalid_json", f"The request body is not valid JSON: {reason}.")


def validation_failed(details: list[dict[str, str]]) -> ProxyError:
    return ProxyError(400, "validation_error", "The request body failed validation; see details.", details)


def not_found(path: str) -> ProxyError:
    return ProxyError(404, "not_found", f"No route {path[:100]!r}; see GET /api/health and docs/api.md for the routes.")


def model_not_found(model: str) -> ProxyError:
    return ProxyError(
        404, "model_not_found", f"The model {model[:200]!r} is not served here; GET /api/v1/models lists them."
    )


def method_not_allowed(allowed: list[str]) -> ProxyError:
    methods = ", ".join(allowed)
    return ProxyError(405, "method_not_allowed", f"Use {methods} for this route.", headers={"Allow": methods})


def body_too_large(limit: int) -> ProxyError:
    return ProxyError(413, "body_too_large", f"The request body is larger than {limit} bytes; send a shorter prompt.")


def incomplete_body() -> ProxyError:
    return ProxyError(
        400, "incomplete_body", "The request body is shorter than its Content-Length, or arrived too slowly."
    )


def invalid_content_length(message: str) -> ProxyError:
    return ProxyError(400, "invalid_content_length", message)


def invalid_chunked_body() -> ProxyError:
    return ProxyError(400, "invalid_chunked_body", "The chunked request body is malformed or ended early.")


def server_busy() -> ProxyError:
    """The local server's connection cap (functions/local/server.py); platforms have their own."""
    return retry_in(503, "server_busy", "The local server has too many open connections", 1)


def rate_limited(limit: int) -> ProxyError:
    return ProxyError(
        429,
        "rate_limited",
        f"Too many requests: this proxy allows {limit} a minute per client; retry after Retry-After seconds.",
    )


def client_quota_exceeded(limit: int) -> ProxyError:
    return ProxyError(
        429,
        "client_quota_exceeded",
        f"This client has asked for its {limit} tokens for today (UTC), or this request asks for more than remain; "
        "ask for fewer tokens, or retry after Retry-After seconds.",
    )


def budget_exhausted(limit: int) -> ProxyError:
    """The owner's daily budget over all clients: not the client's fault, hence a 5xx."""
    return ProxyError(
        503,
        "budget_exhausted",
        "This proxy has used its daily budget for today (UTC); retry after Retry-After seconds.",
    )


STORE_DOWN = "The proxy cannot count this request against its limits right now, so it was not forwarded"


def quota_store_unavailable() -> ProxyError:
    return retry_in(503, "quota_store_unavailable", STORE_DOWN, 5)


def unsupported_media_type() -> ProxyError:
    return ProxyError(415, "unsupported_media_type", "Send the body as JSON with 'Content-Type: application/json'.")


def origin_not_allowed() -> ProxyError:
    return ProxyError(
        403, "origin_not_allowed", "This origin is not allowed to call the proxy; add it to ALLOWED_ORIGINS."
    )


def proxy_signature_invalid() -> ProxyError:
    # Deliberately one message for missing, expired, forged or malformed: no hints for a forger.
    return ProxyError(
        401, "proxy_signature_invalid", "This proxy only answers requests that come through its own site."
    )
