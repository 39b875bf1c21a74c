"""The error types: :class:`ProxyError` (what a client sees, in our envelope or OpenAI's error
object) and :class:`ConfigError` (a malformed setting). The catalogue of codes is :mod:`shared.errors`,
which re-exports both.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ProxyError(Exception):
    status: int
    code: str
    message: str
    details: list[dict[str, str]] | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(f"{self.status} {self.code}")

    def body(self) -> dict:
        out: dict = {"error": self.message, "code": self.code}
        if self.details is not None:
            out["details"] = self.details
        return out

    def openai_body(self) -> dict:
        """OpenAI's error object (https://platform.openai.com/docs/guides/error-codes), our stable
        code in ``code``: the SDKs show ``error.message`` (so it names the first invalid field)."""
        message, param = self.message, None
        if self.details:
            param = self.details[0]["field"]
            message = "The request body failed validation: " + "; ".join(
                f"{d['field']}: {d['message']}" for d in self.details
            )
        error: dict = {"message": message, "type": _openai_type(self.status), "code": self.code, "param": param}
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}

    def stream_event_body(self, shape: str) -> dict:
        """The data of the last event of a stream that failed after its 200 was sent.

        On the OpenAI paths one object both SDK families read as an error with our sentence:
        ``error`` is OpenAI's error object, which openai-python raises as ``APIError(message)``
        (``_streaming.py``, ``_raise_streaming_error``: https://github.com/openai/openai-python/blob/main/src/openai/_streaming.py)
        and the AI SDK's chat parser reads as an error chunk; ``type: "error"`` with ``code``,
        ``message`` and ``param`` beside it is the Responses API's error event, which the AI
        SDK's Responses parser turns into an error part. Elsewhere: our envelope.
        """
        if shape != "openai":
            return self.body()
        error = self.openai_body()["error"]
        return {
            "type": "error",
            "code": self.code,
            "message": error["message"],
            "param": error["param"],
            "error": error,
        }

    def body_for(self, shape: str) -> dict:
        """The body in a route's error shape (``shared.routes.Route.errors``)."""
        return self.openai_body() if shape == "openai" else self.body()


def retry_in(status: int, code: str, message: str, retry_after: int) -> ProxyError:
    """A refusal the client may retry: the wait in words and in ``Retry-After`` (seconds)."""
    return ProxyError(status, code, f"{message}; retry in {retry_after} s.", headers={"Retry-After": str(retry_after)})


def _openai_type(status: int) -> str:
    if status == 401:
        return "authentication_error"
    if status == 403:
        return "permission_error"
    if status == 404:
        return "not_found_error"
    if status == 429:
        return "rate_limit_error"
    return "invalid_request_error" if status < 500 else "server_error"


class ConfigError(Exception):
    """A server setting is missing or malformed; the message names the setting (never its value)."""
