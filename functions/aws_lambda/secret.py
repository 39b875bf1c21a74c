"""The Lambda function's token source: ``HF_TOKEN``, else the AWS Secrets Manager secret ``HF_TOKEN_SECRET_ARN`` names.

Secrets Manager goes through powertools' ``parameters.get_secret`` (in-process cache, ``max_age``),
imported only when the ARN is set: the module pulls in boto3 (~0.2 s of cold start).
Docs: https://docs.powertools.aws.dev/lambda/python/latest/utilities/parameters/
Its two settings are this adapter's own (:class:`SecretSettings`): the core never reads them.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared import errors, log_redaction
from shared.config import declared, number, read, setting, text
from shared.credentials import ENVIRONMENT
from shared.setting_rules import TOKEN_VARIABLES
from shared.settings import Settings

log = logging.getLogger("hfproxy")

# Keys looked up when the secret is a JSON object (the console's "key/value" secrets).
SECRET_KEYS = (*TOKEN_VARIABLES, "token", "hf_token")
PARAMETERS_MODULE = "aws_lambda_powertools.utilities.parameters"


@dataclass(frozen=True)
class SecretSettings:
    """The Lambda adapter's own settings (docs/configuration.md, "AWS Lambda only")."""

    arn: str | None = setting(
        "HF_TOKEN_SECRET_ARN", None, text, "Secrets Manager secret holding the token (plain or JSON)."
    )
    max_age: int = setting(
        "HF_TOKEN_SECRET_MAX_AGE", 300, number(int, 0, 86400), "Seconds a fetched secret is reused before re-reading."
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SecretSettings:
        return cls(**read(cls, os.environ if env is None else env))

    @classmethod
    def declared(cls) -> list[tuple[str, Any, str]]:
        return declared(cls)


class SecretsManagerToken:
    """``HF_TOKEN`` when set (the core's source), else the secret; implements ``shared.credentials.TokenSource``.

    Its settings are read from the environment on first use unless given.
    """

    def __init__(self, secret: SecretSettings | None = None) -> None:
        self._secret = secret

    @property
    def secret(self) -> SecretSettings:
        if self._secret is None:
            self._secret = SecretSettings.from_env()
        return self._secret

    def __call__(self, settings: Settings) -> str:
        arn = self.secret.arn
        if settings.hf_token or not arn:
            return ENVIRONMENT(settings)
        return _from_secrets_manager(arn, self.secret.max_age)

    def configured(self, settings: Settings) -> bool:
        return bool(settings.hf_token or self.secret.arn)


SECRETS_MANAGER = SecretsManagerToken()


def _from_secrets_manager(arn: str, max_age: int) -> str:
    from aws_lambda_powertools.utilities import parameters  # lazy: imports boto3

    try:
        raw = parameters.get_secret(arn, max_age=max_age)
    except Exception as exc:  # GetParameterError wraps every botocore failure
        log.error("secret_unavailable %s", type(exc).__name__)
        raise errors.misconfigured(
            "The secret named by HF_TOKEN_SECRET_ARN could not be read; check the ARN and the function's "
            "secretsmanager:GetSecretValue permission."
        ) from None
    token = _token_from_secret(raw if isinstance(raw, str) else raw.decode())
    if not token:
        raise errors.misconfigured("The secret named by HF_TOKEN_SECRET_ARN is empty or has no HF_TOKEN key.")
    log_redaction.register(token)  # from now on, never in a log line
    return token


def _token_from_secret(value: str) -> str | None:
    value = value.strip()
    if value.startswith("{"):
        try:
            data = json.loads(value)
        except ValueError:
            return None
        return next((str(data[k]).strip() for k in SECRET_KEYS if isinstance(data, dict) and data.get(k)), None)
    return value or None


def clear_cache() -> None:
    """Forget cached secrets and the source's settings (tests, or an operator rotating a secret by hand)."""
    SECRETS_MANAGER._secret = None
    if PARAMETERS_MODULE in sys.modules:
        sys.modules[PARAMETERS_MODULE].clear_caches()
