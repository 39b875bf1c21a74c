"""The provider's key set (JWKS) for signed-in users: when it cannot be read the answer is a 503,
never an open door, within the deadline; it is fetched once, refetched for an unknown key at most
once a minute, and a withdrawn key stops working once the cached set is ten minutes old."""

from __future__ import annotations

import logging
import time

import pytest

from tests.conftest import client_for
from tests.shared.auth.conftest import closed_port_url
from tests.shared.auth.test_sign_in import assert_no_trace, generate


@pytest.mark.parametrize("down", ["refused", "http_500", "not_json", "no_keys"])
def test_when_the_jwks_cannot_be_read_the_answer_is_503_never_an_open_door(auth_settings, idp, upstream, down, caplog):
    from tests.fakes.http_server import Reply

    settings = auth_settings
    if down == "refused":
        settings = auth_settings.with_changes(auth_jwks_url=closed_port_url("/jwks.json"))
    else:
        reply = {
            "http_500": Reply(status=500, json={"error": "boom"}),
            "not_json": Reply(body=b"<html>maintenance</html>", content_type="text/html"),
            "no_keys": Reply(json={"keys": [{"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"}]}),
        }[down]
        idp.server.default = lambda received: reply
    token = idp.token()
    with caplog.at_level(logging.DEBUG):
        answer = generate(client_for(settings), f"Bearer {token}")
    assert answer.status_code == 503
    assert answer.get_json()["code"] == "auth_unavailable"
    assert answer.headers["Retry-After"] == "5"
    assert upstream.received == []
    assert_no_trace(token, answer, caplog.text)


def test_a_jwks_slower_than_the_deadline_is_a_503_within_the_deadline(auth_settings, idp, upstream):
    from tests.fakes.http_server import Reply

    # GIVEN a JWKS that would answer after 10 s, and a 1 s request deadline
    idp.server.default = lambda received: Reply(json={"keys": idp.published}, delay=10)
    client = client_for(auth_settings.with_changes(request_deadline=1.0, deadline_margin=0.0))
    started = time.monotonic()
    answer = generate(client, f"Bearer {idp.token()}")
    # THEN the proxy gives up at its deadline (generous slack for a loaded machine), and says 503
    assert answer.status_code == 503 and answer.get_json()["code"] == "auth_unavailable"
    assert time.monotonic() - started < 1.0 + 2.0


class Clock:
    """The key set's clock, moved by the test (the request deadlines keep the real one)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(idp) -> Clock:
    """GIVEN the provider's key set cached on a clock the test moves."""
    from shared.auth import jwks

    moved = Clock()
    jwks._sets[idp.jwks_url] = jwks.KeySet(moved)
    return moved


def test_the_jwks_is_fetched_once_and_an_unknown_kid_refetches_at_most_once_a_minute(
    auth_settings, idp, upstream, clock
):
    client = client_for(auth_settings)
    # WHEN three users call with the three published keys
    for kid in ("rsa-1", "ec-1", "ed-1"):
        assert generate(client, f"Bearer {idp.token(kid)}").status_code == 200
    # THEN the set was fetched once
    assert idp.fetches() == 1
    # WHEN tokens naming a key nobody published flood in, in the same minute
    idp.add_key("rsa", "rsa-made-up", publish=False)
    for _ in range(5):
        assert generate(client, f"Bearer {idp.token('rsa-made-up')}").status_code == 401
    # THEN the provider is not asked again
    assert idp.fetches() == 1
    # WHEN a minute has passed: one more ask for the unknown kid, then none for another minute
    clock.now += 61
    for _ in range(5):
        assert generate(client, f"Bearer {idp.token('rsa-made-up')}").status_code == 401
    assert idp.fetches() == 2
    # WHEN the provider rotates in a new key: a minute later its tokens are accepted
    idp.add_key("ec", "ec-2")
    assert generate(client, f"Bearer {idp.token('ec-2')}").status_code == 401
    clock.now += 61
    assert generate(client, f"Bearer {idp.token('ec-2')}").status_code == 200
    assert idp.fetches() == 3
    # AND a known key never triggers a fetch
    assert generate(client, f"Bearer {idp.token('rsa-1')}").status_code == 200
    assert idp.fetches() == 3


def test_a_withdrawn_key_stops_working_once_the_cached_set_is_ten_minutes_old(auth_settings, idp, upstream, clock):
    from shared.auth import jwks

    client = client_for(auth_settings)
    assert generate(client, f"Bearer {idp.token('ec-1')}").status_code == 200
    # WHEN the provider withdraws the EC key
    idp.published[:] = [k for k in idp.published if k["kid"] != "ec-1"]
    clock.now += jwks.MAX_AGE
    # THEN its tokens are refused after the cache's age, and the others still pass
    assert generate(client, f"Bearer {idp.token('ec-1')}").status_code == 401
    assert generate(client, f"Bearer {idp.token('rsa-1')}").status_code == 200
    assert idp.fetches() == 2


def test_after_a_failed_fetch_the_jwks_is_asked_again_only_after_a_pause(auth_settings, idp, upstream, clock):
    from shared.auth import jwks

    client = client_for(auth_settings)
    idp.up = False
    for _ in range(3):
        assert generate(client, f"Bearer {idp.token()}").status_code == 503
    assert idp.fetches() == 1  # the other two were refused at once, not after a wait each
    # WHEN the provider is back and the pause is over
    idp.up = True
    clock.now += jwks.RETRY_AFTER_FAILURE
    assert generate(client, f"Bearer {idp.token()}").status_code == 200
    assert idp.fetches() == 2
