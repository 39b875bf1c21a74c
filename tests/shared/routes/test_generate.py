"""POST /api/generate: the body shapes clients send, validation, and what reaches the upstream."""

from __future__ import annotations

import pytest

from tests.conftest import TEST_TOKEN, post_json


@pytest.mark.parametrize("key", ["inputs", "input", "prompt"])
def test_each_client_shape_is_forwarded_as_hf_inputs(client, upstream, key):
    # GIVEN a client that sends its own shape (HF, seed 000's Flask proxy, seed 004)
    # WHEN it posts a prompt
    resp = post_json(client, "/api/generate", {key: "Once upon a time"})
    # THEN the upstream receives the HF shape, and the client gets the upstream's JSON unchanged
    assert resp.status_code == 200, resp.text
    assert upstream.received[-1].json() == {"inputs": "Once upon a time", "parameters": {"max_new_tokens": 512}}
    assert resp.json == [{"generated_text": "Once upon a time ... and the fake model continues."}]


def test_parameters_and_options_are_forwarded_as_sent(client, upstream):
    params = {
        "max_new_tokens": 20,
        "temperature": 0.7,
        "top_p": 0.9,
        "top_k": 50,
        "repetition_penalty": 1.2,
        "return_full_text": False,
        "do_sample": True,
        "num_return_sequences": 2,
        "seed": 42,
        "stop": ["\n"],
        "max_time": 10.0,
    }
    resp = post_json(
        client, "/api/generate", {"inputs": "Hi", "parameters": params, "options": {"wait_for_model": True}}
    )
    assert resp.status_code == 200, resp.text
    assert upstream.received[-1].json() == {"inputs": "Hi", "parameters": params, "options": {"wait_for_model": True}}


def test_upstream_gets_the_server_token_and_none_of_the_callers_headers(client, upstream):
    # GIVEN a caller that sends its own credentials and proxy headers
    resp = post_json(
        client,
        "/api/generate",
        {"inputs": "Hi"},
        headers={
            "Authorization": "Bearer caller-token",
            "Cookie": "session=abc",
            "X-Forwarded-For": "1.2.3.4",
            "X-Forwarded-Host": "evil.example",
            "X-Custom": "x",
        },
    )
    # THEN only the server's token goes upstream, and nothing of the caller's
    assert resp.status_code == 200
    sent = upstream.received[-1].headers
    assert sent["authorization"] == f"Bearer {TEST_TOKEN}"
    assert "cookie" not in sent and "x-custom" not in sent
    assert not [h for h in sent if h.startswith("x-forwarded")]
    assert sent["host"] == f"127.0.0.1:{upstream.port}"
    assert sent["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "body"),
        ({"inputs": "a", "prompt": "b"}, "body"),
        ({"inputs": ""}, "body"),
        ({"inputs": "   "}, "body"),
        ({"inputs": 5}, "inputs"),
        ({"inputs": ["a"]}, "inputs"),
        ({"inputs": "a", "parameters": {"temperature": -1}}, "parameters.temperature"),
        ({"inputs": "a", "parameters": {"temperature": "0.5"}}, "parameters.temperature"),
        ({"inputs": "a", "parameters": {"top_p": 1.5}}, "parameters.top_p"),
        ({"inputs": "a", "parameters": {"top_k": 0}}, "parameters.top_k"),
        ({"inputs": "a", "parameters": {"top_k": True}}, "parameters.top_k"),
        ({"inputs": "a", "parameters": {"max_new_tokens": 100000}}, "parameters.max_new_tokens"),
        ({"inputs": "a", "parameters": {"num_return_sequences": 11}}, "parameters.num_return_sequences"),
        ({"inputs": "a", "parameters": {"max_time": 121}}, "parameters.max_time"),
        ({"inputs": "a", "parameters": {"stop": "x"}}, "parameters.stop"),
        ({"inputs": "a", "parameters": {"unknown": 1}}, "parameters.unknown"),
        ({"inputs": "a", "options": {"use_gpu": True}}, "options.use_gpu"),
        ({"inputs": "a", "extra": 1}, "extra"),
        (["inputs"], "body"),
    ],
)
def test_invalid_bodies_get_400_with_details_and_nothing_goes_upstream(client, upstream, payload, field):
    resp = post_json(client, "/api/generate", payload)
    assert resp.status_code == 400
    assert resp.json["code"] == "validation_error"
    assert field in [d["field"] for d in resp.json["details"]]
    assert upstream.received == []


def test_validation_errors_never_echo_the_input(client, upstream):
    secret_prompt = "my private symptom description"
    resp = post_json(client, "/api/generate", {"inputs": secret_prompt, "parameters": {"seed": secret_prompt}})
    assert resp.status_code == 400
    assert secret_prompt not in resp.text


def test_prompt_limit_is_configurable(settings, upstream):
    from tests.conftest import client_for

    client = client_for(settings.with_changes(max_prompt_chars=10))
    assert post_json(client, "/api/generate", {"inputs": "x" * 10}).status_code == 200
    resp = post_json(client, "/api/generate", {"inputs": "x" * 11})
    assert resp.status_code == 400 and "at most 10 characters" in resp.text


def test_max_new_tokens_cap_is_configurable(settings, upstream):
    from tests.conftest import client_for

    client = client_for(settings.with_changes(max_new_tokens=64))
    assert post_json(client, "/api/generate", {"inputs": "a", "parameters": {"max_new_tokens": 64}}).status_code == 200
    resp = post_json(client, "/api/generate", {"inputs": "a", "parameters": {"max_new_tokens": 65}})
    assert resp.status_code == 400 and "at most 64" in resp.text


def test_demo_mode_answers_offline_and_says_so(settings, upstream):
    from tests.conftest import client_for

    client = client_for(settings.with_changes(demo_mode=True, hf_token=None))
    first = post_json(client, "/api/generate", {"inputs": "Hello"})
    again = post_json(client, "/api/generate", {"inputs": "Hello"})
    assert first.status_code == 200
    assert first.headers["X-HFProxy-Mode"] == "demo"
    assert first.json == again.json
    assert first.json[0]["generated_text"].startswith("Hello [demo]")
    assert upstream.received == []


def test_no_token_outside_demo_mode_is_a_500_naming_the_setting(settings, upstream):
    from tests.conftest import client_for

    client = client_for(settings.with_changes(hf_token=None))
    resp = post_json(client, "/api/generate", {"inputs": "Hello"})
    assert resp.status_code == 500
    assert resp.json["code"] == "server_misconfigured"
    assert "HF_TOKEN" in resp.json["error"]
    assert upstream.received == []


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    ("parameters", "sent", "charged"),
    [
        (None, {"max_new_tokens": 512}, 512),
        ({"num_return_sequences": 3}, {"max_new_tokens": 512, "num_return_sequences": 3}, 1536),
        ({"max_new_tokens": 40}, {"max_new_tokens": 40}, 40),
        ({"max_new_tokens": 40, "num_return_sequences": 2}, {"max_new_tokens": 40, "num_return_sequences": 2}, 80),
    ],
)
def test_generate_always_sends_the_max_new_tokens_it_charged_for(settings, upstream, stream, parameters, sent, charged):
    # GIVEN a daily allowance that shows what a request was charged
    from tests.conftest import client_for
    from tests.fakes import hf_chat

    client = client_for(settings.with_changes(client_daily_tokens=10_000))
    if stream:
        upstream.enqueue(hf_chat.tgi_stream(["a"]))
    body = {
        "inputs": "hi",
        **({"parameters": parameters} if parameters else {}),
        **({"stream": True} if stream else {}),
    }
    # WHEN the request is forwarded
    resp = post_json(client, "/api/generate", body)
    resp.get_data()
    # THEN the upstream got the cap the request was charged at, never its own default
    assert upstream.received[-1].json()["parameters"] == sent
    assert f'"day";r={10_000 - charged};' in resp.headers["RateLimit"]
