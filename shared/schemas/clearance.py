"""Body of ``POST /api/clearance``: the token the Turnstile widget handed the page."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from shared.schemas.base import Strict, StrictStr


class ClearanceRequest(BaseModel):
    model_config = Strict

    # Cloudflare's documented maximum length (shared/auth/clearance.py).
    token: Annotated[StrictStr, Field(min_length=1, max_length=2048)]
