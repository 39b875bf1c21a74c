"""The Lambda function's token source: ``HF_TOKEN``, else the AWS Secrets Manager secret ``HF_TOKEN_SECRET_ARN`` names.

Secrets Manager goes through powertools' ``parameters.get_secret`` (in-process cache, ``max_age``),
imported only when the ARN is set: the module pulls in boto3 (~0.2 s of cold start).
Docs: https://docs.powertools.aws.dev/lambda/python/latest/utilities/parameters/
"""

from __future__ import annotations

import json
import logging
import sys

from shared import errors
from shared.credentials import ENVIRONMENT
from shared.settings import TOKEN_VARIABLES, Settings

log = logging.getLogger("hfproxy")

# Keys looked up when the secret is a JSON object (the console's "key/value" secrets).
SECRET_KEYS = (*TOKEN_VARIABLES, "token", "hf_token")
PARAMETERS_MODULE = "aws_lambda_powertools.utilities.parameters"


class SecretsManagerToken:
    """``HF_TOKEN`` when set (the core's source), else the secret; implements ``shared.credentials.TokenSource``."""

    def __call__(self, settings: Settings) -> str:
        if settings.hf_token or not settings.hf_token_secret_arn:
            return ENVIRONMENT(settings)
        return _from_secrets_manager(settings.hf_token_secret_arn, settings.secret_max_age)

    def configured(self, settings: Settings) -> bool:
        return bool(settings.hf_token or settings.hf_token_secret_arn)


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
    """Forget cached secrets (tests, or an operator rotating a secret by hand)."""
    if PARAMETERS_MODULE in sys.modules:
        sys.modules[PARAMETERS_MODULE].clear_caches()
