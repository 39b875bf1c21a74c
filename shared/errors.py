"""The catalogue of stable error codes (the envelope's type, :class:`ProxyError`, is in :mod:`shared.envelope`).

Every failure a client can see is a :class:`ProxyError`; its ``code`` is part of the public API
(documented in docs/api.md), its ``message`` is a sentence a person can act on. Nothing here ever
carries a stack trace, the token, or a raw upstream body.
"""

from __future__ import annotations

from shared.envelope import ConfigError as ConfigError
from shared.envelope import ProxyError as ProxyError


def _retry_in(status: int, code: str, message: str, retry_after: int) -> ProxyError:
    """A refusal the client may retry: the wait in words and in ``Retry-After`` (seconds)."""
    return ProxyError(status, code, f"{message}; retry in {retry_after} s.", headers={"Retry-After": str(retry_after)})


# --- request-side (4xx) -------------------------------------------------------------------------


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
    return _retry_in(503, "server_busy", "The local server has too many open connections", 1)


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
    return _retry_in(503, "quota_store_unavailable", STORE_DOWN, 5)


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


# --- who calls: signed-in users and the human check (shared/auth/, docs/limits.md) -------------
# RFC 6750 §3: a 401 for a bearer token names the scheme, and says invalid_token when one was refused.
_BEARER = {"WWW-Authenticate": 'Bearer realm="hfproxy"'}


def auth_required() -> ProxyError:
    return ProxyError(
        401,
        "auth_required",
        "Sign in first: this proxy answers its model routes for signed-in users only; "
        "send 'Authorization: Bearer <your sign-in token>'.",
        headers=dict(_BEARER),
    )


def token_invalid(why: str) -> ProxyError:
    """``why`` is ours (expired, wrong audience, unknown key...), never the token or a library's text."""
    return ProxyError(
        401,
        "token_invalid",
        f"The sign-in token was refused: {why}. Sign in again and send the new token.",
        headers={"WWW-Authenticate": 'Bearer realm="hfproxy", error="invalid_token"'},
    )


def auth_unavailable() -> ProxyError:
    """The identity provider's keys could not be read: never an open door, so not forwarded."""
    return _retry_in(
        503,
        "auth_unavailable",
        "The proxy cannot check sign-in tokens right now (the identity provider's keys "
        "did not load), so the request was not forwarded",
        5,
    )


def clearance_required() -> ProxyError:
    return ProxyError(
        403,
        "clearance_required",
        "Anonymous calls need a human check first: POST /api/clearance with a Turnstile token, then send the "
        "clearance it answers as the X-Clearance header.",
    )


def clearance_invalid(why: str) -> ProxyError:
    return ProxyError(
        403,
        "clearance_invalid",
        f"The X-Clearance token was refused: {why}; do the human check again (POST /api/clearance).",
    )


def turnstile_failed(said: str) -> ProxyError:
    return ProxyError(
        403, "turnstile_failed", f"The human check did not pass (Cloudflare said: {said}); solve it again."
    )


def turnstile_unavailable() -> ProxyError:
    return _retry_in(503, "turnstile_unavailable", "The proxy cannot reach Cloudflare to confirm the human check", 5)


def clearance_off() -> ProxyError:
    return ProxyError(
        404,
        "clearance_off",
        "This proxy asks for no human check (TURNSTILE_SECRET is not set): call the model routes directly.",
    )


# --- upstream-side (429 / 5xx) ------------------------------------------------------------------


def upstream_rate_limited(retry_after: int) -> ProxyError:
    return _retry_in(429, "upstream_rate_limited", "Hugging Face is rate-limiting this server", retry_after)


def upstream_timeout() -> ProxyError:
    return ProxyError(504, "upstream_timeout", "The model did not answer in time; retry, or ask for fewer tokens.")


def upstream_unreachable() -> ProxyError:
    return ProxyError(502, "upstream_unreachable", "Could not connect to the upstream model service; retry shortly.")


def upstream_bad_response() -> ProxyError:
    return ProxyError(502, "upstream_bad_response", "The upstream model service sent an answer that is not valid JSON.")


def upstream_error(status: int) -> ProxyError:
    return ProxyError(502, "upstream_error", f"The upstream model service failed (HTTP {status}); retry shortly.")


TOKEN_REJECTED = "Hugging Face rejected the server's token; the operator must set a valid HF_TOKEN."


def upstream_auth_failed() -> ProxyError:
    return ProxyError(502, "upstream_auth_failed", TOKEN_REJECTED)


def upstream_quota_exceeded() -> ProxyError:
    return ProxyError(
        502,
        "upstream_quota_exceeded",
        "The server's Hugging Face account is out of credits; the operator must top it up.",
    )


def model_not_served(setting: str = "HF_INFERENCE_URL", said: str | None = None) -> ProxyError:
    """The upstream does not serve the configured model (404, 410, or a 400 "model/task not supported
    by provider"): the operator's configuration, not the caller's input (docs/model-availability.md)."""
    why = f" (Hugging Face said: {said.rstrip('. ')})" if said else ""
    return ProxyError(
        502,
        "model_not_served",
        f"Hugging Face does not serve the configured model{why}; the operator must change {setting}.",
    )


def model_access_denied() -> ProxyError:
    return ProxyError(
        502,
        "model_access_denied",
        "The server's Hugging Face account may not use this model (gated: accept its license on the model page).",
    )


def upstream_stream_error(message: str | None) -> ProxyError:
    why = f": {message}" if message else "."
    return ProxyError(502, "upstream_stream_error", f"The model failed while answering{why}")


def upstream_stream_interrupted() -> ProxyError:
    return ProxyError(502, "upstream_stream_interrupted", "The model's stream ended before the answer was complete.")


def upstream_rejected_request(message: str | None) -> ProxyError:
    why = f": {message}" if message else "."
    return ProxyError(400, "upstream_rejected_request", f"The model rejected the request{why}")


def model_loading(retry_after: int) -> ProxyError:
    return _retry_in(503, "model_loading", "The model is loading on Hugging Face", retry_after)


def upstream_unavailable(retry_after: int) -> ProxyError:
    return _retry_in(503, "upstream_unavailable", "The upstream model service is temporarily unavailable", retry_after)


# --- the Llama Space (POST /api/predict) ---------------------------------------------------------


def space_unavailable(retry_after: int) -> ProxyError:
    return _retry_in(503, "space_unavailable", "The Llama Space is asleep, building or restarting", retry_after)


def space_queue_full(retry_after: int) -> ProxyError:
    return _retry_in(503, "space_queue_full", "The Llama Space's queue is full", retry_after)


def space_gpu_quota_exceeded(retry_after: int) -> ProxyError:
    """ZeroGPU refused to run the Space's function: the server account's GPU quota is used up."""
    return _retry_in(
        429,
        "space_gpu_quota_exceeded",
        "The Llama Space's ZeroGPU quota for this server's account is used up",
        retry_after,
    )


def space_error(message: str | None) -> ProxyError:
    why = f": {message}" if message else " (it gave no reason)."
    return ProxyError(502, "space_error", f"The Llama Space failed to answer{why}")


def _listed(listed: list[str] | None) -> str:
    """What a Space's /info says it serves, in words."""
    if listed is None:
        return "its /info could not be read"
    return "its /info lists " + (", ".join(f"/{n}" for n in listed) if listed else "no named endpoints")


def space_api_name_unknown(name: str, listed: list[str] | None) -> ProxyError:
    known = _listed(listed)
    return ProxyError(
        502,
        "space_api_name_unknown",
        f"The Llama Space has no API endpoint /{name}; {known}. The operator must set LLAMA_SPACE_API_NAME.",
    )


def space_api_name_ambiguous(listed: list[str] | None) -> ProxyError:
    """LLAMA_SPACE_API_NAME is unset and /info does not name exactly one endpoint to call."""
    known = _listed(listed)
    return ProxyError(
        502,
        "space_api_name_ambiguous",
        f"LLAMA_SPACE_API_NAME is not set and the Llama Space does not name one endpoint: {known}. "
        "The operator must set LLAMA_SPACE_API_NAME.",
    )


def space_inputs_rejected(status: int) -> ProxyError:
    return ProxyError(
        502,
        "space_inputs_rejected",
        f"The Llama Space did not accept the inputs (HTTP {status}); the operator must match LLAMA_DATA_ORDER to "
        "the endpoint's parameters in the Space's /info.",
    )


def space_endpoint_missing() -> ProxyError:
    return ProxyError(
        502,
        "space_endpoint_missing",
        "The Llama Space does not serve the documented POST /api/predict; the operator must set "
        "LLAMA_SPACE_PROTOCOL=gradio (or auto).",
    )


def space_not_gradio() -> ProxyError:
    return ProxyError(
        502,
        "space_not_gradio",
        "LLAMA_SPACE_PROTOCOL is gradio but the Space's /config is not a Gradio config; the operator must check "
        "LLAMA_SPACE_URL (the https://OWNER-SPACE.hf.space host) or use LLAMA_SPACE_PROTOCOL=contract.",
    )


def space_protocol_unsupported(version: str) -> ProxyError:
    return ProxyError(
        502,
        "space_protocol_unsupported",
        f"The Llama Space runs Gradio {version[:20]}, which only answers through its queue; upgrade it to "
        "Gradio 4.20 or newer.",
    )


# --- server-side (500) --------------------------------------------------------------------------


def misconfigured(message: str) -> ProxyError:
    return ProxyError(500, "server_misconfigured", message)


def internal_error() -> ProxyError:
    return ProxyError(
        500, "internal_error", "The proxy failed unexpectedly; the operator can find the request id in the logs."
    )
