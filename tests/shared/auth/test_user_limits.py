"""Who is counted as whom: a signed-in user has an allowance of its own wherever it calls from;
anonymous callers keep the per-address one."""

from __future__ import annotations

import json

import pytest

from shared.limits import stores
from tests.conftest import client_for
from tests.shared.auth.test_sign_in import generate

OFFICE = "198.51.100.10"  # a hospital's one NAT address
HOME, PHONE = "192.0.2.20", "2001:db8:77:1::5"


def test_two_users_behind_one_address_have_separate_allowances(auth_settings, idp, upstream):
    # GIVEN one request a minute per user
    client = client_for(auth_settings.with_changes(user_rate_limit_per_minute=1))
    ada, bob = f"Bearer {idp.token(sub='ada')}", f"Bearer {idp.token('ec-1', sub='bob')}"
    # WHEN Ada and Bob call from the same address
    assert generate(client, ada, OFFICE).status_code == 200
    # THEN Bob still has his own allowance; Ada's second call is refused
    assert generate(client, bob, OFFICE).status_code == 200
    refused = generate(client, ada, OFFICE)
    assert refused.status_code == 429 and refused.get_json()["code"] == "rate_limited"
    assert len(upstream.received) == 2


def test_one_user_across_two_addresses_has_one_allowance(auth_settings, idp, upstream):
    # GIVEN 15 tokens a day per user
    client = client_for(auth_settings.with_changes(user_daily_tokens=15))
    ada = f"Bearer {idp.token(sub='ada')}"
    # WHEN Ada asks for 10 from home, then 10 from her phone on another network
    assert generate(client, ada, HOME).status_code == 200
    refused = generate(client, ada, PHONE)
    # THEN the second does not fit the 5 that remain: one person, one allowance
    assert refused.status_code == 429 and refused.get_json()["code"] == "client_quota_exceeded"
    assert refused.headers["RateLimit-Policy"] == '"day";q=15;w=86400;qu="tokens"'
    assert refused.headers["RateLimit"].startswith('"day";r=5;')


def test_users_and_anonymous_callers_have_their_own_limits(auth_settings, idp, upstream):
    # GIVEN 1 anonymous request per address per minute, 3 per signed-in user
    client = client_for(auth_settings.with_changes(rate_limit_per_minute=1, user_rate_limit_per_minute=3))
    ada = f"Bearer {idp.token(sub='ada')}"
    assert generate(client, None, OFFICE).status_code == 200
    assert generate(client, None, OFFICE).status_code == 429  # the address's one is used
    # THEN a user behind that address is not held to it, but to her own 3
    assert [generate(client, ada, OFFICE).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert generate(client, ada, OFFICE).headers["RateLimit-Policy"] == '"minute";q=3;w=60'


def test_without_user_limits_a_user_is_held_to_the_per_client_ones_as_a_person(auth_settings, idp, upstream):
    client = client_for(auth_settings.with_changes(rate_limit_per_minute=1))
    ada = f"Bearer {idp.token(sub='ada')}"
    assert generate(client, ada, HOME).status_code == 200
    assert generate(client, ada, PHONE).status_code == 429  # not a fresh allowance per address
    assert generate(client, f"Bearer {idp.token(sub='bob')}", HOME).status_code == 200


def test_the_daily_budget_counts_users_too(auth_settings, idp, upstream):
    client = client_for(auth_settings.with_changes(daily_token_budget=15))
    assert generate(client, f"Bearer {idp.token(sub='ada')}").status_code == 200
    refused = generate(client, f"Bearer {idp.token(sub='bob')}")
    assert refused.status_code == 503 and refused.get_json()["code"] == "budget_exhausted"


def test_a_user_is_stored_and_logged_by_pseudonym_only(auth_settings, idp, upstream, caplog):
    settings = auth_settings.with_changes(user_rate_limit_per_minute=1)
    client = client_for(settings)
    subject = "auth0|ada-lovelace-1815"
    with caplog.at_level("DEBUG"):
        generate(client, f"Bearer {idp.token(sub=subject)}")
        generate(client, f"Bearer {idp.token(sub=subject)}")
    keys = list(stores.store_for(settings)._counts)  # the memory store's counters
    assert any(":user_rate:" in key for key in keys)
    assert not any("ada" in key for key in keys)
    assert "ada-lovelace" not in caplog.text
    records = [
        json.loads(r.getMessage().split(" ", 1)[1]) for r in caplog.records if r.getMessage().startswith("request ")
    ]
    assert (records[-1]["limit"], records[-1]["code"]) == ("user_rate", "rate_limited")


@pytest.mark.parametrize("limit", ["user_rate_limit_per_minute", "user_daily_tokens"])
def test_a_user_limit_alone_turns_the_limits_on(auth_settings, idp, upstream, limit):
    client = client_for(auth_settings.with_changes(**{limit: 10}))
    assert "RateLimit-Policy" in generate(client, f"Bearer {idp.token()}").headers


def test_behind_the_signed_netlify_rewrite_users_are_not_held_to_the_signatures_allowance(auth_settings, idp, upstream):
    import time

    from shared.proxy_signature import HEADER
    from tests.shared.test_proxy_signature import SECRET, netlify_token

    # GIVEN the signed rewrite and 1 request a minute per client and per user
    settings = auth_settings.with_changes(proxy_signature_secret=SECRET, rate_limit_per_minute=1)
    client = client_for(settings)
    signature = netlify_token(iat=time.time())  # two visitors signed in the same second share it

    def via_netlify(authorization: str, visitor: str):
        from tests.conftest import post_json
        from tests.shared.auth.test_sign_in import GENERATE

        headers = {HEADER: signature, "X-Nf-Client-Connection-Ip": visitor, "Authorization": authorization}
        return post_json(
            client, "/api/generate", GENERATE, environ_base={"REMOTE_ADDR": "198.51.100.50"}, headers=headers
        )

    # THEN two users on the same signature each get their own allowance
    assert via_netlify(f"Bearer {idp.token(sub='ada')}", "192.0.2.1").status_code == 200
    assert via_netlify(f"Bearer {idp.token(sub='bob')}", "192.0.2.2").status_code == 200
    assert via_netlify(f"Bearer {idp.token(sub='ada')}", "192.0.2.3").status_code == 429
