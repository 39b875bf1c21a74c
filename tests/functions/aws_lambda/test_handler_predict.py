"""POST /api/predict through lambda_handler, with the real HTTP API / REST API / Function URL events.

The Llama Space is the real current Gradio serving the seed Space's stand-in, and a loopback
Gradio 3.37 fake (tests/fakes/gradio_space.py): the same event gives the same answer.
"""

from __future__ import annotations

import json
from contextlib import ExitStack

import pytest

from functions.aws_lambda import handler
from tests.conftest import TEST_TOKEN, function_env
from tests.fakes import llama_space
from tests.fakes.gradio_space import FakeSpace
from tests.fakes.lambda_context import LambdaContext
from tests.functions.aws_lambda import events

BODY = {"inputs": "Is walking good for my knee?", "parameters": {"model": "llama-2-7b", "temperature": 1.2}}
EXPECTED = llama_space.expected("Is walking good for my knee?", "llama-2-7b", 500, 1.2)


@pytest.fixture
def lambda_env(monkeypatch):
    """GIVEN the function's environment, as template.yaml would set it, minus the Space URL."""
    with ExitStack() as configured:

        def configure(space_url: str) -> None:
            configured.enter_context(
                function_env(monkeypatch, LLAMA_SPACE_URL=space_url, ALLOWED_ORIGINS="https://app.example")
            )

        yield configure


def invoke(shape: str, payload) -> tuple[int, dict, dict]:
    event = events.load(
        shape,
        path="/api/predict",
        body=json.dumps(payload),
        headers={"content-type": "application/json", "origin": "https://app.example"},
    )
    resp = handler.lambda_handler(event, LambdaContext())
    headers = resp.get("headers") or {k: v[-1] for k, v in resp.get("multiValueHeaders", {}).items()}
    return resp["statusCode"], {k.lower(): v for k, v in headers.items()}, json.loads(resp["body"])


@pytest.mark.parametrize("shape", list(events.SHAPES))
def test_predict_through_each_event_shape_on_real_gradio(lambda_env, real_gradio, shape):
    # GIVEN the function pointed at a real Gradio Space
    lambda_env(real_gradio)
    # WHEN API Gateway / the Function URL delivers the browser's request
    status, headers, body = invoke(shape, BODY)
    # THEN the documented answer with CORS for the app's origin
    assert status == 200, body
    assert body == {"generated_text": EXPECTED}
    assert headers["access-control-allow-origin"] == "https://app.example"


def test_predict_through_lambda_on_gradio3(lambda_env, start_space):
    # GIVEN a Gradio 3.37-style Space THEN the same event gets the same answer, token attached
    space = start_space(FakeSpace.gradio3())
    lambda_env(space.url)
    status, _, body = invoke("http_api_v2", BODY)
    assert (status, body) == (200, {"generated_text": EXPECTED})
    assert space.received[-1].headers["authorization"] == f"Bearer {TEST_TOKEN}"


def test_sleeping_space_through_lambda(lambda_env, start_space):
    # GIVEN a sleeping Space THEN API Gateway gets the 503 envelope with Retry-After
    from tests.fakes.http_server import Reply

    space = start_space(FakeSpace.gradio4())
    space.override("config", Reply(503, body=b"<html>asleep</html>", content_type="text/html"))
    lambda_env(space.url)
    status, headers, body = invoke("rest_api_v1", BODY)
    assert status == 503 and body["code"] == "space_unavailable" and headers["retry-after"] == "30"
