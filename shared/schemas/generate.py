"""Body of ``POST /api/generate``: the Hugging Face text-generation shape, plus the shapes
existing clients send (``{"input"}`` from seed 000's Flask proxy, ``{"prompt"}`` from seed 004).

Parameter ranges follow the legacy pipeline server's validation (huggingface/api-inference-community
``validation.py``) and the current text-generation spec; ``max_new_tokens`` is capped by
``MAX_NEW_TOKENS``. Unknown keys are rejected, so nothing unvetted is forwarded with our token.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator

from shared.schemas.base import Number, Strict, StrictBool, StrictInt, StrictStr
from shared.schemas.limits import cap_tokens, check_prompt


class Parameters(BaseModel):
    model_config = Strict

    max_new_tokens: Annotated[StrictInt, Field(ge=1)] | None = None
    temperature: Annotated[Number, Field(ge=0, le=100)] | None = None
    top_p: Annotated[Number, Field(ge=0, le=1)] | None = None
    top_k: Annotated[StrictInt, Field(ge=1)] | None = None
    repetition_penalty: Annotated[Number, Field(ge=0, le=100)] | None = None
    return_full_text: StrictBool | None = None
    do_sample: StrictBool | None = None
    num_return_sequences: Annotated[StrictInt, Field(ge=1, le=10)] | None = None
    seed: Annotated[StrictInt, Field(ge=0, le=2**64 - 1)] | None = None
    stop: Annotated[list[Annotated[StrictStr, Field(min_length=1, max_length=64)]], Field(max_length=8)] | None = None
    max_time: Annotated[Number, Field(gt=0, le=120)] | None = None
    # TGI's text-generation parameters (what huggingface_hub's text_generation sends), with TGI's
    # own validation ranges: typical_p in (0, 1), frequency_penalty in [-2, 2], top_n_tokens up to
    # TGI's default --max-top-n-tokens 5, best_of only 1 (we never fan out paid calls).
    # https://huggingface.github.io/text-generation-inference/ (GenerateParameters)
    details: StrictBool | None = None
    decoder_input_details: StrictBool | None = None
    top_n_tokens: Annotated[StrictInt, Field(ge=0, le=5)] | None = None
    typical_p: Annotated[Number, Field(gt=0, lt=1)] | None = None
    truncate: Annotated[StrictInt, Field(ge=1, le=32768)] | None = None
    watermark: StrictBool | None = None
    frequency_penalty: Annotated[Number, Field(ge=-2, le=2)] | None = None
    best_of: Annotated[StrictInt, Field(ge=1, le=1)] | None = None

    @field_validator("max_new_tokens")
    @classmethod
    def _cap_tokens(cls, value: int | None, info: ValidationInfo) -> int | None:
        return cap_tokens(value, info)


class Options(BaseModel):
    model_config = Strict

    use_cache: StrictBool | None = None
    wait_for_model: StrictBool | None = None


class GenerateRequest(BaseModel):
    model_config = Strict

    inputs: StrictStr | None = None
    input: StrictStr | None = None
    prompt: StrictStr | None = None
    parameters: Parameters | None = None
    options: Options | None = None
    stream: StrictBool = False  # TGI-backed models only; others answer 400 (docs/upstreams.md)

    @model_validator(mode="after")
    def _one_prompt(self, info: ValidationInfo) -> GenerateRequest:
        given = [v for v in (self.inputs, self.input, self.prompt) if v is not None]
        if len(given) != 1:
            raise ValueError("send exactly one of 'inputs', 'input' or 'prompt'")
        check_prompt(given[0], info)
        return self

    @property
    def text(self) -> str:
        return next(v for v in (self.inputs, self.input, self.prompt) if v is not None)

    def upstream_payload(self, default_max_new_tokens: int) -> dict:
        """What goes to Hugging Face: always the HF shape, only the fields the caller set, and
        always ``max_new_tokens``: absent, ``default_max_new_tokens`` (the cap the request is
        charged at), so the upstream's own default never decides how much is generated."""
        payload: dict = {"inputs": self.text}
        if self.stream:
            payload["stream"] = True
        parameters = self.parameters.model_dump(exclude_none=True) if self.parameters is not None else {}
        parameters.setdefault("max_new_tokens", default_max_new_tokens)
        payload["parameters"] = parameters
        if self.options is not None:
            payload["options"] = self.options.model_dump(exclude_none=True)
        return payload
