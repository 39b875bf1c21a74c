"""The live model upstream: Hugging Face's text generation, the router's chat, the Llama Space.

``/api/generate`` falls back once: when the text-generation model is not served (502
``model_not_served``), the same request is answered through the router's chat completions by
``GENERATE_FALLBACK_MODEL`` (:mod:`shared.upstreams.generate_fallback`), inside the same deadline
and without being counted again. ``X-HFProxy-Model`` (and the log's ``answered_by``) says which
model answered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from shared import errors
from shared.http import json_bytes
from shared.upstreams import hf_chat, hf_inference
from shared.upstreams.model_upstream import Answer, answered_by

if TYPE_CHECKING:
    from shared.schemas.chat import ChatRequest
    from shared.schemas.generate import GenerateRequest
    from shared.schemas.predict import PredictRequest
    from shared.upstreams.call import UpstreamCall

_NO_FALLBACK = "HF_INFERENCE_URL, or set GENERATE_FALLBACK_MODEL to a chat model"


class HuggingFace:
    def generate(self, body: GenerateRequest, call: UpstreamCall) -> Answer:
        call.record.upstream = hf_inference.NAME  # the route named the configured model (answered_by)
        fallback = call.settings.generate_fallback_model
        try:
            return _text_generation(body, call, "HF_INFERENCE_URL" if fallback else _NO_FALLBACK)
        except errors.ProxyError as exc:
            if exc.code != "model_not_served" or not fallback:
                raise
        return _fallback(body, call, fallback)

    def chat(self, body: ChatRequest, payload: dict, call: UpstreamCall) -> Answer:
        call.record.upstream = hf_chat.NAME
        if not body.stream:
            return hf_chat.complete(payload, call)
        opened = hf_chat.open_stream(payload, call)
        if isinstance(opened, bytes):  # the upstream answered without streaming: pass that on as it is
            return opened
        return hf_chat.relay(opened, call)

    def predict(self, body: PredictRequest, call: UpstreamCall) -> Answer:
        from shared.upstreams import gradio_space  # imported by the route that needs it (cold start)

        call.record.upstream = gradio_space.NAME
        text = gradio_space.predict(body.arguments(), body.contract_payload(), call)
        return json_bytes({"generated_text": text})


def _text_generation(body: GenerateRequest, call: UpstreamCall, setting: str) -> Answer:
    if not body.stream:
        return hf_inference.generate(body.upstream_payload(), call, url_setting=setting)
    opened = hf_inference.open_stream(body.upstream_payload(stream=True), call, url_setting=setting)
    if isinstance(opened, bytes):  # the model answered without streaming: pass that on as it is
        return opened
    return hf_inference.relay(opened, call)


def _fallback(body: GenerateRequest, call: UpstreamCall, model: str) -> Answer:
    """The one fallback of this request; its own failure is answered as it maps."""
    from shared.upstreams import generate_fallback

    call.record.upstream = generate_fallback.NAME
    answered_by(call, model)
    if not body.stream:
        return generate_fallback.complete(body, model, call)
    opened = generate_fallback.open_stream(body, model, call)
    if isinstance(opened, bytes):  # the router answered without streaming
        return generate_fallback.from_completion(opened, body)
    return generate_fallback.relay(opened, body, call)


def configured_model(url: str) -> str:
    """The model id in a ``.../models/{id}`` URL; a dedicated endpoint's host otherwise (never its path)."""
    if "/models/" in url:
        return url.rsplit("/models/", 1)[-1]
    return urlsplit(url).hostname or "custom"
