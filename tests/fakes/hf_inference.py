"""A fake of the hosted text-generation API: answers like ``router.huggingface.co/hf-inference``.

Replies for each row of the status map in docs/upstreams.md, so tests read like the table.
"""

from __future__ import annotations

from tests.fakes.http_server import Received, Reply


def hf_error(status: int, error: object, **reply) -> Reply:
    """Hugging Face's error answer, ``{"error": ...}``: a sentence, or the router's OpenAI-style object."""
    return Reply(status, json={"error": error}, **reply)


def echo_generation(req: Received) -> Reply:
    """Default success: the HF shape, derived from what was sent (so pass-through is provable)."""
    prompt = req.json().get("inputs", "")
    return Reply(json=[{"generated_text": f"{prompt} ... and the fake model continues."}])


def loading(estimated_time: float) -> Reply:
    return Reply(
        503, json={"error": "Model openai-community/gpt2 is currently loading", "estimated_time": estimated_time}
    )


ERROR_ROWS = {
    "invalid_token_400": hf_error(400, "Authorization header is correct, but the token seems invalid"),
    "unauthorized_401": hf_error(401, "Invalid credentials in Authorization header"),
    "credits_402": hf_error(402, "You have exceeded your monthly included credits for Inference Providers."),
    "not_found_404": Reply(404, body=b"Not Found", content_type="text/plain"),
    "retired_410": hf_error(
        410,
        "https://api-inference.huggingface.co/ is no longer supported. "
        "Please use https://router.huggingface.co/ instead.",
    ),
    "validation_422": Reply(
        422,
        json={
            "error": "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 1024",
            "error_type": "validation",
        },
    ),
    "rate_limited_429": Reply(
        429, json={"error": "Model is overloaded", "error_type": "overloaded"}, headers={"Retry-After": "7"}
    ),
    "server_error_500": hf_error(500, "unknown error"),
    "unavailable_503": Reply(
        503, body=b"<html><body>Service Temporarily Unavailable</body></html>", content_type="text/html"
    ),
    "gateway_timeout_504": Reply(504, body=b"<html>504 Gateway Time-out</html>", content_type="text/html"),
    "bad_json_200": Reply(200, body=b"<html>not json</html>", content_type="text/html"),
}


# "This model is not here", as Hugging Face has answered it (docs/model-availability.md).
NOT_SERVED_ROWS = {
    "provider_400": hf_error(400, "Model not supported by provider hf-inference"),
    "provider_lowercase_400": hf_error(400, "model not supported by provider Together."),
    "task_400": hf_error(400, "Task 'text-generation' not supported for provider. Available tasks: ['conversational']"),
    "task_and_provider_400": hf_error(
        400,
        "Model openai-community/gpt2 is not supported for task text-generation and provider nebius. "
        "Supported task: conversational.",
    ),
    "router_model_not_supported_400": hf_error(
        400,
        {
            "message": "The requested model 'openai-community/gpt2' is not supported by any provider you have enabled.",
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_supported",
        },
    ),
    "router_code_only_400": hf_error(
        400, {"message": "Unknown.", "type": "invalid_request_error", "code": "model_not_supported"}
    ),
    "not_found_404": ERROR_ROWS["not_found_404"],
    "not_found_json_404": hf_error(404, "Model openai-community/gpt2 does not exist"),
    "retired_410": ERROR_ROWS["retired_410"],
}

# The caller's own input, refused: these stay 400 upstream_rejected_request.
GENUINE_400_ROWS = {
    "cannot_stream": hf_error(400, "`stream` is not supported for this model"),
    "tokens_validation": hf_error(400, "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 1024"),
    "parameter_by_provider": hf_error(400, "Parameter 'logprobs' is not supported by provider together"),
    "temperature": hf_error(400, "Input validation error: `temperature` must be strictly positive"),
    "openai_invalid_value": hf_error(
        400, {"message": "max_tokens is too large", "type": "invalid_request_error", "code": "invalid_value"}
    ),
}
