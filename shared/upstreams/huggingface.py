"""The live answers of the model routes: Hugging Face's text generation, the router's chat, the Llama Space.

Each function answers one route's :class:`~shared.upstreams.plan.Plan` (the route table names it
as the route's ``live`` upstream; :mod:`shared.upstreams.demo` has the offline twins). All
Hugging Face APIs go through :class:`~shared.upstreams.hf_client.HFClient`.

``/api/generate`` falls back once: when the text-generation model is not served (502
``model_not_served``), the same request is answered through the router's chat completions by
``GENERATE_FALLBACK_MODEL`` (:mod:`shared.upstreams.generate_fallback`), inside the same deadline
and without being counted again. ``X-HFProxy-Model`` (and the log's ``answered_by``) says which
model answered.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from shared import errors
from shared.http import json_bytes
from shared.upstreams import hf_client
from shared.upstreams.call import UpstreamCall
from shared.upstreams.plan import Answer, Plan

_NO_FALLBACK = "HF_INFERENCE_URL, or set GENERATE_FALLBACK_MODEL to a chat model"


def generate(plan: Plan, call: UpstreamCall) -> Answer:
    body, settings = plan.body, call.settings
    call.answered(hf_client.TEXT_GENERATION)
    fallback = settings.generate_fallback_model
    client = hf_client.HFClient(call, "HF_INFERENCE_URL" if fallback else _NO_FALLBACK)
    try:
        assert plan.payload is not None  # the route always builds it (max_new_tokens always set)
        if not body.stream:
            return client.post(settings.hf_inference_url, plan.payload)
        return client.stream(settings.hf_inference_url, plan.payload, is_final=hf_client.tgi_done)
    except errors.ProxyError as exc:
        if exc.code != "model_not_served" or not fallback:
            raise
    from shared.upstreams import generate_fallback  # only a request whose model is gone pays for it

    call.answered(generate_fallback.NAME, fallback)
    return generate_fallback.answer(body, fallback, call)


def chat(plan: Plan, call: UpstreamCall) -> Answer:
    call.answered(hf_client.CHAT)
    client = hf_client.HFClient(call, "HF_CHAT_URL or CHAT_MODELS")
    assert plan.payload is not None  # the chat route always builds it
    if not plan.stream:
        return client.post(call.settings.hf_chat_url, plan.payload)
    # The usage chunk is always asked for (spend settlement) and passed on only if the client asked.
    payload = {**plan.payload, "stream_options": {"include_usage": True}}
    drop = None if plan.body.include_usage else hf_client.usage_only
    return client.stream(call.settings.hf_chat_url, payload, is_final=hf_client.chat_done, drop=drop)


def respond(plan: Plan, call: UpstreamCall) -> Answer:
    """The router's Responses API: its Response object, or its events until the final one. A
    failure the router reports in a 200 (a failed Response, an ``error`` or ``response.failed``
    event) reaches our client as the proxy's own error (:mod:`shared.upstreams.responses_stream`)."""
    from shared.upstreams import responses_stream

    call.answered(hf_client.RESPONSES)
    client = hf_client.HFClient(call, "HF_RESPONSES_URL or CHAT_MODELS")
    assert plan.payload is not None  # the route always builds it
    url = call.settings.hf_responses_url
    if plan.stream:
        answer = client.stream(
            url,
            plan.payload,
            is_final=responses_stream.done,
            error_of=responses_stream.failure(call),
            error_event=responses_stream.error_event(call),
        )
    else:
        answer = client.post(url, plan.payload)
    if isinstance(answer, bytes):  # plain, or a router that answered a stream request with JSON
        failed = responses_stream.failed_answer(json.loads(answer), call)
        if failed is not None:
            raise failed
    return answer


def predict(plan: Plan, call: UpstreamCall) -> Answer:
    from shared.upstreams import gradio_space  # imported by the route that needs it (cold start)

    call.answered(gradio_space.NAME)
    text = gradio_space.predict(plan.body.arguments(), plan.body.contract_payload(), call)
    return json_bytes({"generated_text": text})


def configured_model(url: str) -> str:
    """The model id in a ``.../models/{id}`` URL; a dedicated endpoint's host otherwise (never its path)."""
    if "/models/" in url:
        return url.rsplit("/models/", 1)[-1]
    return urlsplit(url).hostname or "custom"
