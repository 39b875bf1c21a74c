"""What a model route hands its upstream: the validated request, planned once by the route.

A route's ``plan`` (:mod:`shared.routes.route`) turns the validated body into a :class:`Plan`;
the live upstream (:mod:`shared.upstreams.huggingface`) or the offline one
(:mod:`shared.upstreams.demo`) answers it with an :data:`Answer`: a JSON body, or the encoded
server-sent events of a stream, which the route streams or buffers as the adapter allows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

Answer = bytes | Iterator[bytes]  # a JSON body, or server-sent events


@dataclass(frozen=True)
class Plan:
    body: Any  # the route's validated pydantic request
    model: str | None  # what the request asks for, as logged
    prompt_chars: int
    tokens: int  # what the spend limits charge before anything goes upstream
    payload: dict | None = None  # the upstream request, when the route builds it
    announce: bool = False  # name the model in X-HFProxy-Model, errors included (/api/generate)

    @property
    def stream(self) -> bool:
        return bool(getattr(self.body, "stream", False))
