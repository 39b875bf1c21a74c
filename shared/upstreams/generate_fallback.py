"""``/api/generate`` answered by a chat model, when the text-generation model is not served.

Hugging Face keeps moving text generation off its serverless API (docs/model-availability.md), so
when the configured model answers ``model_not_served`` the same request is asked once of
``GENERATE_FALLBACK_MODEL`` through the router's chat completions (the same
:class:`~shared.upstreams.hf_client.HFClient`, transport and deadline), answered in the
text-generation shape:

- ``[{"generated_text": ...}]``, the prompt first when ``return_full_text`` is true, which is the
  default of the hf-inference pipeline this route was built on (``TextGenerationPipeline``:
  https://github.com/huggingface/transformers/blob/main/src/transformers/pipelines/text_generation.py);
- streamed as TGI token events, ``{"index", "token": {"id", "text", "logprob", "special"},
  "generated_text": null}``, ending with a special empty token that carries ``generated_text``
  and ``details`` as TGI's last event does
  (https://huggingface.co/docs/text-generation-inference/conceptual/streaming);
- ``max_new_tokens`` -> ``max_tokens`` (capped by ``CHAT_MAX_TOKENS``), ``temperature`` (clamped
  to the chat range 0..2), ``top_p``, ``stop``, ``seed`` mapped
  (https://huggingface.co/docs/inference-providers/tasks/chat-completion); the other parameters
  have no chat equivalent and are not sent; one sequence is answered.
"""

from __future__ import annotations

import json
from typing import Any

from shared import errors
from shared.http import json_bytes
from shared.schemas.generate import GenerateRequest
from shared.settings import Settings
from shared.upstreams import hf_client, sse
from shared.upstreams.call import UpstreamCall
from shared.upstreams.plan import Answer

NAME = hf_client.CHAT
URL_SETTING = "GENERATE_FALLBACK_MODEL (or HF_CHAT_URL)"
# A chat model answers a prompt; asked this way it continues it, as a text-generation model would.
INSTRUCTION = "Continue the user's text. Reply with the continuation only, without repeating the text."
MAX_CHAT_TEMPERATURE = 2.0
_NO_SPACE_BEFORE = ".,;:!?)]}'\"-"
_FINISH = {"length": "length", "stop": "eos_token"}  # chat finish_reason -> TGI finish_reason


def chat_payload(body: GenerateRequest, model: str, settings: Settings, stream: bool) -> dict:
    """The chat request for this text-generation request."""
    params = body.parameters
    wanted = (params.max_new_tokens if params else None) or settings.max_new_tokens
    payload: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "system", "content": INSTRUCTION}, {"role": "user", "content": body.text}],
        "max_tokens": min(wanted, settings.chat_max_tokens),  # never more than Scope.admit counted
    }
    if params is not None:
        if params.temperature is not None:
            payload["temperature"] = min(float(params.temperature), MAX_CHAT_TEMPERATURE)
        for name in ("top_p", "stop", "seed"):
            if getattr(params, name) is not None:
                payload[name] = getattr(params, name)
    if stream:  # the usage chunk settles the spend limits; the token events never show it
        payload["stream"] = True
        payload["stream_options"] = {"include_usage": True}
    return payload


def answer(body: GenerateRequest, model: str, call: UpstreamCall) -> Answer:
    """Ask the chat model; answer ``[{"generated_text"}]``, or TGI token events for a stream."""
    client = hf_client.HFClient(call, URL_SETTING)
    url = call.settings.hf_chat_url
    if not body.stream:
        return from_completion(client.post(url, chat_payload(body, model, call.settings, stream=False)), body)
    payload = chat_payload(body, model, call.settings, stream=True)
    answered = client.stream(url, payload, is_final=hf_client.chat_done, convert=TokenEvents(body))
    return from_completion(answered, body) if isinstance(answered, bytes) else answered  # the router did not stream


def from_completion(answer: bytes, body: GenerateRequest) -> bytes:
    """A ``chat.completion`` body (token already redacted) as the text-generation answer."""
    try:
        message = json.loads(answer)["choices"][0]["message"]
        text = message.get("content") or ""
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        raise errors.upstream_bad_response() from None
    if not isinstance(text, str):
        raise errors.upstream_bad_response()
    continuation = seam(body.text, text) + text
    return json_bytes([{"generated_text": _shown(body, continuation)}])  # a lone surrogate becomes U+FFFD


class TokenEvents:
    """Chat ``chat.completion.chunk`` events -> TGI token events, the last at ``[DONE]``."""

    def __init__(self, body: GenerateRequest) -> None:
        self.body = body
        self.parts: list[str] = []
        self.finish: str | None = None

    def __call__(self, event: sse.Event) -> list[dict]:
        if event.data.strip() == sse.DONE:
            return [self.final()]
        data = event.json()
        choices = data.get("choices") if isinstance(data, dict) else None
        choice = choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], dict) else {}
        if choice.get("finish_reason"):
            self.finish = str(choice["finish_reason"])
        delta = choice.get("delta")
        text = delta.get("content") if isinstance(delta, dict) else None
        if not isinstance(text, str) or not text:
            return []
        if not self.parts:
            text = seam(self.body.text, text) + text
        self.parts.append(text)
        return [_token_event(len(self.parts), text, special=False)]

    def final(self) -> dict:
        event = _token_event(len(self.parts) + 1, "", special=True)
        params = self.body.parameters
        event["generated_text"] = _shown(self.body, "".join(self.parts))
        event["details"] = {
            "finish_reason": _FINISH.get(self.finish or "stop", "eos_token"),
            "generated_tokens": len(self.parts),  # chunks: the router does not count tokens per chunk
            "seed": params.seed if params else None,
        }
        return event


def _token_event(index: int, text: str, *, special: bool) -> dict:
    token = {"id": index, "text": text, "logprob": 0.0, "special": special}
    return {"index": index, "token": token, "generated_text": None, "details": None}


def seam(prompt: str, text: str) -> str:
    """A space between the prompt and a continuation that starts a new word (a chat model's answer
    does not begin with the space a text-generation model's next token carries)."""
    if not prompt or not text or prompt[-1].isspace() or text[0].isspace() or text[0] in _NO_SPACE_BEFORE:
        return ""
    return " "


def _shown(body: GenerateRequest, continuation: str) -> str:
    params = body.parameters
    full = params is None or params.return_full_text is None or params.return_full_text
    return body.text + continuation if full else continuation
