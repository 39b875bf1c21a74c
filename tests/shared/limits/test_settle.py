"""Spend is settled with what the model really produced (issue 26) and a request that was never
forwarded costs nothing (issue 28): the reservation made at admission is corrected after the
answer, in every store, and the next answer's RateLimit fields show it."""

from __future__ import annotations

import pytest

from shared.deadline import Deadline
from shared.limits.policy import charges_for
from shared.limits.stores import store_for
from shared.settings import Settings
from tests.conftest import client_for, post_json, refused_url
from tests.fakes import hf_chat
from tests.fakes.http_server import Reply

NOW = 1_800_000_000.0
CHAT = {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 100}


@pytest.fixture(params=["memory", "redis", "dynamodb"])
def store_settings(request) -> Settings:
    """GIVEN each store: in process, a real redis-server, DynamoDB through moto."""
    limits = {"rate_limit_per_minute": 50, "client_daily_tokens": 1000, "daily_token_budget": 5000}
    if request.param == "redis":
        return Settings(quota_store="redis", redis_url=request.getfixturevalue("redis_url"), **limits)
    if request.param == "dynamodb":
        return Settings(quota_store="dynamodb", quota_table=request.getfixturevalue("dynamodb_table"), **limits)
    return Settings(**limits)


def counts(settings: Settings, client: str) -> tuple[int, ...]:
    """Each counter as it stands: a zero-token charge that always fits reads them."""
    charges = charges_for(settings, client, 0, NOW)
    probe = [c.__class__(c.limit_name, c.key, 0, c.limit, c.window, c.resets_at) for c in charges]
    return store_for(settings).charge(probe, NOW, Deadline.after(10)).used


def test_a_store_gives_back_part_of_a_charge_and_never_goes_below_zero(store_settings):
    store = store_for(store_settings)
    charges = charges_for(store_settings, "a", 100, NOW)
    assert store.charge(charges, NOW, Deadline.after(10)).refused is None
    assert counts(store_settings, "a") == (1, 100, 100)
    # WHEN 60 of the 100 reserved tokens are given back
    store.give_back(charges, [0, 60, 60], Deadline.after(10))
    assert counts(store_settings, "a") == (1, 40, 40)
    # AND more than is there: the counters stop at zero
    store.give_back(charges, [5, 500, 500], Deadline.after(10))
    assert counts(store_settings, "a") == (0, 0, 0)


def test_a_chat_answer_settles_to_its_completion_tokens(chat_settings, upstream):
    # GIVEN a client allowed 300 tokens a day, and a model that writes 20 of the 100 it may
    client = client_for(chat_settings.with_changes(client_daily_tokens=300))
    answer = hf_chat.completion("short")
    answer["usage"] = {"prompt_tokens": 3, "completion_tokens": 20, "total_tokens": 23}
    upstream.enqueue(Reply(json=answer), Reply(json=answer))
    # WHEN it asks twice
    post_json(client, "/api/chat", CHAT, environ_base={"REMOTE_ADDR": "192.0.2.9"})
    second = post_json(client, "/api/chat", CHAT, environ_base={"REMOTE_ADDR": "192.0.2.9"})
    # THEN the second answer's RateLimit shows the first settled at 20 (300 - 20 - 100 reserved)
    assert second.status_code == 200
    assert '"day";r=180;' in second.headers["RateLimit"]


def test_a_chat_stream_settles_from_the_usage_chunk_the_proxy_asks_for(chat_settings, upstream):
    # GIVEN a streamed chat whose client did not ask for usage
    client = client_for(chat_settings.with_changes(client_daily_tokens=300))
    usage = {**hf_chat.chunk(None), "choices": [], "usage": {"completion_tokens": 7}}
    reply = hf_chat.words_stream(["a", " b"])
    reply.stream.insert(-1, hf_chat.event(usage))
    upstream.enqueue(reply)
    streamed = post_json(client, "/api/chat", {**CHAT, "stream": True}, environ_base={"REMOTE_ADDR": "192.0.2.8"})
    body = streamed.get_data(as_text=True)
    streamed.close()
    # THEN the router was asked for usage, the client did not see the usage chunk, and 7 were counted
    assert upstream.received[-1].json()["stream_options"] == {"include_usage": True}
    assert '"usage"' not in body and "[DONE]" in body
    again = post_json(client, "/api/chat", CHAT, environ_base={"REMOTE_ADDR": "192.0.2.8"})
    assert '"day";r=193;' in again.headers["RateLimit"]  # 300 - 7 - 100


@pytest.mark.parametrize("how", ["refused connection", "upstream 429", "error before the first event"])
def test_an_answer_that_failed_before_its_first_token_gives_the_reservation_back(chat_settings, upstream, how):
    settings = chat_settings.with_changes(client_daily_tokens=300, rate_limit_per_minute=10)
    if how == "refused connection":
        settings = settings.with_changes(hf_chat_url=refused_url())
    elif how == "upstream 429":
        upstream.enqueue(Reply(429, json={"error": "slow down"}))
    else:
        upstream.enqueue(Reply(stream=[hf_chat.event({"error": "model crashed"})], content_type="text/event-stream"))
    client = client_for(settings)
    body = {**CHAT, "stream": how == "error before the first event"}
    failed = post_json(client, "/api/chat", body, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    failed.get_data()
    failed.close()
    # THEN the next answer shows the whole reservation back (and the request unit too if never forwarded)
    upstream.enqueue(Reply(json={**hf_chat.completion("ok"), "usage": {"completion_tokens": 100}}))
    ok = post_json(client, "/api/chat", CHAT, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert '"day";r=200;' in ok.headers["RateLimit"]
    expected_minute = 9 if how == "refused connection" else 8
    assert f'"minute";r={expected_minute};' in ok.headers["RateLimit"]


def test_an_answer_that_reports_no_usage_keeps_its_reservation(settings, upstream):
    # GIVEN text generation without details (the upstream does not say how much it generated)
    client = client_for(settings.with_changes(client_daily_tokens=100))
    ask = {"inputs": "Hi", "parameters": {"max_new_tokens": 30}}
    post_json(client, "/api/generate", ask, environ_base={"REMOTE_ADDR": "192.0.2.6"})
    again = post_json(client, "/api/generate", ask, environ_base={"REMOTE_ADDR": "192.0.2.6"})
    assert '"day";r=40;' in again.headers["RateLimit"]  # 100 - 30 - 30: nothing to settle with
