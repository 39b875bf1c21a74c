"""A fake of the hosted text-generation API: answers like ``router.huggingface.co/hf-inference``.

Replies for each row of the status map in docs/upstreams.md, so tests read like the table.
"""

from __future__ import annotations

from tests.fakes.http_server import Received, Reply


def echo_generation(req: Received) -> Reply:
    """Default success: the HF shape, derived from what was sent (so pass-through is provable)."""
    prompt = req.json().get("inputs", "")
    return Reply(json=[{"generated_text": f"{prompt} ... and the fake model continues."}])


def loading(estimated_time: float) -> Reply:
    return Reply(
        503, json={"error": "Model openai-community/gpt2 is currently loading", "estimated_time": estimated_time}
    )


ERROR_ROWS = {
    "invalid_token_400": Reply(400, json={"error": "Authorization header is correct, but the token seems invalid"}),
    "unauthorized_401": Reply(401, json={"error": "Invalid credentials in Authorization header"}),
    "credits_402": Reply(
        402, json={"error": "You have exceeded your monthly included credits for Inference Providers."}
    ),
    "not_found_404": Reply(404, body=b"Not Found", content_type="text/plain"),
    "retired_410": Reply(
        410,
        json={
            "error": "https://api-inference.huggingface.co/ is no longer supported. "
            "Please use https://router.huggingface.co/ instead."
        },
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
    "server_error_500": Reply(500, json={"error": "unknown error"}),
    "unavailable_503": Reply(
        503, body=b"<html><body>Service Temporarily Unavailable</body></html>", content_type="text/html"
    ),
    "gateway_timeout_504": Reply(504, body=b"<html>504 Gateway Time-out</html>", content_type="text/html"),
    "bad_json_200": Reply(200, body=b"<html>not json</html>", content_type="text/html"),
}
