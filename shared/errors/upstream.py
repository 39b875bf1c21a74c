"""What an upstream did (429/5xx), and the proxy's own failures (500)."""

from __future__ import annotations

from shared.envelope import ProxyError, retry_in

# --- upstream-side (429 / 5xx) ------------------------------------------------------------------


def upstream_rate_limited(retry_after: int) -> ProxyError:
    return retry_in(429, "upstream_rate_limited", "Hugging Face is rate-limiting this server", retry_after)


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
    return retry_in(503, "model_loading", "The model is loading on Hugging Face", retry_after)


def upstream_unavailable(retry_after: int) -> ProxyError:
    return retry_in(503, "upstream_unavailable", "The upstream model service is temporarily unavailable", retry_after)


# --- server-side (500) --------------------------------------------------------------------------


def misconfigured(message: str) -> ProxyError:
    return ProxyError(500, "server_misconfigured", message)


def internal_error() -> ProxyError:
    return ProxyError(
        500, "internal_error", "The proxy failed unexpectedly; the operator can find the request id in the logs."
    )
