"""What answers the model routes, chosen once from the settings: Hugging Face, or the offline demo.

A route validates, counts (``Context.admit``) and hands the request to the process's
:class:`ModelUpstream`; it never asks which one it has. Both answer the same way: a JSON body
(bytes), or the events of a stream (an iterator of encoded server-sent events) which the route
streams, or buffers where the adapter cannot stream. Headers the answer must carry, error or not
(``X-HFProxy-Model``, ``X-HFProxy-Mode``), go into ``UpstreamCall.answer_headers``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from shared.schemas.chat import ChatRequest
    from shared.schemas.generate import GenerateRequest
    from shared.schemas.predict import PredictRequest
    from shared.settings import Settings
    from shared.upstreams.call import UpstreamCall

Answer = bytes | Iterator[bytes]  # a JSON body, or server-sent events
MODEL_HEADER = "X-HFProxy-Model"


class ModelUpstream(Protocol):
    def generate(self, body: GenerateRequest, call: UpstreamCall) -> Answer:
        """``POST /api/generate``: text generation (``[{"generated_text"}]`` or TGI token events)."""
        ...

    def chat(self, body: ChatRequest, payload: dict, call: UpstreamCall) -> Answer:
        """``POST /api/chat``: ``payload`` is the validated OpenAI-shape request for the upstream."""
        ...

    def predict(self, body: PredictRequest, call: UpstreamCall) -> Answer:
        """``POST /api/predict``: ``{"generated_text"}`` from the Llama Space."""
        ...


def for_settings(settings: Settings) -> ModelUpstream:
    """The one upstream these settings choose (DEMO_MODE: the offline demo)."""
    return _chosen(settings.demo_mode)


@cache
def _chosen(demo_mode: bool) -> ModelUpstream:
    if demo_mode:
        from shared.upstreams.demo import DemoUpstream

        return DemoUpstream()
    from shared.upstreams.huggingface import HuggingFace

    return HuggingFace()


def answered_by(call: UpstreamCall, model: str) -> None:
    """Which model answers this ``/api/generate`` request: the log's ``answered_by`` and the
    ``X-HFProxy-Model`` header (errors included)."""
    call.record.answered_by = model
    call.answer_headers[MODEL_HEADER] = re.sub(r"[^\x21-\x7e]", "", model)[:200]  # a header value: no CR/LF
