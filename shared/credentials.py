"""Where the server-side Hugging Face token comes from, behind a small protocol an adapter can replace.

The core knows one source, the environment (``HF_TOKEN``, or ``HUGGINGFACE_API_KEY``), and imports
nothing platform-specific. The AWS Lambda adapter installs its own source, which also reads AWS
Secrets Manager, with its own settings (``functions/aws_lambda/secret.py``); the core never reads
those. No token is a ``server_misconfigured`` answer naming what to set.
"""

from __future__ import annotations

from typing import Protocol

from shared import errors
from shared.settings import Settings


class TokenSource(Protocol):
    """Gives the token to send upstream, or raises ``server_misconfigured`` naming the setting."""

    def __call__(self, settings: Settings) -> str: ...

    def configured(self, settings: Settings) -> bool:
        """Whether a token can be had, without fetching one (``/api/health``, the local demo fallback)."""
        ...


class EnvironmentToken:
    """The default source: the token from the settings (the environment), nothing else."""

    def __call__(self, settings: Settings) -> str:
        if settings.hf_token:
            return settings.hf_token
        raise errors.misconfigured(
            "The server has no Hugging Face token: set HF_TOKEN (on AWS Lambda, or HF_TOKEN_SECRET_ARN; "
            "no other platform reads a secret ARN)."
        )

    def configured(self, settings: Settings) -> bool:
        return bool(settings.hf_token)


ENVIRONMENT = EnvironmentToken()
