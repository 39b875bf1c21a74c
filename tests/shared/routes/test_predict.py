"""POST /api/predict through the WSGI app: one browser contract, every Space protocol, every fault.

Spaces are real HTTP servers on 127.0.0.1: loopback fakes per Gradio generation
(tests/fakes/gradio_space.py, each test names the version it stands for) and, for the current
protocol, the real ``gradio`` package serving the seed Space's stand-in.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.conftest import TEST_TOKEN, client_for, post_json, refused_url
from tests.fakes import llama_space
from tests.fakes.gradio_space import HEARTBEAT, EventStream, FakeSpace
from tests.fakes.http_server import Reply
from tests.fakes.space_fixtures import space_settings

PROMPT = "What helps with a sore knee after running?"
BROWSER_BODY = {
    "inputs": PROMPT,
    "parameters": {"model": "llama-2-13b-chat", "max_new_tokens": 200, "temperature": 0.3, "top_p": 0.9},
}
EXPECTED = llama_space.expected(PROMPT, "llama-2-13b-chat", 200, 0.3)

FAKES = {
    "contract Space (seed's documented /api/predict)": FakeSpace.contract,
    "Gradio 3.37 (REST /run/predict)": FakeSpace.gradio3,
    "Gradio 4.44 (/call + SSE, no prefix)": FakeSpace.gradio4,
    "Gradio 5.x-style fake (/call under /gradio_api)": lambda: FakeSpace("5.49.1", prefix="/gradio_api"),
}


def predict(settings, body=BROWSER_BODY, **kwargs):
    return post_json(client_for(settings), "/api/predict", body, **kwargs)


# --- the same answer from every protocol ---------------------------------------------------------


@pytest.mark.parametrize("make", FAKES.values(), ids=FAKES.keys())
def test_same_answer_from_every_fake_protocol(start_space, make):
    # GIVEN a Space of one protocol generation
    space = start_space(make())
    # WHEN the browser sends the seed's documented body
    resp = predict(space_settings(space.url))
    # THEN it gets the documented answer, and every upstream call carried the server's token
    assert resp.status_code == 200, resp.json
    assert resp.json == {"generated_text": EXPECTED}
    assert space.received and all(r.headers["authorization"] == f"Bearer {TEST_TOKEN}" for r in space.received)


def test_same_answer_from_real_current_gradio(real_gradio):
    # GIVEN the seed Space's stand-in on the installed (current) Gradio
    # WHEN the browser sends the same body THEN it gets the same text as from every fake
    resp = predict(space_settings(real_gradio))
    assert resp.status_code == 200, resp.json
    assert resp.json == {"generated_text": EXPECTED}


def test_real_gradio_defaults_and_gr_error(real_gradio):
    # GIVEN the real Gradio stand-in
    settings = space_settings(real_gradio)
    # WHEN parameters are omitted THEN the seed's defaults reach the Space's function
    resp = predict(settings, {"inputs": "hello"})
    assert resp.json == {"generated_text": llama_space.expected("hello")}
    # WHEN the function raises gr.Error THEN 502 with the Space's own sentence
    resp = predict(settings, {"inputs": llama_space.FAILING_PROMPT})
    assert resp.status_code == 502
    assert resp.json["code"] == "space_error"
    assert "The model is overloaded, try a shorter prompt." in resp.json["error"]


def test_real_gradio_crash_hides_the_exception(real_gradio):
    # GIVEN the real Gradio stand-in WHEN its function raises a plain exception
    resp = predict(space_settings(real_gradio), {"inputs": llama_space.CRASHING_PROMPT})
    # THEN 502 space_error without the exception's text
    assert resp.status_code == 502 and resp.json["code"] == "space_error"
    assert llama_space.SECRET_DETAIL not in resp.get_data(as_text=True)


def test_real_gradio_unknown_api_name_lists_info(real_gradio):
    # GIVEN the real Gradio stand-in, and the api_name of the seed's unnamed lambda
    resp = predict(space_settings(real_gradio, llama_space_api_name="lambda"))
    # THEN 502 naming what /info lists
    assert resp.status_code == 502
    assert resp.json["code"] == "space_api_name_unknown"
    assert "/lambda" in resp.json["error"] and "lists /predict" in resp.json["error"]


# --- what goes upstream --------------------------------------------------------------------------


def test_contract_space_receives_the_documented_body_with_defaults(start_space):
    # GIVEN a contract Space WHEN the browser omits parameters
    space = start_space(FakeSpace.contract())
    resp = predict(space_settings(space.url), {"inputs": PROMPT})
    # THEN the Space gets the documented body with the seed's defaults, at /api/predict
    assert resp.status_code == 200
    assert space.paths() == ["GET /config", "POST /api/predict"]
    assert space.received[-1].json() == {
        "inputs": PROMPT,
        "parameters": {
            "model": "llama-2-7b-chat",
            "max_new_tokens": 500,
            "temperature": 0.7,
            "top_p": 0.95,
            "do_sample": True,
        },
    }


def test_gradio3_gets_data_in_the_seed_functions_order(start_space):
    # GIVEN a Gradio 3.37 Space
    space = start_space(FakeSpace.gradio3())
    predict(space_settings(space.url))
    # THEN one REST call with data = [inputs, model, max_new_tokens, temperature]
    assert space.paths() == ["GET /config", "POST /run/predict"]
    assert space.received[-1].json() == {"data": [PROMPT, "llama-2-13b-chat", 200, 0.3]}


def test_gradio4_two_step_call(start_space):
    # GIVEN a Gradio 4.44 Space WHEN the browser asks
    space = start_space(FakeSpace.gradio4())
    predict(space_settings(space.url))
    # THEN POST /call/predict, then GET its event stream, and nothing else
    assert [p.rsplit("/", 1)[0] if p.startswith("GET /call") else p for p in space.paths()] == [
        "GET /config",
        "POST /call/predict",
        "GET /call/predict",
    ]
    assert space.received[-1].headers["accept"].startswith("text/event-stream")


def test_data_order_is_configurable(start_space):
    # GIVEN a Space whose function takes (model, inputs, top_p, do_sample)
    space = start_space(FakeSpace.gradio3())
    space.override("run", Reply(json={"data": ["reordered"], "is_generating": False}))
    settings = space_settings(space.url, llama_data_order=("model", "inputs", "top_p", "do_sample"))
    # WHEN the browser asks THEN data follows LLAMA_DATA_ORDER
    resp = predict(settings)
    assert resp.json == {"generated_text": "reordered"}
    assert space.received[-1].json() == {"data": ["llama-2-13b-chat", PROMPT, 0.9, True]}


def test_discovery_is_cached_per_process(start_space):
    # GIVEN a Gradio 4.44 Space already asked once
    space = start_space(FakeSpace.gradio4())
    settings = space_settings(space.url)
    predict(settings)
    space.received.clear()
    # WHEN the browser asks again THEN /config is not fetched again
    assert predict(settings).json == {"generated_text": EXPECTED}
    assert "GET /config" not in space.paths()


def test_forced_contract_protocol_skips_discovery(start_space):
    space = start_space(FakeSpace.contract())
    resp = predict(space_settings(space.url, llama_space_protocol="contract"))
    assert resp.status_code == 200 and space.paths() == ["POST /api/predict"]


def test_forced_gradio_protocol_against_a_contract_space(start_space):
    # GIVEN LLAMA_SPACE_PROTOCOL=gradio and a Space without a Gradio /config
    space = start_space(FakeSpace.contract())
    resp = predict(space_settings(space.url, llama_space_protocol="gradio"))
    # THEN 502 telling the operator what to check
    assert resp.status_code == 502 and resp.json["code"] == "space_not_gradio"


def test_streamed_generating_events_end_with_complete(start_space):
    # GIVEN a Gradio 4.44 Space that streams a partial answer first
    space = start_space(FakeSpace.gradio4(generating_first=True))
    # THEN the answer is the complete one, not the partial
    assert predict(space_settings(space.url)).json == {"generated_text": EXPECTED}


# --- browser input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parameters", "field"),
    [
        ({"model": "gpt-4"}, "parameters.model"),
        ({"max_new_tokens": 5}, "parameters.max_new_tokens"),
        ({"max_new_tokens": 2048}, "parameters.max_new_tokens"),
        ({"temperature": 0.05}, "parameters.temperature"),
        ({"temperature": 1.6}, "parameters.temperature"),
        ({"top_p": 1.5}, "parameters.top_p"),
        ({"do_sample": "yes"}, "parameters.do_sample"),
        ({"seed": 1}, "parameters.seed"),
    ],
)
def test_invalid_parameters_are_400_before_any_upstream_call(start_space, parameters, field):
    space = start_space(FakeSpace.gradio4())
    resp = predict(space_settings(space.url), {"inputs": "hi", "parameters": parameters})
    assert resp.status_code == 400 and resp.json["code"] == "validation_error"
    assert [d["field"] for d in resp.json["details"]] == [field]
    assert space.received == []


def test_model_allowlist_and_token_cap_are_configurable(start_space):
    # GIVEN LLAMA_MODELS=llama-2-7b and LLAMA_MAX_NEW_TOKENS=100
    space = start_space(FakeSpace.gradio3())
    settings = space_settings(space.url, llama_models=("llama-2-7b",), llama_max_new_tokens=100)
    # THEN another seed model is refused, the cap applies, and an omitted value defaults to the cap
    refused = predict(settings, {"inputs": "hi", "parameters": {"model": "llama-2-7b-chat"}})
    assert refused.status_code == 400 and "llama-2-7b" in refused.json["details"][0]["message"]
    capped = predict(settings, {"inputs": "hi", "parameters": {"model": "llama-2-7b", "max_new_tokens": 200}})
    assert capped.status_code == 400 and "at most 100" in capped.json["details"][0]["message"]
    ok = predict(settings, {"inputs": "hi", "parameters": {"model": "llama-2-7b"}})
    assert ok.json == {"generated_text": llama_space.expected("hi", "llama-2-7b", 100)}


@pytest.mark.parametrize("body", [{"inputs": "   "}, {"prompt": "hi"}, {"inputs": 3}, {}])
def test_bad_prompt_is_400(start_space, body):
    space = start_space(FakeSpace.gradio4())
    resp = predict(space_settings(space.url), body)
    assert resp.status_code == 400 and resp.json["code"] == "validation_error"


# --- faults --------------------------------------------------------------------------------------

SLEEPING_PAGE = Reply(503, body=b"<!doctype html><title>Space is sleeping</title>", content_type="text/html")


def test_sleeping_space_is_503_with_retry_after(start_space):
    # GIVEN a Space asleep: its host answers /config with an HTML page
    space = start_space(FakeSpace.gradio4())
    space.override("config", SLEEPING_PAGE)
    resp = predict(space_settings(space.url))
    # THEN 503 space_unavailable, Retry-After set, no HTML passed on
    assert resp.status_code == 503 and resp.json["code"] == "space_unavailable"
    assert resp.headers["Retry-After"] == "30"
    assert b"<title>" not in resp.data
    # AND nothing was cached: once awake, the next request discovers and answers
    assert predict(space_settings(space.url)).json == {"generated_text": EXPECTED}


def test_building_space_html_200_on_call_is_503(start_space):
    # GIVEN a Gradio 4.44 Space whose host answers the call with a 200 HTML "building" page
    space = start_space(FakeSpace.gradio4())
    space.override(
        "call", Reply(200, body=b"<html>Building</html>", content_type="text/html", headers={"Retry-After": "12"})
    )
    resp = predict(space_settings(space.url))
    assert resp.status_code == 503 and resp.json["code"] == "space_unavailable"
    assert resp.headers["Retry-After"] == "12"


def test_gradio3_opaque_502_is_503(start_space):
    space = start_space(FakeSpace.gradio3())
    space.override("run", Reply(502, body=b"Bad Gateway", content_type="text/plain"))
    space.override("info", Reply(200, json={"named_endpoints": {"/predict": {}}}))
    resp = predict(space_settings(space.url))
    assert resp.status_code == 503 and resp.json["code"] == "space_unavailable"


def test_queue_full_is_503(start_space):
    # GIVEN a Gradio 4.44 Space whose queue is full (gradio/routes.py queue_join_helper: 503)
    space = start_space(FakeSpace.gradio4())
    space.override("call", Reply(503, json={"detail": "Queue is full. Max size is 1 and size is 1."}))
    resp = predict(space_settings(space.url))
    assert resp.status_code == 503 and resp.json["code"] == "space_queue_full"
    assert resp.headers["Retry-After"] == "30"


def test_gradio4_error_event_null_is_502_without_reason(start_space):
    # GIVEN Gradio 4.44, whose error event carries null (up to 6.12)
    space = start_space(FakeSpace.gradio4())
    resp = predict(space_settings(space.url), {"inputs": llama_space.FAILING_PROMPT})
    assert resp.status_code == 502 and resp.json["code"] == "space_error"
    assert resp.json["error"] == "The Llama Space failed to answer (it gave no reason)."


def test_gradio613_error_event_dict_gives_the_spaces_message(start_space):
    # GIVEN Gradio 6.13+, whose error event carries {"error": str, ...}
    space = start_space(
        FakeSpace(
            "6.13.0",
            prefix="/gradio_api",
            error_event_data='{"error": "CUDA out of memory, retry later", "visible": true}',
        )
    )
    resp = predict(space_settings(space.url), {"inputs": llama_space.FAILING_PROMPT})
    assert resp.status_code == 502
    assert resp.json["error"] == "The Llama Space failed to answer: CUDA out of memory, retry later"


@pytest.mark.parametrize(
    "data",
    [
        json.dumps('Traceback (most recent call last):\n  File "/app.py", line 3, in f\nValueError: secret-x'),
        json.dumps({"error": 'Error in File "/home/user/app.py", line 12 secret-x'}),
    ],
)
def test_error_event_traceback_is_never_returned(start_space, data):
    space = start_space(FakeSpace.gradio4(error_event_data=data))
    resp = predict(space_settings(space.url), {"inputs": llama_space.FAILING_PROMPT})
    assert resp.status_code == 502 and resp.json["code"] == "space_error"
    assert "secret-x" not in resp.get_data(as_text=True) and "Traceback" not in resp.get_data(as_text=True)


def test_gradio3_error_message_and_token_redaction(start_space):
    # GIVEN Gradio 3.37 whose function error quotes the server's token
    space = start_space(FakeSpace.gradio3())
    space.override("run", Reply(500, json={"error": f"bad auth {TEST_TOKEN}"}))
    resp = predict(space_settings(space.url))
    assert resp.status_code == 502 and resp.json["code"] == "space_error"
    assert TEST_TOKEN not in resp.get_data(as_text=True) and "[redacted]" in resp.json["error"]


def test_gradio3_gr_error_message(start_space):
    space = start_space(FakeSpace.gradio3())
    resp = predict(space_settings(space.url), {"inputs": llama_space.FAILING_PROMPT})
    assert resp.status_code == 502
    assert resp.json["error"].endswith("The model is overloaded, try a shorter prompt.")


@pytest.mark.parametrize("make", [FakeSpace.gradio3, FakeSpace.gradio4], ids=["gradio 3.37", "gradio 4.44"])
def test_unknown_api_name_names_what_info_lists(start_space, make):
    # GIVEN a Space whose endpoint is /generate, and the default LLAMA_SPACE_API_NAME=predict
    space = start_space(make(api_name="generate"))
    resp = predict(space_settings(space.url))
    # THEN 502 saying which names /info lists
    assert resp.status_code == 502 and resp.json["code"] == "space_api_name_unknown"
    assert "no API endpoint /predict; its /info lists /generate" in resp.json["error"]


def test_gradio4_contract_mode_is_told_to_use_gradio(start_space):
    # GIVEN a Gradio 4.44 Space forced to the contract: its /api/predict says "join the queue"
    space = start_space(FakeSpace.gradio4())
    resp = predict(space_settings(space.url, llama_space_protocol="contract"))
    assert resp.status_code == 502 and resp.json["code"] == "space_endpoint_missing"


def test_gradio_before_420_queue_only_is_unsupported(start_space):
    # GIVEN Gradio 4.10 (before /call existed) with its API closed to direct POSTs
    space = start_space(FakeSpace("4.10.0"))
    resp = predict(space_settings(space.url))
    assert resp.status_code == 502 and resp.json["code"] == "space_protocol_unsupported"
    assert "4.10.0" in resp.json["error"]


def test_data_the_endpoint_refuses_is_502_naming_the_setting(start_space):
    # GIVEN a Gradio 5.x Space that refuses the data list (422, a validator error)
    space = start_space(FakeSpace("5.49.1", prefix="/gradio_api"))
    space.override("call", Reply(422, json={"detail": [{"type": "missing", "loc": ["body", "data"]}]}))
    resp = predict(space_settings(space.url))
    assert resp.status_code == 502 and resp.json["code"] == "space_inputs_rejected"
    assert "LLAMA_DATA_ORDER" in resp.json["error"]


def test_answer_without_text_is_502(start_space):
    # GIVEN a Gradio 3.37 Space whose output is not text (an image component, say)
    space = start_space(FakeSpace.gradio3())
    space.override("run", Reply(json={"data": [{"path": "/tmp/x.png"}], "is_generating": False}))
    resp = predict(space_settings(space.url))
    assert resp.status_code == 502 and resp.json["code"] == "upstream_bad_response"


def test_hub_rate_limit_is_429_with_retry_after(start_space):
    space = start_space(FakeSpace.gradio4())
    space.override("call", Reply(429, json={"error": "rate limited"}, headers={"Retry-After": "7"}))
    resp = predict(space_settings(space.url))
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "7"


def test_private_space_rejecting_the_token(start_space):
    space = start_space(FakeSpace.gradio4())
    space.override("config", Reply(401, json={"error": "Invalid credentials in Authorization header"}))
    resp = predict(space_settings(space.url))
    assert resp.status_code == 502 and resp.json["code"] == "upstream_auth_failed"


def test_stream_that_ends_without_complete(start_space):
    space = start_space(FakeSpace.gradio4())
    space.override("events", EventStream([(0, HEARTBEAT)]))
    resp = predict(space_settings(space.url))
    assert resp.status_code == 502 and resp.json["code"] == "upstream_bad_response"


def test_unreachable_space_is_502():
    resp = predict(space_settings(refused_url().split("/hf-inference")[0]))
    assert resp.status_code == 502 and resp.json["code"] == "upstream_unreachable"


# --- timeouts: always inside the request deadline -----------------------------------------------
# Upper bounds are the deadline plus a generous slack (a loaded 2-core machine only makes answers
# later); each fault is built so that a missed deadline would answer far beyond that bound.
SLACK = 1.0


@pytest.mark.parametrize(
    ("events", "deadline"),
    [
        # heartbeats only, for 20 s: the deadline ends it, not the heartbeats
        pytest.param([(0.2, HEARTBEAT)] * 100, 1.5, id="heartbeats only"),
        # one heartbeat just before the deadline, then 10 s of silence: if only the timeout set when
        # the stream opened (~1.5 s) bounded each read, the read starting at ~1.4 s would end at ~2.9 s
        pytest.param([(1.4, HEARTBEAT), (10.0, HEARTBEAT)], 1.5, id="each read bounded"),
        # one heartbeat, then 30 s of nothing (more than the 20 s silence limit)
        pytest.param([(0, HEARTBEAT), (30, HEARTBEAT)], 1.0, id="silent past the limit"),
    ],
)
def test_a_gradio_event_stream_ends_at_the_deadline(start_space, events, deadline):
    # GIVEN a Gradio 4.44 Space whose event stream never finishes
    space = start_space(FakeSpace.gradio4())
    space.override("events", EventStream(events))
    started = time.monotonic()
    resp = predict(space_settings(space.url, request_deadline=deadline))
    # THEN 504 upstream_timeout by the deadline
    assert resp.status_code == 504 and resp.json["code"] == "upstream_timeout"
    assert time.monotonic() - started < deadline + SLACK


def test_slow_call_times_out(start_space):
    space = start_space(FakeSpace.gradio3())
    space.override("run", Reply(json={"data": ["late"]}, delay=5))
    started = time.monotonic()
    resp = predict(space_settings(space.url, request_deadline=1.0))
    assert resp.status_code == 504 and resp.json["code"] == "upstream_timeout"
    assert time.monotonic() - started < 1.0 + SLACK


def test_space_proxy_504_is_504(start_space):
    space = start_space(FakeSpace.contract())
    space.override("contract", Reply(504, body=b"Gateway Timeout", content_type="text/plain"))
    resp = predict(space_settings(space.url))
    assert resp.status_code == 504 and resp.json["code"] == "upstream_timeout"


# --- configuration and modes ---------------------------------------------------------------------


def test_demo_mode_answers_without_a_space():
    from shared.settings import Settings

    resp = predict(Settings(demo_mode=True), {"inputs": "hello"})
    assert resp.status_code == 200 and resp.headers["X-HFProxy-Mode"] == "demo"
    assert set(resp.json) == {"generated_text"} and resp.json["generated_text"].startswith("[demo]")


def test_no_space_configured_is_500():
    from shared.settings import Settings

    resp = predict(Settings(hf_token=TEST_TOKEN), {"inputs": "hello"})
    assert resp.status_code == 500 and "LLAMA_SPACE_URL" in resp.json["error"]


def test_health_reports_the_space_host_only():
    from shared.settings import Settings

    settings = Settings(hf_token=TEST_TOKEN, llama_space_url="https://owner-space.hf.space")
    resp = client_for(settings).get("/api/health")
    assert resp.json["upstreams"]["predict"] == {"configured": True, "host": "owner-space.hf.space"}
    unset = client_for(Settings(hf_token=TEST_TOKEN)).get("/api/health")
    assert unset.json["upstreams"]["predict"] == {"configured": False, "host": None}
