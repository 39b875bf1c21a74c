"""Sign-in and the human check are on only when fully configured, with nothing a request can pick."""

from __future__ import annotations

import pytest

from shared.errors import ConfigError
from shared.settings import Settings

SIGN_IN = {
    "AUTH_JWKS_URL": "https://id.example/.well-known/jwks.json",
    "AUTH_ISSUER": "https://id.example/",
    "AUTH_AUDIENCE": "app",
}
HUMAN_CHECK = {"TURNSTILE_SECRET": "0x-widget-secret", "CLEARANCE_SECRET": "c" * 32}


def test_nothing_set_means_both_off():
    s = Settings.from_env({})
    assert (s.sign_in, s.auth_required, s.turnstile_secret) == (False, False, None)
    assert s.auth_algorithms == ("RS256", "ES256", "EdDSA")
    assert s.turnstile_verify_url == "https://challenges.cloudflare.com/turnstile/v0/siteverify"
    assert s.clearance_ttl == 3600


def test_a_complete_configuration_turns_both_on():
    s = Settings.from_env({**SIGN_IN, **HUMAN_CHECK, "AUTH_REQUIRED": "true", "AUTH_ALGORITHMS": "ES256, EdDSA"})
    assert s.sign_in and s.auth_required and s.auth_algorithms == ("ES256", "EdDSA")


@pytest.mark.parametrize("missing", list(SIGN_IN))
def test_half_a_sign_in_configuration_is_refused(missing):
    with pytest.raises(ConfigError, match="set all three"):
        Settings.from_env({k: v for k, v in SIGN_IN.items() if k != missing})


def test_sign_in_required_without_sign_in_is_refused():
    with pytest.raises(ConfigError, match="AUTH_REQUIRED"):
        Settings.from_env({"AUTH_REQUIRED": "true"})


@pytest.mark.parametrize("algorithms", ["HS256", "RS256,HS512", "none", "rs256", ""])
def test_symmetric_none_or_unknown_algorithms_are_refused(algorithms):
    env = {**SIGN_IN, "AUTH_ALGORITHMS": algorithms}
    if algorithms == "":  # unset: the default
        assert Settings.from_env(env).auth_algorithms == ("RS256", "ES256", "EdDSA")
        return
    with pytest.raises(ConfigError, match="AUTH_ALGORITHMS"):
        Settings.from_env(env)


@pytest.mark.parametrize("name", ["AUTH_JWKS_URL", "TURNSTILE_VERIFY_URL"])
def test_a_plain_http_jwks_or_siteverify_url_is_refused_off_loopback(name):
    env = {**SIGN_IN, **HUMAN_CHECK, name: "http://id.example/keys"}
    with pytest.raises(ConfigError, match=f"{name} must be an https URL"):
        Settings.from_env(env)
    assert Settings.from_env({**env, name: "http://127.0.0.1:8080/keys"})


@pytest.mark.parametrize("clearance", [None, "too-short"])
def test_a_human_check_needs_a_long_clearance_secret(clearance):
    env = {"TURNSTILE_SECRET": "0x-widget-secret"}
    if clearance:
        env["CLEARANCE_SECRET"] = clearance
    with pytest.raises(ConfigError, match="CLEARANCE_SECRET") as raised:
        Settings.from_env(env)
    assert "too-short" not in str(raised.value)  # never the value


def test_a_site_key_without_its_secret_is_refused():
    with pytest.raises(ConfigError, match="TURNSTILE_SITE_KEY"):
        Settings.from_env({"TURNSTILE_SITE_KEY": "0x-site"})


def test_the_secrets_stay_out_of_the_settings_repr():
    text = repr(Settings.from_env({**HUMAN_CHECK}))
    assert "0x-widget-secret" not in text and "c" * 32 not in text
