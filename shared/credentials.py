"""Where the server-side Hugging Face token comes from, behind a small protocol an adapter can replace.

The core knows one source, the environment (``HF_TOKEN``, or ``HUGGINGFACE_API_KEY``), and imports
nothing platform-specific. The AWS Lambda adapter installs its own source, which also reads AWS
Secrets Manager (``functions/aws_lambda/secret.py``). Everywhere else ``HF_TOKEN_SECRET_ARN`` alone
is refused with a ``server_misconfigured`` answer that names it, rather than failing on an import the
platform's bundle does not have.
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
        if settings.hf_token_secret_arn:
            raise errors.misconfigured(
                "HF_TOKEN_SECRET_ARN is read only by the AWS Lambda function; on this platform set HF_TOKEN."
            )
        raise errors.misconfigured(
            "The server has no Hugging Face token: set HF_TOKEN (or HF_TOKEN_SECRET_ARN on AWS)."
        )

    def configured(self, settings: Settings) -> bool:
        return bool(settings.hf_token)


ENVIRONMENT = EnvironmentToken()
