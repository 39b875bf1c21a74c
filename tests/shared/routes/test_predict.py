"""POST /api/predict through the WSGI app: one browser contract, every Space protocol (its faults:
test_predict_faults.py).

Spaces are real HTTP servers on 127.0.0.1: loopback fakes per Gradio generation
(tests/fakes/gradio_space.py, each test names the version it stands for) and, for the current
protocol, the real ``gradio`` package serving the seed Space's stand-in.
"""

from __future__ import annotations

import pytest

from tests.conftest import TEST_TOKEN, client_for
from tests.fakes import llama_space
from tests.fakes.gradio_space import FakeSpace
from tests.fakes.http_server import Reply
from tests.fakes.space_fixtures import EXPECTED, PROMPT, predict, space_settings

FAKES = {
    "contract Space (seed's documented /api/predict)": FakeSpace.contract,
    "Gradio 3.37 (REST /run/predict)": FakeSpace.gradio3,
    "Gradio 4.44 (/call + SSE, no prefix)": FakeSpace.gradio4,
    "Gradio 5.x-style fake (/call under /gradio_api)": lambda: FakeSpace("5.49.1", prefix="/gradio_api"),
}


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
