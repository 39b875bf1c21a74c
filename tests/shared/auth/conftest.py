"""Fixtures for the access checks: a fake identity provider and a fake Turnstile siteverify, both
real HTTP servers on 127.0.0.1, and settings that point the proxy at them."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from shared.settings import Settings
from tests.fakes import identity_provider
from tests.fakes.http_server import FakeServer, served
from tests.fakes.identity_provider import AUDIENCE, ISSUER, IdentityProvider
from tests.fakes.turnstile import SECRET as TURNSTILE_SECRET
from tests.fakes.turnstile import SITE_KEY, siteverify_answer


@pytest.fixture(autouse=True)
def _fresh_key_sets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no JWKS cached (the cache is one per process, as deployed)."""
    from shared.auth import jwks

    monkeypatch.setattr(jwks, "_sets", {})


@pytest.fixture(scope="session")
def _idp_server() -> Iterator[FakeServer]:
    yield from served(FakeServer())


@pytest.fixture
def idp(_idp_server: FakeServer) -> IdentityProvider:
    """GIVEN an identity provider with fresh RSA, EC and Ed25519 keys, its JWKS on loopback."""
    return identity_provider.start(_idp_server)


@pytest.fixture
def auth_settings(settings: Settings, idp: IdentityProvider) -> Settings:
    """GIVEN sign-in on, pointed at the fake provider (its issuer and the app's audience)."""
    return settings.with_changes(auth_jwks_url=idp.jwks_url, auth_issuer=ISSUER, auth_audience=AUDIENCE)


@pytest.fixture(scope="session")
def _siteverify_server() -> Iterator[FakeServer]:
    yield from served(FakeServer())


@pytest.fixture
def siteverify(_siteverify_server: FakeServer) -> FakeServer:
    """GIVEN a fake Turnstile siteverify API on loopback, fresh for this test."""
    _siteverify_server.reset()
    _siteverify_server.default = siteverify_answer
    return _siteverify_server


@pytest.fixture
def clearance_settings(settings: Settings, siteverify: FakeServer) -> Settings:
    """GIVEN the human check on (a widget secret, a clearance secret made for the test)."""
    return settings.with_changes(
        turnstile_secret=TURNSTILE_SECRET,
        turnstile_site_key=SITE_KEY,
        turnstile_verify_url=siteverify.url + "/turnstile/v0/siteverify",
        clearance_secret="clearance-secret-made-for-the-tests-0123456789",
    )


def closed_port_url(path: str) -> str:
    """A loopback URL where nothing listens: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"
