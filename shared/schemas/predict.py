"""Body of ``POST /api/predict``: the contract seed 003's Llama Space *documents*.

``{"inputs": str, "parameters": {"model", "max_new_tokens", "temperature", "top_p", "do_sample"}}``
with the seed's defaults. Ranges are the Space's own sliders (max_new_tokens 10..1024 step 10,
temperature 0.1..1.5); ``max_new_tokens`` is also capped by ``LLAMA_MAX_NEW_TOKENS`` and ``model``
must be in ``LLAMA_MODELS``. Unknown keys are rejected, so nothing unvetted reaches the Space.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from shared.schemas.base import Strict, StrictBool, StrictFloat, StrictInt, StrictStr
from shared.schemas.limits import cap_tokens, check_model, check_prompt, limits_of

DEFAULT_MAX_NEW_TOKENS = 500


class PredictParameters(BaseModel):
    model_config = Strict

    model: Annotated[StrictStr, Field(validate_default=True)] = "llama-2-7b-chat"
    # None -> the seed's 500, or the server's cap when that is lower (an omitted value is never a 400).
    max_new_tokens: Annotated[Annotated[StrictInt, Field(ge=10, le=1024)] | None, Field(validate_default=True)] = None
    temperature: Annotated[StrictFloat, Field(ge=0.1, le=1.5)] = 0.7
    top_p: Annotated[StrictFloat, Field(ge=0, le=1)] = 0.95
    do_sample: StrictBool = True

    @field_validator("model")
    @classmethod
    def _allowed_model(cls, value: str, info: ValidationInfo) -> str:
        return check_model(value, info)

    @field_validator("max_new_tokens")
    @classmethod
    def _cap_tokens(cls, value: int | None, info: ValidationInfo) -> int:
        if value is None:
            return min(DEFAULT_MAX_NEW_TOKENS, limits_of(info).max_tokens)
        cap_tokens(value, info)
        return value

    @property
    def tokens(self) -> int:
        """The max_new_tokens sent (and charged): always set once validated."""
        assert self.max_new_tokens is not None, "the validator fills it in"
        return self.max_new_tokens


class PredictRequest(BaseModel):
    model_config = Strict

    inputs: StrictStr
    # default_factory + validate_default: a body without "parameters" still gets the allowlist
    # and the cap checked against the seed's defaults, with the same validation context.
    parameters: Annotated[PredictParameters, Field(default_factory=dict, validate_default=True)]

    @field_validator("inputs")
    @classmethod
    def _prompt(cls, value: str, info: ValidationInfo) -> str:
        return check_prompt(value, info)

    def arguments(self) -> dict:
        """Every value the Space may need, by name (the names ``LLAMA_DATA_ORDER`` lists)."""
        return {"inputs": self.inputs, **self.parameters.model_dump()}

    def contract_payload(self) -> dict:
        """The documented body, complete: the Space sees the same defaults the browser was promised."""
        return {"inputs": self.inputs, "parameters": self.parameters.model_dump()}
