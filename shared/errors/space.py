"""What the Llama Space did (POST /api/predict): asleep, full, out of GPU quota, or not what was configured."""

from __future__ import annotations

from shared.envelope import ProxyError, retry_in


def space_unavailable(retry_after: int) -> ProxyError:
    return retry_in(503, "space_unavailable", "The Llama Space is asleep, building or restarting", retry_after)


def space_queue_full(retry_after: int) -> ProxyError:
    return retry_in(503, "space_queue_full", "The Llama Space's queue is full", retry_after)


def space_gpu_quota_exceeded(retry_after: int) -> ProxyError:
    """ZeroGPU refused to run the Space's function: the server account's GPU quota is used up."""
    return retry_in(
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
