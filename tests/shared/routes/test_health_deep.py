"""GET /api/health?deep=1: which routes are live, from a loopback Hub API and a loopback Space."""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import unquote

import pytest

from shared.routes import health_deep
from shared.setting_rules import DEFAULT_INFERENCE_URL
from shared.settings import Settings
from tests.conftest import TEST_TOKEN, client_for, post_json
from tests.fakes import hf_hub
from tests.fakes.gradio_space import FakeSpace
from tests.fakes.http_server import FakeServer, Reply, served

GPT2 = "openai-community/gpt2"
QWEN, LLAMA, OSS = "Qwen/Qwen2.5-7B-Instruct", "meta-llama/Llama-3.1-8B-Instruct", "openai/gpt-oss-20b"
TODAY = {  # gpt2 served for text generation, Qwen in the dict shape, Llama gated (list shape), oss absent
    GPT2: hf_hub.model_info(GPT2, hf_hub.served("text-generation", "hf-inference")),
    QWEN: hf_hub.model_info(QWEN, hf_hub.served("conversational", "together", "novita")),
    LLAMA: hf_hub.model_info(LLAMA, hf_hub.as_list(hf_hub.served("conversational", "cerebras")), gated="manual"),
    OSS: hf_hub.model_info(OSS, None),
}


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    health_deep.forget()
    yield
    health_deep.forget()


@pytest.fixture(scope="module")
def _hub_server() -> Iterator[FakeServer]:
    yield from served(FakeServer())


@pytest.fixture
def hub(_hub_server: FakeServer) -> Iterator[FakeServer]:
    """GIVEN a loopback Hub API answering today's mappings (TODAY), fresh for this test."""
    _hub_server.reset()
    _hub_server.default = hf_hub.hub(TODAY)
    yield _hub_server
    _hub_server.reset()


def deep_settings(hub: FakeServer, **changes) -> Settings:
    base = Settings(
        hf_token=TEST_TOKEN,
        hf_hub_url=hub.url,
        hf_inference_url=DEFAULT_INFERENCE_URL,  # the router URL: the model and provider come from it
        chat_models=(QWEN, LLAMA, OSS),
        chat_default_model=QWEN,
        request_deadline=5.0,
        deadline_margin=0.2,
    )
    return base.with_changes(**changes)


def deep(settings: Settings, client=None):
    resp = (client or client_for(settings)).get("/api/health?deep=1")
    assert resp.status_code == 200, resp.text
    return resp


def test_each_route_is_live_gated_or_not_served_as_the_hub_says(hub, start_space):
    # GIVEN the Hub's mappings of today, and a Gradio 6 Space whose one endpoint is named after its function
    space = start_space(FakeSpace("6.31.0", prefix="/gradio_api", api_name="ask_llama"))
    resp = deep(deep_settings(hub, llama_space_url=space.url))
    routes = resp.json["deep"]["routes"]
    # THEN gpt2 is live on the provider its URL names
    assert routes["generate"] == {
        "state": "live",
        "providers": ["hf-inference"],
        "model": GPT2,
        "provider": "hf-inference",
    }
    # AND the chat route is its default model's state, with every allowed model's own
    assert routes["chat"]["state"] == "live" and routes["chat"]["model"] == QWEN
    assert routes["chat"]["models"][QWEN] == {"state": "live", "providers": ["novita", "together"]}
    assert routes["chat"]["models"][LLAMA] == {
        "state": "gated",
        "providers": ["cerebras"],
        "reason": "licence_must_be_accepted",
    }
    assert routes["chat"]["models"][OSS] == {"state": "not_served", "providers": [], "reason": "no_live_provider"}
    # AND the Space is live, with the endpoint it would call
    assert routes["predict"] == {"state": "live", "gradio": "6.31.0", "api_name": "ask_llama", "host": "127.0.0.1"}
    # AND the Hub was asked as huggingface.js asks it, with the server's token
    first = hub.received[0]
    assert unquote(first.path.split("?")[1]) == "expand[]=inferenceProviderMapping&expand[]=gated"
    assert first.headers["authorization"] == f"Bearer {TEST_TOKEN}"
    assert TEST_TOKEN not in resp.text


@pytest.mark.parametrize(
    ("reply", "state", "reason"),
    [
        (hf_hub.model_info(GPT2, hf_hub.served("text-generation", "featherless-ai")), "not_served", None),
        (hf_hub.model_info(GPT2, hf_hub.served("conversational", "hf-inference")), "not_served", "no_live_provider"),
        (
            hf_hub.model_info(GPT2, hf_hub.served("text-generation", "hf-inference", status="staging")),
            "not_served",
            None,
        ),
        (Reply(404, json={"error": "Repository not found"}), "not_served", "model_not_found"),
        (Reply(401, json={"error": "Invalid credentials in Authorization header"}), "gated", "access_denied"),
        (Reply(403, json={"error": "Access to model is restricted"}), "gated", "access_denied"),
        (Reply(500, json={"error": "boom"}), "unknown", "hub_unavailable"),
        (Reply(200, body=b"<html>", content_type="text/html"), "unknown", "hub_bad_response"),
    ],
    ids=["other-provider", "other-task", "staging-only", "404", "401", "403", "500", "not-json"],
)
def test_generate_states(hub, reply, state, reason):
    # GIVEN the Hub answering one way for gpt2
    hub.default = hf_hub.hub({**TODAY, GPT2: reply})
    generate = deep(deep_settings(hub)).json["deep"]["routes"]["generate"]
    # THEN the state, and a reason in the proxy's own words
    assert generate["state"] == state
    if reason is None:
        assert generate["reason"] in ("not_served_by_hf-inference", "no_live_provider")
    else:
        assert generate["reason"] == reason


def test_a_dedicated_endpoint_is_not_asked_of_the_hub(hub):
    # GIVEN HF_INFERENCE_URL pointing at a dedicated Inference Endpoint
    settings = deep_settings(hub, hf_inference_url="https://abc123.us-east-1.aws.endpoints.huggingface.cloud")
    generate = deep(settings).json["deep"]["routes"]["generate"]
    # THEN unknown (the Hub does not list endpoints), and gpt2 was never looked up
    assert generate["state"] == "unknown" and generate["reason"] == "not_a_router_url"
    assert not any(GPT2 in r.path for r in hub.received)


def test_the_answer_is_cached_per_process(hub, monkeypatch):
    # GIVEN one deep check made
    settings = deep_settings(hub)
    client = client_for(settings)
    assert deep(settings, client).json["deep"]["cached"] is False
    asked = len(hub.received)
    # WHEN another comes before CACHE_SECONDS THEN it is the cached answer: the Hub is not asked again
    again = deep(settings, client).json["deep"]
    assert again["cached"] is True and len(hub.received) == asked
    # WHEN the cache has expired THEN the Hub is asked again
    later = time.monotonic() + health_deep.CACHE_SECONDS + 1
    monkeypatch.setattr(health_deep.time, "monotonic", lambda: later)
    assert deep(settings, client).json["deep"]["cached"] is False and len(hub.received) == 2 * asked


def test_an_unsure_answer_is_kept_only_briefly(hub, monkeypatch):
    # GIVEN a Hub failing for gpt2 (state unknown)
    hub.default = hf_hub.hub({**TODAY, GPT2: Reply(503, json={"error": "down"})})
    settings = deep_settings(hub)
    deep(settings)
    asked = len(hub.received)
    # WHEN UNSURE_CACHE_SECONDS have passed THEN it is asked again
    later = time.monotonic() + health_deep.UNSURE_CACHE_SECONDS + 1
    monkeypatch.setattr(health_deep.time, "monotonic", lambda: later)
    assert deep(settings).json["deep"]["cached"] is False and len(hub.received) > asked


def test_a_slow_hub_is_cut_at_the_request_deadline(hub):
    # GIVEN a Hub that takes 5 s to answer, and a 1 s request deadline
    hub.default = lambda req: Reply(json={}, delay=5.0)
    settings = deep_settings(hub, request_deadline=1.0)
    started = time.monotonic()
    routes = deep(settings).json["deep"]["routes"]
    # THEN the answer comes well before the Hub would have, every route unknown
    assert time.monotonic() - started < 4.0
    assert routes["generate"]["state"] == routes["chat"]["state"] == "unknown"
    assert routes["generate"]["reason"] in ("hub_timeout", "deadline")


def test_spend_limits_never_count_or_refuse_it(hub):
    # GIVEN a limit of one model request a minute
    client = client_for(deep_settings(hub, rate_limit_per_minute=1))
    # WHEN the deep check is asked three times THEN each is answered, none counted
    for _ in range(3):
        resp = deep(deep_settings(hub), client)
        assert "RateLimit" not in resp.headers
    health_deep.forget()
    assert client.get("/api/health?deep=1").status_code == 200


def test_the_hubs_text_never_reaches_the_answer(hub):
    # GIVEN a Hub whose answer carries the token and odd provider names
    odd = {TEST_TOKEN: {"status": "live", "task": "conversational"}, "<script>": {"status": "live", "task": "x"}}
    hub.default = hf_hub.hub({**TODAY, QWEN: hf_hub.model_info(QWEN, odd)})
    resp = deep(deep_settings(hub))
    # THEN neither is passed on
    assert TEST_TOKEN not in resp.text and "<script>" not in resp.text
    assert resp.json["deep"]["routes"]["chat"]["state"] == "not_served"


def test_plain_health_calls_nothing(hub):
    # GIVEN the plain health check WHEN asked THEN no upstream is called and there is no deep part
    resp = client_for(deep_settings(hub)).get("/api/health")
    assert resp.status_code == 200 and "deep" not in resp.json
    assert hub.received == []


def test_demo_mode_describes_itself_without_calling_anything(hub):
    resp = deep(deep_settings(hub, demo_mode=True, hf_token=None))
    routes = resp.json["deep"]["routes"]
    assert {r["state"] for r in routes.values()} == {"demo"}
    assert hub.received == []


def test_without_credentials_nothing_is_asked(hub):
    routes = deep(deep_settings(hub, hf_token=None)).json["deep"]["routes"]
    assert routes["generate"] == {"state": "unknown", "reason": "hf_credentials_not_set"}
    assert hub.received == []


@pytest.mark.parametrize(
    ("space", "override", "state", "reason"),
    [
        (
            FakeSpace("6.31.0", prefix="/gradio_api"),
            ("config", Reply(503, body=b"<html>", content_type="text/html")),
            "unknown",
            "space_unavailable",
        ),
        (
            FakeSpace("6.31.0", prefix="/gradio_api", other_endpoints=("lambda",)),
            None,
            "not_served",
            "space_api_name_ambiguous",
        ),
        (
            FakeSpace("6.31.0", prefix="/gradio_api"),
            ("config", Reply(401, json={"error": "Unauthorized"})),
            "gated",
            "upstream_auth_failed",
        ),
        (FakeSpace.contract(), None, "unknown", "not_gradio"),
    ],
    ids=["asleep", "several-endpoints", "private-refused", "contract"],
)
def test_space_states(hub, start_space, space, override, state, reason):
    # GIVEN a Space in one state
    start_space(space)
    if override:
        space.override(*override)
    predict = deep(deep_settings(hub, llama_space_url=space.url)).json["deep"]["routes"]["predict"]
    # THEN its state and reason; the Space's function was never called
    assert (predict["state"], predict["reason"]) == (state, reason)
    assert not any(p.startswith("POST") for p in space.paths())


def test_a_named_endpoint_the_space_does_not_list_is_not_served(hub, start_space):
    space = start_space(FakeSpace("6.31.0", prefix="/gradio_api", api_name="ask_llama"))
    settings = deep_settings(hub, llama_space_url=space.url, llama_space_api_name="predict")
    predict = deep(settings).json["deep"]["routes"]["predict"]
    assert predict["state"] == "not_served" and predict["reason"] == "space_api_name_unknown"


def test_openapi_describes_the_deep_parameter():
    doc = client_for(Settings(demo_mode=True)).get("/api/openapi.json").json
    params = doc["paths"]["/api/health"]["get"]["parameters"]
    assert [p["name"] for p in params] == ["deep"] and params[0]["in"] == "query"


def test_model_routes_still_refuse_with_the_spend_limit(hub, upstream):
    # GIVEN the same limit: the model routes are counted as before (the deep check changed nothing there)
    settings = deep_settings(hub, rate_limit_per_minute=1, hf_inference_url=upstream.url + "/hf-inference/models/x")
    client = client_for(settings)
    assert post_json(client, "/api/generate", {"inputs": "a"}).status_code == 200
    assert post_json(client, "/api/generate", {"inputs": "a"}).status_code == 429


def test_the_docs_quote_the_cache_times_the_code_uses():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[3] / "docs" / "api.md").read_text()
    assert f"**{health_deep.CACHE_SECONDS:.0f} s**" in doc
    assert f"**{health_deep.UNSURE_CACHE_SECONDS:.0f} s**" in doc


def test_a_pinned_chat_provider_must_be_the_one_serving_and_a_policy_pins_none(hub):
    # GIVEN CHAT_MODELS pinning Qwen to groq (the Hub lists together and novita) and a :fastest policy
    pinned, policy = f"{QWEN}:groq", f"{QWEN}:fastest"
    settings = deep_settings(hub, chat_models=(pinned, policy), chat_default_model=policy)
    models = deep(settings).json["deep"]["routes"]["chat"]["models"]
    # THEN the pinned one is not served by groq; the policy one is live; the Hub was asked for the repository
    assert models[pinned]["state"] == "not_served" and models[pinned]["reason"] == "not_served_by_groq"
    assert models[policy]["state"] == "live"
    assert all(":" not in r.path.split("?")[0] for r in hub.received)
