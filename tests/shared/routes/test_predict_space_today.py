"""POST /api/predict against the Space as it runs today: endpoint discovery, ZeroGPU, sleep.

Loopback fakes (tests/fakes/gradio_space.py) and the real Gradio serving an ``Interface`` whose
function has its own name (``ask_llama``), which Gradio 6 makes the endpoint's name.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import client_for, post_json
from tests.fakes import llama_space
from tests.fakes.gradio_space import EventStream, FakeSpace
from tests.fakes.http_server import Reply
from tests.fakes.space_fixtures import space_settings

BODY = {"inputs": "hello", "parameters": {"model": "llama-2-7b-chat"}}
GRADIO6 = "6.31.0"


def predict(settings, body=BODY):
    return post_json(client_for(settings), "/api/predict", body)


def discovering(url: str, **changes):
    """Settings with LLAMA_SPACE_API_NAME unset (its default): the endpoint comes from /info."""
    return space_settings(url, llama_space_api_name=None, **changes)


# --- api_name discovery ------------------------------------------------------------------------


def test_real_gradio_interface_endpoint_named_after_its_function_is_found(real_gradio_interface):
    # GIVEN the real Gradio serving an Interface of `def ask_llama`, and no LLAMA_SPACE_API_NAME
    # WHEN the browser sends the documented body
    resp = predict(discovering(real_gradio_interface))
    # THEN the one endpoint /info lists (/ask_llama) answers
    assert resp.status_code == 200, resp.json
    assert resp.json == {"generated_text": llama_space.expected("hello")}


def test_real_gradio_gpu_quota_refusal_is_429_with_the_wait_it_names(real_gradio_interface):
    # GIVEN the real Gradio whose function refuses as ZeroGPU does (gr.Error, "retry in 0:01:23")
    resp = predict(discovering(real_gradio_interface), {"inputs": llama_space.QUOTA_PROMPT})
    # THEN 429 space_gpu_quota_exceeded, Retry-After the message's 83 seconds, not its HTML or text
    assert resp.status_code == 429, resp.json
    assert resp.json["code"] == "space_gpu_quota_exceeded"
    assert resp.headers["Retry-After"] == "83"
    assert "Sign-up" not in resp.json["error"]


@pytest.mark.parametrize(
    "make",
    [FakeSpace.gradio3, FakeSpace.gradio4, lambda **kw: FakeSpace(GRADIO6, prefix="/gradio_api", **kw)],
    ids=["gradio3", "gradio4", "gradio6"],
)
def test_one_listed_endpoint_is_used_and_remembered(start_space, make):
    # GIVEN a Space whose /info lists exactly one endpoint, of any name, and no LLAMA_SPACE_API_NAME
    space = start_space(make(api_name="generate_reply"))
    settings = discovering(space.url)
    # WHEN two requests arrive in one warm process
    first, second = predict(settings), predict(settings)
    # THEN both are answered through that endpoint, and /config and /info were read once
    assert first.status_code == second.status_code == 200, first.json
    paths = space.paths()
    assert sum(p.endswith("/config") for p in paths) == 1
    assert sum(p.endswith("/info") for p in paths) == 1
    assert any("/generate_reply" in p for p in paths)


def test_several_listed_endpoints_are_named_in_the_error(start_space):
    # GIVEN a Gradio 6 Space whose /info lists three endpoints, and no LLAMA_SPACE_API_NAME
    space = start_space(FakeSpace(GRADIO6, prefix="/gradio_api", api_name="chat", other_endpoints=("reset", "lambda")))
    resp = predict(discovering(space.url))
    # THEN 502 space_api_name_ambiguous naming each, and the setting to set; nothing was called
    assert resp.status_code == 502
    assert resp.json["code"] == "space_api_name_ambiguous"
    assert "/chat, /lambda, /reset" in resp.json["error"] and "LLAMA_SPACE_API_NAME" in resp.json["error"]
    assert not any(p.startswith("POST") for p in space.paths())


def test_no_listed_endpoint_or_unreadable_info_names_the_setting(start_space):
    # GIVEN a Gradio 4 Space whose /info answers 404
    space = start_space(FakeSpace.gradio4())
    space.override("info", Reply(404, json={"detail": "Not Found"}))
    resp = predict(discovering(space.url))
    # THEN 502 space_api_name_ambiguous: the operator must name the endpoint
    assert resp.status_code == 502 and resp.json["code"] == "space_api_name_ambiguous"
    assert "could not be read" in resp.json["error"]


def test_a_set_api_name_skips_info(start_space):
    # GIVEN LLAMA_SPACE_API_NAME set WHEN a request arrives THEN /info is never read
    space = start_space(FakeSpace.gradio4(api_name="chat", other_endpoints=("reset",)))
    resp = predict(space_settings(space.url, llama_space_api_name="chat"))
    assert resp.status_code == 200
    assert not any(p.endswith("/info") for p in space.paths())


# --- ZeroGPU quota -----------------------------------------------------------------------------

QUOTA_EVENT = json.dumps(
    {"error": "You have exceeded your GPU quota (60s requested vs. 12s left). Try again in 2:05:11"}
)


def test_gpu_quota_in_a_gradio6_error_event_is_429_with_retry_after(start_space):
    # GIVEN a Gradio 6.13+ Space whose error event carries ZeroGPU's refusal with a wait of 2:05:11
    space = start_space(FakeSpace(GRADIO6, prefix="/gradio_api"))
    space.override("events", EventStream([(0, f"event: error\ndata: {QUOTA_EVENT}\n\n")]))
    resp = predict(space_settings(space.url))
    # THEN 429 with Retry-After 7511 s
    assert resp.status_code == 429 and resp.json["code"] == "space_gpu_quota_exceeded"
    assert resp.headers["Retry-After"] == "7511"


def test_gpu_quota_on_gradio3_rest_is_429(start_space):
    # GIVEN a Gradio 3 Space whose function refuses with the quota wording (500 {"error": ...})
    space = start_space(FakeSpace.gradio3())
    resp = predict(space_settings(space.url), {"inputs": llama_space.QUOTA_PROMPT})
    # THEN 429 with the message's 83 s
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "83"


def test_gpu_quota_without_a_wait_time_gets_the_default_retry_after(start_space):
    # GIVEN the 2025 wording, which names no wait ("Create a free account to get more usage quota")
    message = (
        "You have exceeded your GPU quota (60s requested vs. 56s left). "
        '<a href="https://huggingface.co/join">Create a free account</a> to get more usage quota.'
    )
    space = start_space(FakeSpace(GRADIO6, prefix="/gradio_api"))
    space.override("events", EventStream([(0, f"event: error\ndata: {json.dumps({'error': message})}\n\n")]))
    resp = predict(space_settings(space.url))
    # THEN 429 with a minute's Retry-After, and no HTML in the answer
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "60"
    assert "<a" not in resp.json["error"]


def test_other_space_errors_stay_502(start_space):
    # GIVEN the stand-in's own gr.Error (not the quota) THEN 502 space_error as before
    space = start_space(FakeSpace.gradio3())
    resp = predict(space_settings(space.url), {"inputs": llama_space.FAILING_PROMPT})
    assert resp.status_code == 502 and resp.json["code"] == "space_error"


# --- sleeping and building ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "reply",
    [
        Reply(503, body=b"<html>Space is sleeping</html>", content_type="text/html", headers={"Retry-After": "45"}),
        Reply(503, json={"error": "Service Unavailable"}, headers={"Retry-After": "45"}),
    ],
    ids=["html-503", "json-503"],
)
def test_sleeping_or_building_space_is_503_with_its_retry_after(start_space, reply):
    # GIVEN a Space whose HF proxy answers 503 while it wakes or builds, saying when to come back
    space = start_space(FakeSpace(GRADIO6, prefix="/gradio_api"))
    space.override("config", reply)
    resp = predict(discovering(space.url))
    # THEN 503 space_unavailable with that Retry-After, and nothing is cached: the next request rediscovers
    assert resp.status_code == 503 and resp.json["code"] == "space_unavailable"
    assert resp.headers["Retry-After"] == "45"
    assert predict(discovering(space.url)).status_code == 200


def test_info_while_the_space_goes_to_sleep_is_503(start_space):
    # GIVEN /config answered but /info is HF's 503 page (the Space went to sleep between the two)
    space = start_space(FakeSpace(GRADIO6, prefix="/gradio_api"))
    space.override("info", Reply(503, body=b"<html>building</html>", content_type="text/html"))
    resp = predict(discovering(space.url))
    # THEN 503 with the default 30 s
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "30"
